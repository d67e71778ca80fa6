"""What a model put out per window: volume, positive-decision rate, score distribution.

Volume gets the exact Poisson (Garwood) interval of a count; the positive rate
Wilson's interval; the score mean Student's t interval from the exact sums; and
the score quantiles (10th, 50th, 90th percentiles, numpy's linear
interpolation) the distribution-free order-statistic interval, read off the
score sketch.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
from scipy import stats

from seawall.metrics._intervals import mean_interval
from seawall.monitoring._points import PointsBuilder, masked
from seawall.monitoring._score_sketch import ScoreSketch
from seawall.monitoring._window_state import WindowState

__all__ = ["QUANTILES", "output_points", "poisson_interval", "sketch_quantiles"]

FloatArray = npt.NDArray[np.float64]
IdxArray = npt.NDArray[np.intp]

#: The score quantiles reported, and their metric names.
QUANTILES = {"score_p10": 0.1, "score_p50": 0.5, "score_p90": 0.9}


def poisson_interval(count: npt.ArrayLike, alpha: float) -> tuple[FloatArray, FloatArray]:
    """Exact (Garwood) interval for the mean of a Poisson count.

    Parameters
    ----------
    count : array-like of int
        Observed counts.
    alpha : float
        ``1 -`` the level.

    Returns
    -------
    lower, upper : ndarray of float64
        ``chi2(alpha/2, 2x) / 2`` (0 when ``x = 0``) and ``chi2(1 - alpha/2, 2x + 2) / 2``.

    References
    ----------
    .. [1] F. Garwood, "Fiducial limits for the Poisson distribution",
       Biometrika 28 (1936) 437-442.

    Examples
    --------
    >>> lo, hi = poisson_interval([0, 10], 0.05)
    >>> lo.round(3).tolist(), hi.round(3).tolist()
    ([0.0, 4.795], [3.689, 18.39])
    """
    x = np.asarray(count, dtype=np.float64)
    lo = np.where(x > 0, stats.chi2.ppf(alpha / 2.0, 2.0 * np.maximum(x, 1.0)) / 2.0, 0.0)
    return lo, stats.chi2.ppf(1.0 - alpha / 2.0, 2.0 * x + 2.0) / 2.0


def _lerp(a: FloatArray, b: FloatArray, t: FloatArray) -> FloatArray:
    """Numpy's quantile interpolation, the same operations so the results agree exactly."""
    diff = b - a
    out = a + diff * t
    out = np.where(t >= 0.5, b - diff * (1.0 - t), out)
    return np.where(a == b, a, out)


