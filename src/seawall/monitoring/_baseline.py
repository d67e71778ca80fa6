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
the scale and one seasonal slot): :func:`baseline_step` is that step, shared by the
batch and the streaming form.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from seawall.monitoring._robust import MAD_TO_SIGMA, row_median

__all__ = ["BaselineState", "Rates", "baseline_step", "huber_kappa", "initial_state"]

FloatArray = npt.NDArray[np.float64]
Float32Array = npt.NDArray[np.float32]
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
    season : ndarray of float32, shape (n_series, max_period)
        The seasonal offsets; a series with period ``P`` uses its first ``P`` slots.
        Single precision halves the largest part of a streaming state (168 weekly
        slots take 672 bytes); the offsets are rounded to about 7 significant
        digits of the seasonal swing, far below any noise scale in practice.
    scale : ndarray of float64, shape (n_series,)
        The robust scale of the one-step-ahead residual.
    floor : ndarray of float64, shape (n_series,)
        The smallest scale allowed.
    """

    level: FloatArray
    season: Float32Array
    scale: FloatArray
    floor: FloatArray


@dataclass(frozen=True, slots=True)
class Rates:
    """The constants of one step of the recursion (see the module docstring).

    Attributes
    ----------
    level : float
        ``level_rate``.
    season : ndarray of float64, shape (n_series,)
        ``season_rate * (1 - level_rate)``, and 0 for a series without season.
    shrink, grow : float
        ``1 - scale_rate`` and ``scale_rate / kappa``.
    clip : float
        Huber's clipping constant, in scales.
    """

    level: float
    season: FloatArray
    shrink: float
    grow: float
    clip: float

    @classmethod
    def make(
        cls,
        n_series: int,
        level_rate: float,
        season_rate: float,
        scale_rate: float,
        clip: float,
        periods: IntArray,
    ) -> Rates:
        """Derive the constants from the user-facing rates.

        Parameters
        ----------
        n_series : int
            The number of series.
        level_rate, season_rate, scale_rate, clip : float
            As in :func:`seawall.monitoring.detect`.
        periods : ndarray of int64, shape (n_series,)
            The period of each series (``1`` for none).

        Returns
        -------
        Rates
            The constants.

        Examples
        --------
        >>> Rates.make(2, 0.5, 0.2, 0.1, 2.0, np.array([1, 3])).season.tolist()
        [0.0, 0.1]
        """
        season = np.where(periods[:n_series] > 1, season_rate * (1 - level_rate), 0.0)
        return cls(
            level=level_rate,
            season=season,
            shrink=1.0 - scale_rate,
            grow=scale_rate / huber_kappa(clip),
            clip=clip,
        )


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


def _noise_residuals(D: FloatArray, seen: IntArray, X: FloatArray) -> FloatArray:
    """Residuals from seasonal slots fitted on the same steps, without those that are zero.

    A slot fitted on one value has a residual of exactly 0 there: it says
    nothing about the noise, and when many slots are seen once (a warm-up half
    not much longer than a period) those zeros drag the MAD, hence the starting
    scale, to nearly 0. Such residuals are dropped. (Slots seen ``m >= 2`` times
    shrink their residuals by about ``sqrt((m - 1) / m)``; that is left to the
    recursion, which corrects the scale as it goes.) A row left with no
    residual (every slot seen once) gets the first differences of its values
    over ``sqrt(2)`` instead, which a smooth season inflates only a little: a
    scale that starts too large is safe, one that starts near zero clips every
    later step at ``clip`` scales and freezes the baseline.

    Examples
    --------
    >>> D = np.array([[0.0, 0.5, -0.5, 0.0], [0.0, 0.0, 0.0, 0.0]])
    >>> seen = np.array([[1, 2, 2, 1], [1, 1, 1, 1]])
    >>> X = np.array([[1.0, 2.0, 3.0, 4.0], [1.0, 3.0, 1.0, 3.0]])
    >>> _noise_residuals(D, seen, X).round(3).tolist()
    [[nan, 0.5, -0.5, nan], [1.414, -1.414, 1.414, nan]]
    """
    out = np.where(seen >= 2, D, np.nan)
    empty = np.isnan(out).all(axis=1)
    if empty.any():  # n_init columns of residuals, n_init - 1 differences
        out[np.ix_(empty, np.arange(out.shape[1] - 1))] = np.diff(X[empty], axis=1) / math.sqrt(2)
    return out


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
    >>> st.level.tolist(), st.season.tolist()  # season in float32
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
            D = D - shift[:, None] - np.tile(med, n_cycles)[:, :n_init]
            seen = np.tile((~np.isnan(cycles)).sum(axis=2), n_cycles)[:, :n_init]
            D = _noise_residuals(D, seen, X[rows])
        scale[rows] = MAD_TO_SIGMA * row_median(np.abs(D - row_median(D)[:, None]))
        # Many equal values (counts that are mostly 0) make the MAD 0: fall back to
        # the mean absolute deviation, a Gaussian sigma after the sqrt(pi/2) factor.
        mean_abs = math.sqrt(math.pi / 2) * np.nanmean(np.abs(D), axis=1)
        scale[rows] = np.where(scale[rows] > 0, scale[rows], mean_abs)
    floor = _REL_FLOOR * np.maximum(np.abs(level), 1.0) + _ABS_FLOOR
    scale = np.maximum(np.nan_to_num(scale), floor)
    return BaselineState(level=level, season=season.astype(np.float32), scale=scale, floor=floor)


def baseline_step(
    x: FloatArray,
    missing: BoolArray | None,
    state: BaselineState,
    slots: IntArray,
    rates: Rates,
    base: FloatArray,
    a: FloatArray,
    *,
    learn: bool = True,
) -> None:
    """Advance the robust recursion by one step for every series, in place.

    The one tick of the recursion that :func:`seawall.monitoring.detect` loops over
    and a streaming detector calls once per arriving step; the kernel assumes valid
    input. It writes the step's baseline and standardised absolute residual, then
    updates ``state`` (level, the seasonal slot in use and the scale).

    Parameters
    ----------
    x : ndarray of float64, shape (n_series,)
        The step's values; a missing value (see ``missing``) moves nothing.
    missing : ndarray of bool, shape (n_series,), or None
        Where ``x`` is NaN; ``None`` when nothing is missing.
    state : BaselineState
        The state before the step (updated in place).
    slots : ndarray of intp, shape (n_series,)
        The flat index into ``state.season`` of each series' slot for this step,
        ``row * max_period + step mod period``.
    rates : Rates
        The smoothing constants.
    base : ndarray of float64, shape (n_series,)
        Output: the one-step-ahead baseline ``level + season[phase]``.
    a : ndarray of float64, shape (n_series,)
        Output: ``|x - base| / scale`` (NaN where missing), the residual to score.
    learn : bool, default=True
        Update ``state``; ``False`` only writes ``base`` and ``a`` (a pure score).

    Examples
    --------
    >>> st = initial_state(np.array([[1.0, 1.2, 0.8, 1.0]]), np.array([1]))
    >>> rates = Rates.make(1, 0.1, 0.0, 0.05, 2.0, np.array([1]))
    >>> base, a = np.empty(1), np.empty(1)
    >>> baseline_step(np.array([9.0]), None, st, np.array([0]), rates, base, a)
    >>> base.tolist(), bool(st.level[0] < 1.1)  # the spike barely moved the level
    ([1.0], True)
    """
    level, scale, season = state.level, state.scale, state.season.reshape(-1)
    seas = season.take(slots)
    np.add(level, seas, out=base)
    np.subtract(x, base, out=a)
    z = a / scale
    np.abs(z, out=a)
    if not learn:
        return
    np.clip(z, -rates.clip, rates.clip, out=z)
    if missing is not None:
        np.copyto(z, 0.0, where=missing)  # a missing step moves nothing
    c = z * scale
    # The slot is stored in the season's precision (float32): the batch and the
    # stream both round here, so they stay equal.
    season[slots] = rates.season * c + seas
    c *= rates.level
    level += c
    # s^2 <- s^2 ((1 - rate) + rate * z_c^2 / kappa)
    z *= z
    z *= rates.grow
    z += rates.shrink
    if missing is not None:
        np.copyto(z, 1.0, where=missing)
    np.sqrt(z, out=z)
    scale *= z
    np.maximum(scale, state.floor, out=scale)
