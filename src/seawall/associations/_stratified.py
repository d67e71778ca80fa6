"""Comparisons within strata of explanatory attributes.

When an attribute legitimately explains a difference (qualification explains
part of a gap in approvals), the association is measured within its strata and
combined: the Mantel-Haenszel common risk difference with Sato's variance and
the Cochran-Mantel-Haenszel test for rates; the inverse-variance weighted
difference of means for continuous outcomes. A finding whose stratified effect
vanishes is *explained*.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from scipy import special, stats

from seawall.associations._effects import Alternative, Effect

__all__ = ["stratified_mean_effect", "stratified_proportion_effect"]

FloatArray = npt.NDArray[np.float64]


def stratified_proportion_effect(
    x1: FloatArray,
    n1: FloatArray,
    x2: FloatArray,
    n2: FloatArray,
    *,
    confidence_level: float | FloatArray = 0.95,
    alternative: Alternative = "two-sided",
) -> Effect:
    """Mantel-Haenszel risk difference and CMH test over strata, per hypothesis.

    Parameters
    ----------
    x1, n1, x2, n2 : ndarray of float64, shape (m, n_strata)
        Per hypothesis and stratum, successes and trials of the two samples.
        Strata where either sample is empty carry no information and drop out.
    confidence_level : float or ndarray of shape (m,), default=0.95
        The level of the intervals.
    alternative : {"two-sided", "greater"}, default="two-sided"
        ``"greater"``: evidence that the first rate is larger.

    Returns
    -------
    Effect
        ``first`` and ``second`` are the standardised rates (each side's
        stratum rates weighted by the Mantel-Haenszel weights), the difference
        is the MH common risk difference with Sato's variance, the p-value the
        CMH test's (no continuity correction); ratios are NaN.

    References
    ----------
    .. [1] N. Mantel, W. Haenszel, "Statistical aspects of the analysis of data
       from retrospective studies of disease", JNCI 22 (1959) 719-748.
    .. [2] T. Sato, "On the variance estimator for the Mantel-Haenszel risk
       difference", Biometrics 45 (1989) 1323-1324.

    Examples
    --------
    Two strata with the same rates in both samples but different mixes: the
    crude difference is large, the stratified one is 0.

    >>> x1 = np.array([[80.0, 10.0]]); n1 = np.array([[100.0, 50.0]])
    >>> x2 = np.array([[40.0, 40.0]]); n2 = np.array([[50.0, 200.0]])
    >>> e = stratified_proportion_effect(x1, n1, x2, n2)
    >>> round(float(e.difference[0]), 6), round(float(e.p_value[0]), 3)
    (0.0, 1.0)
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        total = n1 + n2
        inform = (n1 > 0) & (n2 > 0)
        t = np.where(inform, total, 1.0)
        w = np.where(inform, n1 * n2 / t, 0.0)
        sw = w.sum(axis=1)
        p1 = np.where(inform, x1 / np.where(n1 > 0, n1, 1.0), 0.0)
        p2 = np.where(inform, x2 / np.where(n2 > 0, n2, 1.0), 0.0)
        first = (w * p1).sum(axis=1) / sw
        second = (w * p2).sum(axis=1) / sw
        rd = first - second
        # Sato (1989): var = (RD * sum P + sum Q) / (sum w)^2
        p_term = np.where(inform, (n1**2 * x2 - n2**2 * x1 + n1 * n2 * (n2 - n1) / 2.0) / t**2, 0.0)
        q_term = np.where(inform, (x1 * (n2 - x2) + x2 * (n1 - x1)) / (2.0 * t), 0.0)
        var = (rd * p_term.sum(axis=1) + q_term.sum(axis=1)) / sw**2
        se = np.sqrt(np.maximum(var, 0.0))
        z = special.ndtri(0.5 + np.asarray(confidence_level, dtype=np.float64) / 2.0)
        # CMH: sum (x1 - E) / sqrt(sum V), hypergeometric moments per stratum
        m1 = x1 + x2
        expected = np.where(inform, n1 * m1 / t, 0.0)
        v = np.where(inform & (total > 1), n1 * n2 * m1 * (total - m1) / (t**2 * (t - 1.0)), 0.0)
        stat = (np.where(inform, x1, 0.0) - expected).sum(axis=1) / np.sqrt(v.sum(axis=1))
    p = special.ndtr(-stat) if alternative == "greater" else stats.chi2.sf(stat**2, 1)
    sv = v.sum(axis=1)
    p = np.where(sv > 0, p, np.where(sw > 0, 1.0, np.nan))
    nan = np.full(rd.shape, np.nan)
    return Effect(
        first,
        second,
        rd,
        rd - z * se,
        rd + z * se,
        nan,
        nan.copy(),
        nan.copy(),
        p,
        np.zeros(rd.shape, dtype=bool),
    )


def stratified_mean_effect(
    n1: FloatArray,
    s1: FloatArray,
    q1: FloatArray,
    n2: FloatArray,
    s2: FloatArray,
    q2: FloatArray,
    *,
    confidence_level: float | FloatArray = 0.95,
    alternative: Alternative = "two-sided",
) -> Effect:
    """Inverse-variance weighted difference of means over strata, per hypothesis.

    Parameters
    ----------
    n1, s1, q1, n2, s2, q2 : ndarray of float64, shape (m, n_strata)
        Per hypothesis and stratum: size, sum and sum of squares of the two
        samples. Strata with fewer than two rows on a side drop out.
    confidence_level : float or ndarray of shape (m,), default=0.95
        The level of the intervals.
    alternative : {"two-sided", "greater"}, default="two-sided"
        ``"greater"``: evidence that the first mean is larger.

    Returns
    -------
    Effect
        The weighted difference with a normal interval and z-test; ``first``
        and ``second`` are the weighted means; ratios are NaN.

    Examples
    --------
    >>> n = np.array([[50.0, 50.0]]); s1 = np.array([[50.0, 150.0]]); s2 = np.array([[50.0, 150.0]])
    >>> q = np.array([[100.0, 500.0]])
    >>> e = stratified_mean_effect(n, s1, q, n, s2, q)
    >>> float(e.difference[0]), float(e.p_value[0])
    (0.0, 1.0)
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        ok = (n1 >= 2) & (n2 >= 2)
        a1, a2 = np.where(ok, n1, 2.0), np.where(ok, n2, 2.0)
        m1, m2 = s1 / a1, s2 / a2
        v1 = np.maximum(q1 - s1 * m1, 0.0) / (a1 - 1.0)
        v2 = np.maximum(q2 - s2 * m2, 0.0) / (a2 - 1.0)
        var = v1 / a1 + v2 / a2
        w = np.where(ok & (var > 0), 1.0 / var, 0.0)
        sw = w.sum(axis=1)
        first = (w * np.where(ok, m1, 0.0)).sum(axis=1) / sw
        second = (w * np.where(ok, m2, 0.0)).sum(axis=1) / sw
        diff = first - second
        se = 1.0 / np.sqrt(sw)
        z = special.ndtri(0.5 + np.asarray(confidence_level, dtype=np.float64) / 2.0)
        stat = diff / se
    p = special.ndtr(-stat) if alternative == "greater" else 2.0 * special.ndtr(-np.abs(stat))
    p = np.where(sw > 0, p, np.nan)
    nan = np.full(diff.shape, np.nan)
    return Effect(
        first,
        second,
        diff,
        diff - z * se,
        diff + z * se,
        nan,
        nan.copy(),
        nan.copy(),
        p,
        np.zeros(diff.shape, dtype=bool),
    )
