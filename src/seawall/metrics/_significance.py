"""Tests of equal proportions and corrections for testing many hypotheses.

Pure kernels over arrays; inputs are assumed valid.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import numpy.typing as npt
from scipy import special, stats

__all__ = [
    "adjust_pvalues",
    "two_proportion_pvalue",
    "wald_homogeneity_pvalue",
]

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

#: A 2x2 table whose smallest expected count is below this is tested exactly.
FISHER_MIN_EXPECTED = 5.0


def two_proportion_pvalue(
    x1: npt.ArrayLike,
    n1: npt.ArrayLike,
    x2: npt.ArrayLike,
    n2: npt.ArrayLike,
    *,
    exact_allowed: bool = True,
) -> tuple[FloatArray, BoolArray]:
    """Two-sided p-value of ``p1 == p2`` for independent binomial samples, elementwise.

    Fisher's exact test is used where a cell's expected count is below 5 (and the
    counts are integers, i.e. ``exact_allowed``), the pooled two-proportion z-test
    elsewhere.

    Parameters
    ----------
    x1, n1, x2, n2 : array-like of float, same shape
        Successes and trials of the two samples.
    exact_allowed : bool, default=True
        Whether the counts are whole numbers, so that Fisher's test applies. With
        weighted (effective) counts the z-test is used throughout.

    Returns
    -------
    p_value : ndarray of float64
        NaN where a sample is empty.
    exact : ndarray of bool
        Where Fisher's test was used.

    References
    ----------
    .. [1] R. A. Fisher, "On the interpretation of chi-square from contingency
       tables, and the calculation of P", JRSS 85 (1922) 87-94.

    Examples
    --------
    >>> p, exact = two_proportion_pvalue([3, 400], [10, 1000], [8, 500], [10, 1000])
    >>> exact.tolist(), [round(float(v), 4) for v in p]
    ([True, False], [0.0698, 0.0])
    """
    a1 = np.atleast_1d(np.asarray(x1, np.float64))
    m1 = np.atleast_1d(np.asarray(n1, np.float64))
    a2 = np.atleast_1d(np.asarray(x2, np.float64))
    m2 = np.atleast_1d(np.asarray(n2, np.float64))
    with np.errstate(divide="ignore", invalid="ignore"):
        pooled = (a1 + a2) / (m1 + m2)
        se = np.sqrt(pooled * (1.0 - pooled) * (1.0 / m1 + 1.0 / m2))
        zval = (a1 / m1 - a2 / m2) / se
        p = 2.0 * special.ndtr(-np.abs(zval))
        total = m1 + m2
        expected = np.minimum.reduce(
            [
                m1 * (a1 + a2) / total,
                m1 * (total - a1 - a2) / total,
                m2 * (a1 + a2) / total,
                m2 * (total - a1 - a2) / total,
            ]
        )
    # No variation at all (both rates 0 or both 1): nothing to tell apart.
    p = np.where(se == 0, 1.0, p)
    empty = (m1 <= 0) | (m2 <= 0)
    exact = (expected < FISHER_MIN_EXPECTED) & ~empty & exact_allowed & (se > 0)
    for i in np.flatnonzero(exact):
        table = np.array([[a1[i], m1[i] - a1[i]], [a2[i], m2[i] - a2[i]]], dtype=np.int64)
        p[i] = stats.fisher_exact(table).pvalue
    return np.where(empty, np.nan, p), exact


def wald_homogeneity_pvalue(estimates: npt.ArrayLike, variances: npt.ArrayLike) -> float:
    """Wald chi-square p-value that several independent estimates are equal.

    ``sum_g (t_g - t_bar)^2 / v_g`` with the inverse-variance weighted mean
    ``t_bar``, referred to chi-square with ``n_groups - 1`` degrees of freedom.

    Parameters
    ----------
    estimates, variances : array-like of float, shape (n_groups,)
        Per-group estimates and their sampling variances (from a bootstrap);
        groups with a missing or zero variance are left out.

    Returns
    -------
    float
        The p-value; NaN with fewer than two usable groups.

    Examples
    --------
    >>> round(wald_homogeneity_pvalue([0.70, 0.80], [0.02**2, 0.02**2]), 6)
    0.000407
    """
    t = np.asarray(estimates, np.float64)
    v = np.asarray(variances, np.float64)
    keep = np.isfinite(t) & np.isfinite(v) & (v > 0)
    t, v = t[keep], v[keep]
    if t.size < 2:
        return float("nan")
    w = 1.0 / v
    t_bar = np.sum(w * t) / np.sum(w)
    statistic = float(np.sum(w * (t - t_bar) ** 2))
    return float(special.chdtrc(t.size - 1, statistic))


def adjust_pvalues(
    p_values: npt.ArrayLike, method: Literal["holm", "bh", "none"] = "holm"
) -> FloatArray:
    """Adjust p-values for multiplicity; NaN entries are not counted as tests.

    Parameters
    ----------
    p_values : array-like of float, shape (m,)
        Raw p-values.
    method : {"holm", "bh", "none"}, default="holm"
        Holm's step-down (controls the family-wise error rate), Benjamini-Hochberg
        (controls the false discovery rate) or no adjustment.

    Returns
    -------
    ndarray of float64, shape (m,)
        Adjusted p-values, capped at 1; NaN where the input was NaN.

    References
    ----------
    .. [1] S. Holm, "A simple sequentially rejective multiple test procedure",
       Scand. J. Statist. 6 (1979) 65-70.
    .. [2] Y. Benjamini, Y. Hochberg, "Controlling the false discovery rate",
       JRSS B 57 (1995) 289-300.

    Examples
    --------
    >>> adjust_pvalues([0.01, 0.04, 0.03], "holm").round(3).tolist()
    [0.03, 0.06, 0.06]
    >>> adjust_pvalues([0.01, 0.04, 0.03], "bh").round(3).tolist()
    [0.03, 0.04, 0.04]
    """
    p = np.asarray(p_values, np.float64).copy()
    ok = np.isfinite(p)
    q = p[ok]
    m = q.size
    if m == 0 or method == "none":
        return p
    order = np.argsort(q, kind="stable")
    ranked = q[order]
    if method == "holm":
        adj = np.maximum.accumulate((m - np.arange(m)) * ranked)
    else:
        adj = np.minimum.accumulate((m * ranked / np.arange(1, m + 1))[::-1])[::-1]
    out = np.empty(m)
    out[order] = np.minimum(adj, 1.0)
    p[ok] = out
    return p
