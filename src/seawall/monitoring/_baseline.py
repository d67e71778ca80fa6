"""The causal seasonal baseline and robust scale: one recursion, vectorised over series.

The model of each series is additive, ``y_t = level + season[t mod period] + noise``,
smoothed as in Holt–Winters but robustly (Gelper, Fried and Croux, 2010): the
one-step-ahead residual ``r_t = y_t - (level + season[phase])`` is standardised by
the current scale ``s``, clipped to ``[-clip, clip]`` (Huber's psi) and only then
used to update the state::

    c      = s * clip(r / s, -clip, clip)
    level += level_rate * c
    season[phase] += season_rate * (1 - level_rate) * c
    s^2    = (1 - scale_rate) * s^2 + scale_rate * s^2 * min((r / s)^2, clip^2) / kappa

``kappa = E[min(Z^2, clip^2)]`` for a standard normal ``Z`` makes ``s`` a Gaussian
standard deviation. A spike therefore moves the state by at most ``clip`` scales
times a small rate (the baseline is not contaminated); a lasting level shift keeps
every residual clipped, which inflates the scale geometrically and lets the level
walk to the new value, after which it is the new normal. A missing value (NaN)
leaves the state unchanged. Each step touches O(1) numbers per series (the level,
the scale and one seasonal slot), which is what a streaming form keeps.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from seawall.monitoring._robust import MAD_TO_SIGMA, row_median

__all__ = ["BaselineState", "huber_kappa", "initial_state", "run_baseline"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

# The scale never drops below this share of the series' typical magnitude (plus an
# absolute floor), so a constant series gets a tiny but positive scale: staying
# constant scores 0, and any change from it scores as far out as the data allow.
_REL_FLOOR = 1e-9
_ABS_FLOOR = 1e-12


@dataclass(frozen=True, slots=True)
class BaselineState:
    """The recursion's state for every series (the arrays are updated in place).

    Attributes
    ----------
    level : ndarray of float64, shape (n_series,)
        The deseasonalised level.
    season : ndarray of float64, shape (n_series, max_period)
        The seasonal offsets; a series with period ``P`` uses its first ``P`` slots.
    scale : ndarray of float64, shape (n_series,)
        The robust scale of the one-step-ahead residual.
    floor : ndarray of float64, shape (n_series,)
        The smallest scale allowed.
    """

    level: FloatArray
    season: FloatArray
    scale: FloatArray
    floor: FloatArray


def huber_kappa(clip: float) -> float:
    """``E[min(Z^2, clip^2)]`` for a standard normal ``Z``.

    Parameters
    ----------
    clip : float
        The clipping point, in standard deviations.

    Returns
    -------
    float
        The expectation; dividing a clipped mean square by it estimates a variance.

    Examples
    --------
    >>> round(huber_kappa(2.0), 4)
    0.9205
    """
    pdf = math.exp(-0.5 * clip * clip) / math.sqrt(2 * math.pi)
    tail = 0.5 * math.erfc(clip / math.sqrt(2))  # P(Z > clip)
    return (1 - 2 * tail) - 2 * clip * pdf + 2 * clip * clip * tail


def initial_state(X: FloatArray, periods: IntArray) -> BaselineState:
    """Robust starting state from the first steps of every series.

    The level is the median, each seasonal slot the median of its phase's
    deviations from it (re-centred to mean zero), the scale the MAD of what is left.
    Series are grouped by period, so the work is vectorised within each group.

    Parameters
    ----------
    X : ndarray of float64, shape (n_series, n_init)
        The learning steps, NaN where missing; each row has at least one value.
    periods : ndarray of int64, shape (n_series,)
        The period of each series (``1`` for none).

    Returns
    -------
    BaselineState
        The state before step 0.

    Examples
    --------
    >>> st = initial_state(np.array([[0.0, 2.0, 0.0, 2.0, 0.0, 2.0]]), np.array([2]))
    >>> st.level.tolist(), st.season.tolist()
    ([1.0], [[-1.0, 1.0]])
    """
    n_series, n_init = X.shape
    level = row_median(X)
    p_max = int(periods.max())
    season = np.zeros((n_series, p_max))
    scale = np.zeros(n_series)
    for p in np.unique(periods):  # a few distinct periods, not one pass per series
        rows = np.flatnonzero(periods == p)
        D = X[rows] - level[rows, None]
        if p > 1:
            n_cycles = -(-n_init // p)
            padded = np.full((rows.size, n_cycles * p), np.nan)
            padded[:, :n_init] = D
            cycles = padded.reshape(rows.size, n_cycles, p).transpose(0, 2, 1)
            with warnings.catch_warnings():
                # A phase never observed has no median; it starts at 0 below.
                warnings.simplefilter("ignore", RuntimeWarning)
                med = np.nanmedian(cycles, axis=2)
            med = np.where(np.isnan(med), 0.0, med)
            shift = med.mean(axis=1)
            med -= shift[:, None]
            level[rows] += shift
            season[rows, :p] = med
            D = D - shift[:, None] - np.tile(med, -(-n_init // p))[:, :n_init]
        scale[rows] = MAD_TO_SIGMA * row_median(np.abs(D - row_median(D)[:, None]))
        # Many equal values (counts that are mostly 0) make the MAD 0: fall back to
        # the mean absolute deviation, a Gaussian sigma after the sqrt(pi/2) factor.
        mean_abs = math.sqrt(math.pi / 2) * np.nanmean(np.abs(D), axis=1)
        scale[rows] = np.where(scale[rows] > 0, scale[rows], mean_abs)
    floor = _REL_FLOOR * np.maximum(np.abs(level), 1.0) + _ABS_FLOOR
    scale = np.maximum(np.nan_to_num(scale), floor)
    return BaselineState(level=level, season=season, scale=scale, floor=floor)


def run_baseline(
    Xt: FloatArray,
    periods: IntArray,
    state: BaselineState,
    *,
    level_rate: float,
    season_rate: float,
    scale_rate: float,
    clip: float,
) -> tuple[FloatArray, FloatArray]:
    """Run the robust recursion over every step; vectorised over series.

    Time-major on purpose: each step reads and writes contiguous rows. The kernel
    assumes valid input: rates in [0, 1), ``clip > 0``, periods ``>= 1`` that fit
    ``state.season``. ``state`` ends as the state after the last step (what a
    streaming detector would carry on with).

    Parameters
    ----------
    Xt : ndarray of float64, shape (n_steps, n_series)
        The series, one column each, NaN where missing.
    periods : ndarray of int64, shape (n_series,)
        The period of each series; the phase of step ``t`` is ``t mod period``.
    state : BaselineState
        The state before step 0 (updated in place).
    level_rate, season_rate, scale_rate : float
        The smoothing rates of the level, the seasonal slots and the scale.
    clip : float
        Residuals are clipped at this many scales before they update the state.

    Returns
    -------
    baselines : ndarray of float64, shape (n_steps, n_series)
        The one-step-ahead baseline of each step (from steps before it).
    scales : ndarray of float64, shape (n_steps, n_series)
        The scale in force at each step (from steps before it).

    Examples
    --------
    >>> X = np.array([[1.0, 1.2, 0.8, 1.0, 9.0, 1.1]])
    >>> st = initial_state(X[:, :4], np.array([1]))
    >>> base, scale = run_baseline(X.T.copy(), np.array([1]), st, level_rate=0.1,
    ...                            season_rate=0.0, scale_rate=0.05, clip=2.0)
    >>> bool(abs(base[5, 0] - 1.0) < 0.1)  # the spike at step 4 barely moved it
    True
    """
    n_steps, n_series = Xt.shape
    p_max = state.season.shape[1]
    level, floor = state.level, state.floor
    # The seasonal slot read at step t is the one written at step t - period: a
    # delay line ``hist`` whose first p_max rows hold the starting slots. Each step
    # then reads with one gather and writes one contiguous row.
    hist = np.empty((p_max + n_steps, n_series))
    ph = np.arange(p_max)
    start_rows = p_max - periods[None, :] + ph[:, None]
    cols = np.broadcast_to(np.arange(n_series), start_rows.shape)
    fits = ph[:, None] < periods[None, :]
    hist[start_rows[fits], cols[fits]] = state.season.T[fits]
    flat = hist.reshape(-1)
    read = (p_max - periods)[None, :] + np.arange(n_steps)[:, None]
    read *= n_series
    read += np.arange(n_series)[None, :]
    missing: BoolArray = np.isnan(Xt)
    any_missing = np.asarray(missing.any(axis=1), dtype=bool)
    rate_s = np.where(periods > 1, season_rate * (1 - level_rate), 0.0)
    shrink = 1.0 - scale_rate
    grow = scale_rate / huber_kappa(clip)
    base_t = np.empty((n_steps, n_series))
    scale_t = np.empty((n_steps + 1, n_series))
    scale_t[0] = state.scale
    z = np.empty(n_series)
    c = np.empty(n_series)
    for t in range(n_steps):
        seas = np.take(flat, read[t])
        base = base_t[t]
        scale = scale_t[t]
        np.add(level, seas, out=base)
        np.subtract(Xt[t], base, out=z)
        z /= scale
        np.minimum(z, clip, out=z)
        np.maximum(z, -clip, out=z)
        if any_missing[t]:
            np.copyto(z, 0.0, where=missing[t])  # a missing step moves nothing
        np.multiply(z, scale, out=c)
        np.multiply(c, rate_s, out=hist[p_max + t])
        hist[p_max + t] += seas
        c *= level_rate
        level += c
        # s^2 <- s^2 ((1 - rate) + rate * z_c^2 / kappa)
        z *= z
        z *= grow
        z += shrink
        if any_missing[t]:
            np.copyto(z, 1.0, where=missing[t])
        np.sqrt(z, out=z)
        np.multiply(scale, z, out=scale_t[t + 1])
        np.maximum(scale_t[t + 1], floor, out=scale_t[t + 1])
    state.scale[:] = scale_t[n_steps]
    # The final slots: the last ``period`` rows written, by phase.
    last = p_max + n_steps - periods[None, :] + ph[:, None]
    phase = (n_steps - periods[None, :] + ph[:, None]) % periods[None, :]
    state.season[cols[fits], phase[fits]] = hist[last[fits], cols[fits]]
    return base_t, scale_t[:n_steps]
