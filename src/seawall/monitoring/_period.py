"""Seasonal period detection over many series at once, by autocorrelation.

Each series is robustly detrended (Tukey's resistant line), centred on its median,
winsorised at four robust standard deviations and its gaps filled with zero; the
autocorrelation of every series comes from one FFT over the matrix, normalised by
the number of observed pairs at each lag (so missing values do not bias it). A lag
is a *candidate* period when it is a local maximum of the autocorrelation that is
both significant (above ``max(min_acf, z / sqrt(n_pairs))``) and prominent (above
the lowest autocorrelation at any shorter lag by ``min_acf``). Among candidates the
strongest wins, then gives way to the shortest candidate that divides it and is
nearly as strong (so a daily season is not reported as its weekly multiple unless
the week adds structure of its own); the choice is refined to the integer lag
whose multiples line up best.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from scipy import fft

from seawall._validation import check_real
from seawall.monitoring._inputs import to_matrix
from seawall.monitoring._robust import row_mad, row_median

__all__ = ["detect_period", "period_candidates"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

# z for the significance of one autocorrelation: with about n / 2 lags tested per
# series, 5 standard errors keep the chance of a spurious season on white noise small.
_Z = 5.0
# a divisor of the strongest lag is preferred when its autocorrelation is at least
# this share of the strongest one.
_HARMONIC_SHARE = 0.9


def detect_period(
    values: object,
    *,
    max_period: int | None = None,
    min_period: int = 2,
    min_acf: float = 0.2,
) -> IntArray:
    """Detect the seasonal period of every series of a matrix, without being told.

    Parameters
    ----------
    values : array-like of shape (n_series, n_steps)
        One series per row; NaN marks a missing value.
    max_period : int or None, default=None
        The longest period considered; ``None`` means ``n_steps // 2`` (a season
        must repeat at least twice to be seen).
    min_period : int, default=2
        The shortest period considered.
    min_acf : float, default=0.2
        The smallest autocorrelation (share of variance explained by the season,
        roughly) and prominence for a lag to count as a season.

    Returns
    -------
    ndarray of int64, shape (n_series,)
        The period of each series in steps; ``1`` means no season was found (or the
        series has too few observed values to tell).

    Raises
    ------
    DataValidationError
        When ``values`` is not a numeric matrix.
    InvalidParameterError
        When a parameter is out of range.

    See Also
    --------
    seawall.monitoring.detect : uses it on each series' warm-up window.

    References
    ----------
    .. [1] Vlachos, Yu and Castelli, "On periodicity detection and structural
       periodic similarity", SIAM SDM 2005 (autocorrelation candidates).
    .. [2] Tukey, "Exploratory Data Analysis", 1977 (the resistant line).

    Examples
    --------
    >>> import numpy as np
    >>> t = np.arange(400)
    >>> rng = np.random.default_rng(0)
    >>> X = np.vstack([np.sin(2 * np.pi * t / 24), np.zeros(400)]) + rng.normal(0, .3, (2, 400))
    >>> detect_period(X).tolist()
    [24, 1]
    """
    caller = "detect_period"
    X = to_matrix(values, "values", caller)
    n_steps = X.shape[1]
    lo = int(check_real(min_period, "min_period", caller, low=2, integer=True))
    if max_period is None:
        hi = n_steps // 2
    else:
        hi = int(check_real(max_period, "max_period", caller, low=lo, integer=True))
        hi = min(hi, n_steps // 2)
    share = check_real(min_acf, "min_acf", caller, low=0, high=1, low_open=True, high_open=True)
    return period_kernel(X, min_period=lo, max_period=hi, min_acf=share)


def period_kernel(X: FloatArray, *, min_period: int, max_period: int, min_acf: float) -> IntArray:
    """Detect periods; the kernel behind :func:`detect_period` (inputs assumed valid).

    Parameters
    ----------
    X : ndarray of float64, shape (n_series, n_steps)
        The series, NaN where missing.
    min_period, max_period : int
        The lags searched (``max_period < min_period + 1`` finds no season).
    min_acf : float
        The significance and prominence floor.

    Returns
    -------
    ndarray of int64, shape (n_series,)
        Periods, ``1`` for no season.

    Examples
    --------
    >>> period_kernel(np.tile([0.0, 1.0, 0.0, -1.0], (1, 25)), min_period=2, max_period=50,
    ...               min_acf=0.2).tolist()
    [4]
    """
    return _period_search(
        X, min_period=min_period, max_period=max_period, min_acf=min_acf, n_top=0
    )[0]


def period_candidates(
    X: FloatArray, *, min_period: int, max_period: int, min_acf: float, n_top: int = 3
) -> IntArray:
    """The seasonal periods worth trying per series: none, the detected one, the strongest.

    :func:`period_kernel` picks one lag by autocorrelation rules; a long lag can
    win on a drifting series (autocorrelation stays high at every lag) and a
    weekly season can lose to its daily divisor. These candidates are compared
    on forecasts instead (:func:`seawall.monitoring._stream.select_period`).

    Parameters
    ----------
    X : ndarray of float64, shape (n_series, n_steps)
        The series, NaN where missing.
    min_period, max_period : int
        The lags searched.
    min_acf : float
        The significance and prominence floor.
    n_top : int, default=3
        How many of the strongest candidate lags to add.

    Returns
    -------
    ndarray of int64, shape (n_series, 2 + n_top)
        Column 0 is ``1`` (no season), column 1 :func:`period_kernel`'s choice,
        then the strongest lags (``1`` where there are fewer).

    Examples
    --------
    >>> t = np.arange(400)
    >>> period_candidates(np.sin(2 * np.pi * t / 24)[None, :], min_period=2, max_period=200,
    ...                   min_acf=0.2, n_top=2).tolist()
    [[1, 24, 24, 48]]
    """
    return _period_search(
        X, min_period=min_period, max_period=max_period, min_acf=min_acf, n_top=n_top
    )[1]


def _period_search(
    X: FloatArray, *, min_period: int, max_period: int, min_acf: float, n_top: int
) -> tuple[IntArray, IntArray]:
    """The periods of :func:`period_kernel` and, per series, the candidates to try.

    Returns ``(periods, candidates)``; ``candidates`` has shape
    ``(n_series, 2 + n_top)``: no season (``1``), the rule's choice, then the
    ``n_top`` strongest candidate lags by autocorrelation, each snapped to a
    multiple of the base beat when it lies within a step per cycle of one (``1``
    fills the places of series with fewer candidates).
    """
    n_series = X.shape[0]
    out = np.ones(n_series, dtype=np.int64)
    cands = np.ones((n_series, 2 + n_top), dtype=np.int64)
    if max_period < min_period + 1:
        return out, cands
    r, n_pairs = _autocorrelation(_prepare(X), max_period + 1)
    lags = np.arange(r.shape[1])
    with np.errstate(invalid="ignore", divide="ignore"):
        floor = np.maximum(min_acf, _Z / np.sqrt(n_pairs))
    trough = np.fmin.accumulate(np.where(np.isnan(r), np.inf, r), axis=1)
    inner = r[:, 1:-1]
    peak = np.zeros_like(r, dtype=bool)
    peak[:, 1:-1] = (inner > r[:, :-2]) & (inner >= r[:, 2:])
    cand = (
        peak & (lags >= min_period) & (lags <= max_period) & (r > floor) & (r - trough >= min_acf)
    )
    found = cand.any(axis=1)
    if not found.any():
        return out, cands
    rc = np.where(cand, r, -np.inf)
    best = np.argmax(rc, axis=1)
    r_best = rc[np.arange(n_series), best]
    # A lag divides the strongest one when its m-th multiple lands within m steps of
    # it: a peak can sit a step off the true period, and the error grows by cycle.
    safe = np.maximum(lags, 1)
    multiple = np.maximum(np.round(best[:, None] / safe), 1)
    divides = cand & (np.abs(best[:, None] - multiple * safe) <= multiple)
    # The shortest dividing candidate nearly as strong as the strongest lag wins: it
    # explains the same structure with fewer phases (daily, not its weekly multiple).
    strong = divides & (r >= _HARMONIC_SHARE * r_best[:, None])
    choice = np.argmax(strong, axis=1)
    # The shortest dividing candidate of all is the base beat: refined where its
    # multiples line up best, and the choice is snapped to an exact multiple of it
    # (a weekly season is seven exact days, even when its own peak sits a step off).
    base = _refine(r, np.argmax(divides, axis=1), max_period)
    refined = np.maximum(np.round(choice / base), 1).astype(np.int64) * base
    out[found] = refined[found]
    cands[:, 1] = out
    if n_top:
        order = np.argsort(-rc, axis=1, kind="stable")[:, :n_top]
        r_top = np.take_along_axis(rc, order, axis=1)
        beat = base[:, None]
        snapped = np.maximum(np.round(order / beat), 1).astype(np.int64) * beat
        near = np.abs(snapped - order) <= np.maximum(1, order // beat)
        lag = np.minimum(np.where(near, snapped, order), max_period)
        has = np.asarray(found, dtype=bool)[:, None]
        cands[:, 2:] = np.where(np.isfinite(r_top) & has, lag, 1)
    return out, cands


def _prepare(X: FloatArray) -> FloatArray:
    """Detrend, centre and winsorise every series (NaN stays NaN)."""
    n_steps = X.shape[1]
    third = max(n_steps // 3, 1)
    first = row_median(X[:, :third])
    last = row_median(X[:, n_steps - third :])
    # Tukey's resistant line through the medians of the first and last thirds.
    slope = (last - first) / max(n_steps - third, 1)
    slope = np.where(np.isfinite(slope), slope, 0.0)
    t = np.arange(n_steps) - (third - 1) / 2
    E = X - slope[:, None] * t[None, :]
    center = row_median(E)
    E -= np.where(np.isfinite(center), center, 0.0)[:, None]
    mad = row_mad(E, np.zeros(X.shape[0]))
    limit = np.where(np.isfinite(mad), 4.0 * mad, 0.0)[:, None]
    return np.asarray(np.clip(E, -limit, limit), dtype=np.float64)


def _autocorrelation(E: FloatArray, n_lags: int) -> tuple[FloatArray, FloatArray]:
    """Autocorrelation at lags ``0 .. n_lags - 1`` over observed pairs, by FFT.

    Returns the correlations (NaN where fewer than 3 pairs or no variance) and the
    number of observed pairs at each lag.
    """
    observed = ~np.isnan(E)
    filled = np.where(observed, E, 0.0)
    # Lags below n_lags wrap around only past n + n_lags - 1: no need for 2n.
    n_fft = fft.next_fast_len(E.shape[1] + n_lags, real=True)
    spec = fft.rfft(filled, n_fft, axis=1)
    acov = fft.irfft(spec.real**2 + spec.imag**2, n_fft, axis=1)[:, :n_lags]
    if observed.all():
        pairs = np.broadcast_to(E.shape[1] - np.arange(n_lags, dtype=np.float64), acov.shape)
    else:
        mspec = fft.rfft(observed.astype(np.float64), n_fft, axis=1)
        pairs = np.rint(fft.irfft(mspec.real**2 + mspec.imag**2, n_fft, axis=1)[:, :n_lags])
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_cov = acov / pairs
        r = mean_cov / mean_cov[:, :1]
    r[(pairs < 3) | ~np.isfinite(r)] = np.nan
    pairs = np.asarray(pairs)
    return r, pairs


def _refine(r: FloatArray, choice: IntArray, max_period: int) -> IntArray:
    """Move each chosen lag by up to two steps to where its multiples correlate best.

    A broad autocorrelation peak can sit a step off the true period; the mean
    autocorrelation over the multiples ``P, 2P, ...`` is sharper, because an error
    of one step grows to ``m`` steps at the ``m``-th multiple.
    """
    n_series, n_lags = r.shape
    offsets = np.arange(-2, 3)
    periods = np.maximum(choice[:, None] + offsets[None, :], 2)  # (n, 5)
    mult = np.arange(1, max(max_period // 2, 1) + 1)
    idx = periods[:, :, None] * mult[None, None, :]  # (n, 5, m)
    inside = idx <= max_period
    vals = np.take_along_axis(
        np.where(np.isnan(r), 0.0, r)[:, None, :].repeat(1, axis=1),
        np.minimum(idx, n_lags - 1).reshape(n_series, 1, -1),
        axis=2,
    ).reshape(idx.shape)
    # Use only the multiples that every offset can reach, so the means are comparable.
    reach = inside.all(axis=1, keepdims=True)
    count = reach.sum(axis=2)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(reach, vals, 0.0).sum(axis=2) / count
    mean = np.where(count > 0, mean, -np.inf)
    # Ties keep the original choice (offset 0 sits in the middle).
    mean[:, 2] += 1e-12
    return np.asarray(periods[np.arange(n_series), np.argmax(mean, axis=1)], dtype=np.int64)