def sketch_quantiles(
    sketches: list[ScoreSketch], qs: Sequence[float], alpha: float
) -> list[tuple[FloatArray, FloatArray, FloatArray]]:
    """Quantiles of every sketch's scores, with their order-statistic intervals.

    With ``N`` scores, the point estimate interpolates the order statistics
    around rank ``(N - 1) q`` (numpy's default). The interval is ``[X(r), X(s)]``
    with ``r`` the ``alpha / 2`` quantile and ``s - 1`` the ``1 - alpha / 2``
    quantile of Binomial(N, q), which covers the true quantile with
    probability at least ``1 - alpha`` whatever the distribution; where ``r``
    is 0 or ``s`` exceeds ``N`` the bound is the score range's end, 0 or 1.

    Parameters
    ----------
    sketches : list of ScoreSketch
        One per window.
    qs : sequence of float
        The quantiles, each in (0, 1).
    alpha : float
        ``1 -`` the level.

    Returns
    -------
    list of (value, lower, upper)
        One triple of ndarray of float64, shape (k,), per quantile; NaN for
        sketches without scores.

    References
    ----------
    .. [1] H. A. David, H. N. Nagaraja, *Order Statistics*, 3rd ed., Wiley (2003),
       section 7.1.

    Examples
    --------
    >>> s = ScoreSketch.from_scores(np.arange(1, 100) / 100, np.full(99, np.nan), 1000)
    >>> [(v.tolist(), lo.tolist(), hi.tolist()) for v, lo, hi in sketch_quantiles([s], [0.5], 0.05)]
    [([0.5], [0.4], [0.6])]
    """
    k = len(sketches)
    sizes = np.array([s.values.size for s in sketches], dtype=np.intp)
    if sizes.sum() == 0:
        empty = np.full(k, np.nan)
        return [(empty, empty.copy(), empty.copy()) for _ in qs]
    values = np.concatenate([s.values for s in sketches])
    counts = np.concatenate([s.counts for s in sketches]).sum(axis=1)
    n = np.bincount(np.repeat(np.arange(k), sizes), weights=counts, minlength=k).astype(np.int64)
    cum = np.cumsum(counts)
    first = np.minimum(np.cumsum(sizes) - sizes, values.size - 1)
    base = (cum - counts)[first]  # the scores of the sketches before

    def at_rank(rank: npt.NDArray[np.int64]) -> FloatArray:
        # The value of each sketch's 0-based order statistic `rank`.
        pos = np.searchsorted(cum, base + np.clip(rank, 0, np.maximum(n - 1, 0)), side="right")
        out: FloatArray = values[np.minimum(pos, values.size - 1)]
        return out

    trials = np.maximum(n, 1)
    out = []
    for q in qs:
        h = (n - 1) * q
        lo_rank = np.floor(h).astype(np.int64)
        value = _lerp(at_rank(lo_rank), at_rank(lo_rank + 1), h - lo_rank)
        r = stats.binom.ppf(alpha / 2.0, trials, q).astype(np.int64)
        s = stats.binom.ppf(1.0 - alpha / 2.0, trials, q).astype(np.int64) + 1
        lower = np.where(r >= 1, at_rank(r - 1), 0.0)
        upper = np.where(s <= n, at_rank(s - 1), 1.0)
        out.append(masked(n > 0, value, lower, upper))
    return out


def output_points(
    builder: PointsBuilder, states: list[WindowState], z: float, alpha: float, min_rows: int
) -> None:
    """Add volume, positive rate and (with scores) score mean and quantiles of every window.

    Parameters
    ----------
    builder : PointsBuilder
        Where the points go.
    states : list of WindowState
        The windows, in the builder's order.
    z : float
        The normal quantile of the intervals.
    alpha : float
        ``1 -`` their level.
    min_rows : int
        Windows with fewer rows (scored rows for score metrics) get NaN rates.
    """
    idx = np.arange(len(states), dtype=np.intp)
    n = np.array([s.n_rows for s in states], dtype=np.int64)
    lo, hi = poisson_interval(n, alpha)
    builder.add("volume", "", idx, n.astype(np.float64), lo, hi, n)
    pos = np.array([s.n_positive for s in states], dtype=np.float64)
    builder.add_rate("positive_rate", "", idx, pos, n, z, min_rows)
    sketches = [s.scores for s in states if s.scores is not None]
    if len(sketches) != len(states):
        return
    n_s = np.array([s.n for s in sketches], dtype=np.int64)
    total = np.array([s.total for s in sketches])
    total_sq = np.array([s.total_sq for s in sketches])
    small = n_s < np.maximum(min_rows, 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = total / n_s
        sd = np.sqrt(np.maximum(total_sq - total * mean, 0.0) / (n_s - 1.0))
    m_lo, m_hi = mean_interval(mean, sd, n_s, 1.0 - alpha)
    builder.add("score_mean", "", idx, *masked(~small, mean, m_lo, m_hi), n_s)
    for name, (v, q_lo, q_hi) in zip(
        QUANTILES, sketch_quantiles(sketches, list(QUANTILES.values()), alpha), strict=True
    ):
        builder.add(name, "", idx, *masked(~small, v, q_lo, q_hi), n_s)
