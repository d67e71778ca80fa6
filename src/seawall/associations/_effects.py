"""Effect sizes with intervals and p-values, vectorised over many hypotheses.

Two kinds of comparison serve every investigation: two proportions (a rate in a
context or group against the rest) and two means (a continuous output or loss).
Each gives the difference with its interval, the ratio with its interval (for
proportions) and a p-value, one- or two-sided. Small cells get an exact test.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
from scipy import special, stats

from seawall.metrics._intervals import newcombe_interval, ratio_interval

__all__ = ["Effect", "mean_effect", "proportion_effect"]

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

#: Below this expected count in any cell of the 2x2 table the test is exact.
EXACT_BELOW = 5.0

Alternative = Literal["two-sided", "greater"]


@dataclass(frozen=True, slots=True)
class Effect:
    """Effects of many hypotheses (every array has shape (m,)).

    Attributes
    ----------
    first, second : ndarray of float64
        The compared quantities (a rate or a mean): the hypothesis' side and the
        rest it is compared with.
    difference, difference_lower, difference_upper : ndarray of float64
        ``first - second`` and its interval.
    ratio, ratio_lower, ratio_upper : ndarray of float64
        ``first / second`` and its interval (NaN for means).
    p_value : ndarray of float64
        The raw p-value.
    exact : ndarray of bool
        Where the test was exact.
    category : ndarray of intp or None
        For a categorical output (where ``difference`` is the normalised mutual
        information), the class whose rates ``first`` and ``second`` are.
    """

    first: FloatArray
    second: FloatArray
    difference: FloatArray
    difference_lower: FloatArray
    difference_upper: FloatArray
    ratio: FloatArray
    ratio_lower: FloatArray
    ratio_upper: FloatArray
    p_value: FloatArray
    exact: BoolArray
    category: npt.NDArray[np.intp] | None = None

    def take(self, rows: npt.NDArray[np.intp]) -> Effect:
        """The effects of the hypotheses ``rows``, in that order."""
        taken: dict[str, Any] = {}
        for f in fields(self):
            v = getattr(self, f.name)
            taken[f.name] = None if v is None else v[rows]
        return Effect(**taken)

    def conservative(self) -> FloatArray:
        """The end of the difference's interval nearest to 0, as a magnitude (0 if it spans 0)."""
        lo, hi = self.difference_lower, self.difference_upper
        out = np.where(lo > 0, lo, np.where(hi < 0, -hi, 0.0))
        return np.where(np.isfinite(out), out, 0.0)


def _z(confidence_level: float | FloatArray) -> FloatArray:
    return special.ndtri(0.5 + np.asarray(confidence_level, dtype=np.float64) / 2.0)  # type: ignore[no-any-return]


def _distinct_columns(
    table: npt.NDArray[np.int64],
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.intp]]:
    """The distinct columns of ``table`` (r, m) and, per column, its distinct column's index."""
    order = np.lexsort(table)
    ordered = table[:, order]
    new = np.ones(ordered.shape[1], dtype=bool)
    new[1:] = (ordered[:, 1:] != ordered[:, :-1]).any(axis=0)
    inverse = np.empty(ordered.shape[1], dtype=np.intp)
    inverse[order] = np.cumsum(new) - 1
    return ordered[:, new], inverse


