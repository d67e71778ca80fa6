"""Closed-form confidence intervals for proportions, their differences and ratios.

Pure kernels over arrays: inputs are assumed valid (counts non-negative,
successes not above trials); a cell with no trials gives NaN.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from scipy import special

__all__ = [
    "katz_ratio_interval",
    "mean_interval",
    "newcombe_interval",
    "normal_quantile",
    "wilson_interval",
]

FloatArray = npt.NDArray[np.float64]


def normal_quantile(confidence_level: float) -> float:
    """The two-sided standard-normal quantile ``z`` for a confidence level.

    Parameters
    ----------
    confidence_level : float
        In (0, 1), e.g. 0.95.

    Returns
    -------
    float
        ``Phi^-1(1 - (1 - confidence_level) / 2)``.

    Examples
    --------
    >>> round(normal_quantile(0.95), 4)
    1.96
    """
    return float(special.ndtri(0.5 + confidence_level / 2.0))


def wilson_interval(
    successes: npt.ArrayLike, trials: npt.ArrayLike, z: float
) -> tuple[FloatArray, FloatArray]:
    """Wilson score interval for a binomial proportion, elementwise.

    Parameters
    ----------
    successes, trials : array-like of float, same shape
        Counts (effective counts when rows are weighted; they need not be integers).
    z : float
        The normal quantile, e.g. 1.96 for 95%.

    Returns
    -------
    lower, upper : ndarray of float64
        The bounds; NaN where ``trials == 0``.

    References
    ----------
    .. [1] E. B. Wilson, "Probable inference, the law of succession, and
       statistical inference", JASA 22 (1927) 209-212.

    Examples
    --------
    >>> lo, hi = wilson_interval(8, 10, 1.959964)
    >>> round(float(lo), 4), round(float(hi), 4)
    (0.4902, 0.9433)
    """
    x = np.asarray(successes, dtype=np.float64)
    n = np.asarray(trials, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = x / n
        z2n = z * z / n
        centre = (p + z2n / 2.0) / (1.0 + z2n)
        half = z / (1.0 + z2n) * np.sqrt(np.maximum(p * (1.0 - p) / n, 0.0) + z2n / (4.0 * n))
    lower = np.clip(centre - half, 0.0, 1.0)
    upper = np.clip(centre + half, 0.0, 1.0)
    # At the boundary the exact limits are 0 and 1; rounding must not move them.
    lower = np.where(x <= 0, 0.0, lower)
    upper = np.where(x >= n, 1.0, upper)
    empty = n <= 0
    return np.where(empty, np.nan, lower), np.where(empty, np.nan, upper)


def newcombe_interval(
    x1: npt.ArrayLike, n1: npt.ArrayLike, x2: npt.ArrayLike, n2: npt.ArrayLike, z: float
) -> tuple[FloatArray, FloatArray]:
    """Newcombe's hybrid score interval for a difference of proportions ``p1 - p2``.

    Parameters
    ----------
    x1, n1, x2, n2 : array-like of float, broadcastable
        Successes and trials of the two independent samples.
    z : float
        The normal quantile.

    Returns
    -------
    lower, upper : ndarray of float64
        The bounds of ``p1 - p2``; NaN where either sample is empty.

    References
    ----------
    .. [1] R. G. Newcombe, "Interval estimation for the difference between
       independent proportions: comparison of eleven methods", Statistics in
       Medicine 17 (1998) 873-890, method 10.

    Examples
    --------
    >>> lo, hi = newcombe_interval(56, 70, 48, 80, 1.959964)
    >>> round(float(lo), 4), round(float(hi), 4)
    (0.0524, 0.3339)
    """
    x1a, n1a = np.asarray(x1, np.float64), np.asarray(n1, np.float64)
    x2a, n2a = np.asarray(x2, np.float64), np.asarray(n2, np.float64)
    l1, u1 = wilson_interval(x1a, n1a, z)
    l2, u2 = wilson_interval(x2a, n2a, z)
    with np.errstate(divide="ignore", invalid="ignore"):
        p1, p2 = x1a / n1a, x2a / n2a
    d = p1 - p2
    lower = d - np.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)
    upper = d + np.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)
    return lower, upper


def katz_ratio_interval(
    x1: npt.ArrayLike, n1: npt.ArrayLike, x2: npt.ArrayLike, n2: npt.ArrayLike, z: float
) -> tuple[FloatArray, FloatArray]:
    """Katz log interval for a ratio of proportions ``p1 / p2``.

    Where a sample has no successes, 0.5 is added to every count (the usual
    continuity correction); the bound on the side of that empty sample is then
    0 (no successes in the first) or infinity (none in the second), since the
    data cannot rule those ratios out.

    Parameters
    ----------
    x1, n1, x2, n2 : array-like of float, broadcastable
        Successes and trials of the two independent samples.
    z : float
        The normal quantile.

    Returns
    -------
    lower, upper : ndarray of float64
        The bounds of ``p1 / p2``; NaN where either sample is empty or both have
        no successes.

    References
    ----------
    .. [1] D. Katz, J. Baptista, S. P. Azen, M. C. Pike, "Obtaining confidence
       intervals for the risk ratio in cohort studies", Biometrics 34 (1978) 469-474.

    Examples
    --------
    >>> lo, hi = katz_ratio_interval(30, 100, 45, 100, 1.959964)
    >>> round(float(lo), 3), round(float(hi), 3)
    (0.461, 0.965)
    """
    x1a, n1a = np.asarray(x1, np.float64), np.asarray(n1, np.float64)
    x2a, n2a = np.asarray(x2, np.float64), np.asarray(n2, np.float64)
    zero = (x1a <= 0) | (x2a <= 0)
    c = np.where(zero, 0.5, 0.0)
    a1, m1, a2, m2 = x1a + c, n1a + c, x2a + c, n2a + c
    with np.errstate(divide="ignore", invalid="ignore"):
        log_r = np.log((a1 / m1) / (a2 / m2))
        se = np.sqrt(1.0 / a1 - 1.0 / m1 + 1.0 / a2 - 1.0 / m2)
    # The corrected interval bounds a ratio the data cannot rule to be 0 (no
    # successes in the first sample) or infinite (none in the second): say so.
    lower = np.where(x1a <= 0, 0.0, np.exp(log_r - z * se))
    upper = np.where(x2a <= 0, np.inf, np.exp(log_r + z * se))
    bad = (n1a <= 0) | (n2a <= 0) | ((x1a <= 0) & (x2a <= 0))
    return np.where(bad, np.nan, lower), np.where(bad, np.nan, upper)


def mean_interval(
    mean: npt.ArrayLike, sd: npt.ArrayLike, n: npt.ArrayLike, confidence_level: float
) -> tuple[FloatArray, FloatArray]:
    """Student-t interval for a mean from its sample standard deviation.

    Parameters
    ----------
    mean, sd, n : array-like of float, broadcastable
        Sample mean, sample standard deviation (ddof=1) and (effective) size.
    confidence_level : float
        In (0, 1).

    Returns
    -------
    lower, upper : ndarray of float64
        The bounds; NaN where ``n < 2``.

    Examples
    --------
    >>> lo, hi = mean_interval(10.0, 2.0, 16, 0.95)
    >>> round(float(lo), 3), round(float(hi), 3)
    (8.934, 11.066)
    """
    m = np.asarray(mean, np.float64)
    s = np.asarray(sd, np.float64)
    k = np.asarray(n, np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        t = special.stdtrit(np.maximum(k - 1.0, 1.0), 0.5 + confidence_level / 2.0)
        half = t * s / np.sqrt(k)
    small = k < 2
    return np.where(small, np.nan, m - half), np.where(small, np.nan, m + half)
