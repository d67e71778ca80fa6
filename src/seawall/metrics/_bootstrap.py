"""The Poisson bootstrap of count tables.

Resampling rows with independent Poisson(1) weights (the Poisson bootstrap)
turns a cell holding ``c`` rows into a Poisson(``c``) count, because a sum of
independent Poisson variables is Poisson. So every replicate is drawn on the
count tables directly, never on the rows: the cost depends on the number of
cells, not of rows. Weighted cells keep their mean weight per row.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import numpy.typing as npt
from scipy import special

__all__ = [
    "bca_interval",
    "percentile_interval",
    "poisson_replicates",
    "studentized_interval",
]

FloatArray = npt.NDArray[np.float64]

#: Upper bound on the number of cells drawn in one batch of replicates (memory).
_BATCH_CELLS = 2_000_000


def poisson_replicates(
    rows: FloatArray,
    n_replicates: int,
    rng: np.random.Generator,
    *,
    per_row: tuple[FloatArray, ...] = (),
) -> Iterator[tuple[FloatArray, ...]]:
    """Yield batches of Poisson-bootstrap replicates of a count table.

    Parameters
    ----------
    rows : ndarray of float64, any shape
        Row counts per cell.
    n_replicates : int
        The total number of replicates to draw.
    rng : numpy.random.Generator
        The source of randomness.
    per_row : tuple of ndarray, same shape as ``rows``
        Cell totals (weights, score sums) that scale with the number of rows in
        the cell; each replicate gets ``draw * total / rows``.

    Yields
    ------
    tuple of ndarray, each of shape (batch, *rows.shape)
        The replicated row counts, then each ``per_row`` total replicated.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> batches = list(poisson_replicates(np.array([10.0, 0.0]), 5, rng))
    >>> batches[0][0].shape, float(batches[0][0][:, 1].sum())
    ((5, 2), 0.0)
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        means = [np.where(rows > 0, t / rows, 0.0) for t in per_row]
    batch = max(1, _BATCH_CELLS // max(rows.size, 1))
    done = 0
    while done < n_replicates:
        b = min(batch, n_replicates - done)
        draw = rng.poisson(rows, size=(b, *rows.shape)).astype(np.float64)
        yield (draw, *(draw * m for m in means))
        done += b


def _quantiles(samples: FloatArray, q: FloatArray) -> FloatArray:
    """Per-element quantiles along axis 0, ignoring NaN (linear interpolation).

    ``q`` has the shape of ``samples[0]``; one sort serves every element, which is
    much faster than ``np.nanquantile`` with many columns.
    """
    ordered = np.sort(samples, axis=0)  # NaN sort last
    count = np.isfinite(ordered).sum(axis=0)
    known = np.isfinite(q)
    pos = np.clip(np.where(known, q, 0.0), 0.0, 1.0) * np.maximum(count - 1, 0)
    below = np.floor(pos).astype(np.intp)
    above = np.minimum(below + 1, np.maximum(count - 1, 0))
    frac = pos - below
    lo = np.take_along_axis(ordered, below[None, ...], axis=0)[0]
    hi = np.take_along_axis(ordered, above[None, ...], axis=0)[0]
    out = lo + frac * (hi - lo)
    return np.where((count > 0) & known, out, np.nan)


def percentile_interval(
    samples: FloatArray, confidence_level: float, shift: FloatArray | float = 0.0
) -> tuple[FloatArray, FloatArray]:
    """Percentile bootstrap interval along axis 0, ignoring undefined replicates.

    Parameters
    ----------
    samples : ndarray of float64, shape (n_replicates, ...)
        Replicates of a statistic; NaN where a replicate left it undefined.
    confidence_level : float
        In (0, 1).
    shift : float or ndarray, default=0.0
        Added to both bounds (corrects a replicate statistic computed on
        binned data to the exact point estimate).

    Returns
    -------
    lower, upper : ndarray of float64, shape (...)
        The bounds; NaN where no replicate is defined.

    Examples
    --------
    >>> lo, hi = percentile_interval(np.arange(101.0)[:, None], 0.9)
    >>> round(float(lo[0]), 6), round(float(hi[0]), 6)
    (5.0, 95.0)
    """
    if samples.shape[0] == 0:
        nan = np.full(samples.shape[1:], np.nan)
        return nan, nan.copy()
    alpha = 1.0 - confidence_level
    q = np.full(samples.shape[1:], alpha / 2.0)
    return _quantiles(samples, q) + shift, _quantiles(samples, 1.0 - q) + shift


def bca_interval(
    samples: FloatArray,
    estimate: FloatArray,
    acceleration: FloatArray,
    confidence_level: float,
    shift: FloatArray | float = 0.0,
) -> tuple[FloatArray, FloatArray]:
    """Bias-corrected and accelerated (BCa) bootstrap interval along axis 0.

    The percentile levels move by the bias correction ``z0`` (the share of
    replicates below the estimate) and the acceleration ``a`` (from the
    jackknife), which corrects the percentile interval's under-coverage for
    skewed statistics such as AUC in small groups.

    Parameters
    ----------
    samples : ndarray of float64, shape (n_replicates, ...)
        Replicates; NaN where undefined.
    estimate : ndarray of float64, shape (...)
        The statistic on the data the replicates were drawn from.
    acceleration : ndarray of float64, shape (...)
        The acceleration (0 gives the bias-corrected percentile interval).
    confidence_level : float
        In (0, 1).
    shift : float or ndarray, default=0.0
        Added to both bounds.

    Returns
    -------
    lower, upper : ndarray of float64, shape (...)
        The bounds; NaN where no replicate is defined.

    References
    ----------
    .. [1] B. Efron, "Better bootstrap confidence intervals", JASA 82 (1987) 171-185.

    Examples
    --------
    >>> reps = special.ndtri((np.arange(4000) + 0.5) / 4000)[:, None]  # symmetric: z0 = 0
    >>> lo, hi = bca_interval(reps, np.zeros(1), np.zeros(1), 0.95)
    >>> round(float(lo[0]), 1), round(float(hi[0]), 1)
    (-2.0, 2.0)
    """
    if samples.shape[0] == 0:
        nan = np.full(samples.shape[1:], np.nan)
        return nan, nan.copy()
    count = np.isfinite(samples).sum(axis=0)
    below = (samples < estimate).sum(axis=0) + 0.5 * (samples == estimate).sum(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.clip(below / count, 0.5 / count, 1.0 - 0.5 / count)
    z0 = np.where(np.isfinite(share), special.ndtri(share), 0.0)
    alpha = 1.0 - confidence_level
    bounds = []
    for z in (special.ndtri(alpha / 2.0), special.ndtri(1.0 - alpha / 2.0)):
        with np.errstate(divide="ignore", invalid="ignore"):
            q = special.ndtr(z0 + (z0 + z) / (1.0 - acceleration * (z0 + z)))
        bounds.append(_quantiles(samples, q) + shift)
    return bounds[0], bounds[1]


def studentized_interval(
    samples: FloatArray,
    estimate: FloatArray,
    sample_se: FloatArray,
    estimate_se: FloatArray,
    confidence_level: float,
    center: FloatArray | None = None,
) -> tuple[FloatArray, FloatArray]:
    """Studentized (bootstrap-t) interval along axis 0.

    ``[t - q_hi * se, t - q_lo * se]`` where ``q`` are quantiles of the replicates'
    ``(t* - t) / se*``: it follows the skewness of a mean of a skewed quantity
    (the Brier score's squared errors) better than percentile or BCa intervals.

    Parameters
    ----------
    samples : ndarray of float64, shape (n_replicates, ...)
        Replicates of the statistic.
    estimate : ndarray of float64, shape (...)
        The statistic on the data the replicates were drawn from.
    sample_se : ndarray of float64, shape (n_replicates, ...)
        Each replicate's standard error.
    estimate_se : ndarray of float64, shape (...)
        The statistic's standard error.
    confidence_level : float
        In (0, 1).
    center : ndarray of float64, shape (...), optional
        The estimand's value in the bootstrap world, where ``t*`` is centred;
        by default ``estimate``. A debiased estimator differs from it: its
        bootstrap world's truth is the plug-in value.

    Returns
    -------
    lower, upper : ndarray of float64, shape (...)
        The bounds; NaN where undefined.

    References
    ----------
    .. [1] B. Efron, R. Tibshirani, "An Introduction to the Bootstrap", Chapman &
       Hall (1993), ch. 12.5.

    Examples
    --------
    >>> t = special.ndtri((np.arange(2000) + 0.5) / 2000)[:, None]
    >>> lo, hi = studentized_interval(t, np.zeros(1), np.ones((2000, 1)), np.ones(1), 0.95)
    >>> round(float(lo[0]), 2), round(float(hi[0]), 2)
    (-1.96, 1.96)
    """
    if samples.shape[0] == 0:
        nan = np.full(samples.shape[1:], np.nan)
        return nan, nan.copy()
    with np.errstate(divide="ignore", invalid="ignore"):
        t = (samples - (estimate if center is None else center)) / sample_se
    t = np.where(np.isfinite(t), t, np.nan)
    alpha = 1.0 - confidence_level
    q = np.full(samples.shape[1:], alpha / 2.0)
    q_lo, q_hi = _quantiles(t, q), _quantiles(t, 1.0 - q)
    return estimate - q_hi * estimate_se, estimate - q_lo * estimate_se