def proportion_effect(
    x1: npt.ArrayLike,
    n1: npt.ArrayLike,
    x2: npt.ArrayLike,
    n2: npt.ArrayLike,
    *,
    confidence_level: float | FloatArray = 0.95,
    alternative: Alternative = "two-sided",
) -> Effect:
    """Compare two independent proportions ``x1 / n1`` and ``x2 / n2``, elementwise.

    The difference has Newcombe's hybrid score interval, the ratio Koopman's score
    interval (few successes) or Katz's log interval. The test is the pooled
    two-proportion z-test, or the exact conditional (hypergeometric, Fisher) test
    where an expected cell count is below 5; its two-sided p-value doubles the
    smaller tail (conservative, and vectorised).

    Parameters
    ----------
    x1, n1, x2, n2 : array-like of float, shape (m,)
        Successes and trials of the two samples (whole numbers for the exact test).
    confidence_level : float or ndarray of shape (m,), default=0.95
        The level of the intervals (per hypothesis when adjusted).
    alternative : {"two-sided", "greater"}, default="two-sided"
        ``"greater"``: evidence that the first proportion is larger.

    Returns
    -------
    Effect
        The comparison of every pair.

    References
    ----------
    .. [1] R. G. Newcombe, "Interval estimation for the difference between
       independent proportions", Statistics in Medicine 17 (1998) 873-890.

    Examples
    --------
    >>> e = proportion_effect([30, 3], [100, 10], [100, 1], [1000, 10], alternative="greater")
    >>> [round(float(v), 4) for v in e.difference], e.exact.tolist()
    ([0.2, 0.2], [False, True])
    >>> round(float(e.p_value[1]), 4)  # Fisher's one-sided test of 3/10 against 1/10
    0.291
    """
    a1, m1, a2, m2 = (np.atleast_1d(np.asarray(v, dtype=np.float64)) for v in (x1, n1, x2, n2))
    z = _z(confidence_level)
    with np.errstate(divide="ignore", invalid="ignore"):
        p1, p2 = a1 / m1, a2 / m2
        d_lo, d_hi = newcombe_interval(a1, m1, a2, m2, z)
        r_lo, r_hi = ratio_interval(a1, m1, a2, m2, z)
        ratio = p1 / p2
        total = m1 + m2
        succ = a1 + a2
        pooled = succ / total
        se = np.sqrt(pooled * (1.0 - pooled) * (1.0 / m1 + 1.0 / m2))
        zval = (p1 - p2) / se
        expected = np.minimum.reduce(
            [m1 * pooled, m1 * (1.0 - pooled), m2 * pooled, m2 * (1.0 - pooled)]
        )
    p = special.ndtr(-zval) if alternative == "greater" else 2.0 * special.ndtr(-np.abs(zval))
    exact = (expected < EXACT_BELOW) & (m1 > 0) & (m2 > 0) & (se > 0)
    if exact.any():
        tables = np.stack([np.round(v[exact]).astype(np.int64) for v in (a1, total, succ, m1)])
        # Many hypotheses share a 2x2 table (a rare label in groups of similar
        # size): each distinct table is tested once.
        unique, inverse = _distinct_columns(tables)
        k, big, good, draws = unique
        upper = stats.hypergeom.sf(k - 1, big, good, draws)
        if alternative == "greater":
            p[exact] = upper[inverse]
        else:
            lower = stats.hypergeom.cdf(k, big, good, draws)
            p[exact] = np.minimum(1.0, 2.0 * np.minimum(upper, lower))[inverse]
    p = np.where(se == 0, 1.0, p)
    p = np.where((m1 > 0) & (m2 > 0), p, np.nan)
    return Effect(p1, p2, p1 - p2, d_lo, d_hi, ratio, r_lo, r_hi, p, exact)


def mean_effect(
    mean1: npt.ArrayLike,
    var1: npt.ArrayLike,
    n1: npt.ArrayLike,
    mean2: npt.ArrayLike,
    var2: npt.ArrayLike,
    n2: npt.ArrayLike,
    *,
    confidence_level: float | FloatArray = 0.95,
    alternative: Alternative = "two-sided",
) -> Effect:
    """Compare two independent means by Welch's t, elementwise.

    Parameters
    ----------
    mean1, var1, n1, mean2, var2, n2 : array-like of float, shape (m,)
        Means, sample variances (ddof=1) and sizes of the two samples.
    confidence_level : float or ndarray of shape (m,), default=0.95
        The level of the intervals.
    alternative : {"two-sided", "greater"}, default="two-sided"
        ``"greater"``: evidence that the first mean is larger.

    Returns
    -------
    Effect
        Differences with Welch intervals; ratios are NaN.

    References
    ----------
    .. [1] B. L. Welch, "The generalization of 'Student's' problem when several
       different population variances are involved", Biometrika 34 (1947) 28-35.

    Examples
    --------
    >>> e = mean_effect([1.0], [1.0], [50], [0.5], [1.0], [50])
    >>> round(float(e.difference[0]), 2), round(float(e.p_value[0]), 4)
    (0.5, 0.0141)
    """
    u1, v1, m1, u2, v2, m2 = (
        np.atleast_1d(np.asarray(v, dtype=np.float64)) for v in (mean1, var1, n1, mean2, var2, n2)
    )
    level = np.asarray(confidence_level, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        q1, q2 = v1 / m1, v2 / m2
        se = np.sqrt(q1 + q2)
        df = (q1 + q2) ** 2 / (q1**2 / (m1 - 1.0) + q2**2 / (m2 - 1.0))
        diff = u1 - u2
        tval = diff / se
        tq = stats.t.ppf(0.5 + level / 2.0, df)
    p = stats.t.sf(tval, df) if alternative == "greater" else 2.0 * stats.t.sf(np.abs(tval), df)
    p = np.where(se == 0, np.where(diff == 0, 1.0, 0.0), p)
    ok = (m1 >= 2) & (m2 >= 2)
    nan = np.full_like(diff, np.nan)
    return Effect(
        u1,
        u2,
        diff,
        np.where(ok, diff - tq * se, np.nan),
        np.where(ok, diff + tq * se, np.nan),
        nan,
        nan.copy(),
        nan.copy(),
        np.where(ok, p, np.nan),
        np.zeros(diff.shape, dtype=bool),
    )
