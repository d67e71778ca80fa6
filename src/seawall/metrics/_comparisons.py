"""Comparisons of proportions between groups: against the reference, and the spread.

Pairwise: Newcombe intervals for differences, Katz for ratios, Fisher or z
tests. Equalized odds (the larger of the TPR and FPR gaps) and the spread of
every grouping get simultaneous (Bonferroni) intervals built from the pairwise
ones, and a chi-square test of homogeneity.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import special

from seawall.metrics._definitions import COMPARED, DISPARITY_NAMES, METRIC_INDEX, Rows
from seawall.metrics._intervals import katz_ratio_interval, newcombe_interval
from seawall.metrics._significance import two_proportion_pvalue
from seawall.metrics._spread import (
    abs_interval,
    extremes,
    max_interval,
    pairs,
    symmetric_ratio_interval,
)

__all__ = [
    "GroupingContext",
    "Rates",
    "emit_pairwise",
    "emit_summary",
    "extend_disparities",
    "extend_summary",
]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.intp]
_COLS = [METRIC_INDEX[m] for m in COMPARED]
_TPR, _FPR = COMPARED.index("tpr"), COMPARED.index("fpr")


@dataclass(frozen=True, slots=True)
class Rates:
    """Every proportion of one grouping, each array of shape (n_groups, n_metrics).

    ``successes`` and ``trials`` are effective counts (Kish) when rows are weighted.
    """

    value: FloatArray
    successes: FloatArray
    trials: FloatArray
    lower: FloatArray
    upper: FloatArray


@dataclass(frozen=True, slots=True)
class GroupingContext:
    """What the comparisons of one grouping need to know."""

    name: str
    labels: tuple[str, ...]
    rows: FloatArray
    small: npt.NDArray[np.bool_]
    ref: int
    alpha: float
    min_size: int

    @property
    def others(self) -> IntArray:
        """Every group but the reference."""
        return np.array([g for g in range(len(self.labels)) if g != self.ref], dtype=np.intp)

    @property
    def judged(self) -> IntArray:
        """Every group large enough to judge."""
        return np.flatnonzero(~self.small)

    def note(self, g: int) -> str:
        """Why group ``g`` is not judged, or an empty string."""
        if not self.small[g]:
            return ""
        return f"too small to judge: {int(self.rows[g])} rows < min_group_size={self.min_size}"


@functools.lru_cache(maxsize=64)
def _z(alpha: float) -> float:
    return float(special.ndtri(1.0 - alpha / 2.0))


def extend_disparities(
    out: Rows,
    ctx: GroupingContext,
    groups: IntArray,
    metrics: Sequence[str],
    kinds: Sequence[str],
    value: FloatArray,
    lower: FloatArray,
    upper: FloatArray,
    p_value: FloatArray,
    test: npt.NDArray[np.str_] | Sequence[str],
) -> None:
    """Append a (groups x columns) block of comparisons with the reference.

    Parameters
    ----------
    out : Rows
        The accumulator.
    ctx : GroupingContext
        The grouping.
    groups : ndarray of intp, shape (k,)
        The compared groups (rows of the block).
    metrics, kinds : sequence of str, length m
        Each column's metric and form.
    value, lower, upper, p_value : ndarray of float64, shape (k, m)
        The block; p-values of groups too small to judge are dropped (NaN).
    test : array of str, shape (k, m), or sequence of length m
        The test behind each p-value.
    """
    k, m = len(groups), len(metrics)
    if k == 0:
        return
    small = ctx.small[groups]
    p = np.where(small[:, None], np.nan, p_value)
    tests = np.broadcast_to(np.asarray(test, dtype=object), (k, m)).ravel().tolist()
    out.extend(
        out.disparities,
        k * m,
        grouping=ctx.name,
        group=np.repeat(np.asarray(ctx.labels, dtype=object)[groups], m).tolist(),
        reference=ctx.labels[ctx.ref],
        metric=list(metrics) * k,
        kind=list(kinds) * k,
        name=[DISPARITY_NAMES[(mt, kd)] for mt, kd in zip(metrics, kinds, strict=True)] * k,
        value=value.ravel(),
        lower=lower.ravel(),
        upper=upper.ravel(),
        p_value=p.ravel(),
        test=tests,
        note=np.repeat(np.asarray([ctx.note(int(g)) for g in groups], dtype=object), m).tolist(),
    )


def emit_pairwise(out: Rows, ctx: GroupingContext, rates: Rates, exact_allowed: bool) -> None:
    """Add every group's comparison with the reference to ``out.disparities``.

    Parameters
    ----------
    out : Rows
        The accumulator.
    ctx : GroupingContext
        The grouping.
    rates : Rates
        Its proportions.
    exact_allowed : bool
        Whether counts are whole (unweighted), so Fisher's test applies to small cells.
    """
    others, ref = ctx.others, ctx.ref
    if others.size == 0:
        return
    x1, n1 = rates.successes[others][:, _COLS], rates.trials[others][:, _COLS]
    x2 = np.broadcast_to(rates.successes[ref, _COLS], x1.shape)
    n2 = np.broadcast_to(rates.trials[ref, _COLS], n1.shape)
    z = _z(ctx.alpha)
    d_lo, d_hi = newcombe_interval(x1, n1, x2, n2, z)
    r_lo, r_hi = katz_ratio_interval(x1, n1, x2, n2, z)
    pv, exact = two_proportion_pvalue(
        x1.ravel(), n1.ravel(), x2.ravel(), n2.ravel(), exact_allowed=exact_allowed
    )
    pv, exact = pv.reshape(x1.shape), exact.reshape(x1.shape)
    p1, p2 = rates.value[others][:, _COLS], rates.value[ref, _COLS]
    with np.errstate(divide="ignore", invalid="ignore"):
        diff, ratio = p1 - p2, p1 / p2
    # Equalized odds: max(|dTPR|, |dFPR|), each gap bounded at level 1 - alpha/2.
    eo_cols = [_TPR, _FPR]
    e_lo, e_hi = newcombe_interval(
        x1[:, eo_cols], n1[:, eo_cols], x2[:, eo_cols], n2[:, eo_cols], _z(ctx.alpha / 2.0)
    )
    a_lo, a_hi = abs_interval(e_lo, e_hi)
    eo = np.fmax(np.abs(diff[:, _TPR]), np.abs(diff[:, _FPR]))
    eo_bounds = max_interval(a_lo.T, a_hi.T)
    eo_p = np.minimum(1.0, 2.0 * np.fmin(pv[:, _TPR], pv[:, _FPR]))
    tests = np.where(exact, "fisher", "z").astype(object)

    def both(a: FloatArray, b: FloatArray) -> FloatArray:
        # Columns in table order: each metric's difference, then its ratio.
        return np.stack([a, b], axis=2).reshape(a.shape[0], -1)

    value = np.column_stack([both(diff, ratio), eo])
    lower = np.column_stack([both(d_lo, r_lo), eo_bounds[0]])
    upper = np.column_stack([both(d_hi, r_hi), eo_bounds[1]])
    p_value = np.column_stack([both(pv, pv), eo_p])
    test = np.column_stack(
        [np.repeat(tests, 2, axis=1), np.full(others.size, "bonferroni(tpr, fpr)", dtype=object)]
    )
    metrics = [m for m in COMPARED for _ in range(2)] + ["equalized_odds"]
    kinds = ["difference", "ratio"] * len(COMPARED) + ["difference"]
    extend_disparities(out, ctx, others, metrics, kinds, value, lower, upper, p_value, test)


def _homogeneity(successes: FloatArray, trials: FloatArray) -> FloatArray:
    """Pearson chi-square p-value of equal proportions across groups, per column.

    Parameters are (n_groups, n_metrics); a column whose groups never vary gets 1.
    """
    valid = trials > 0
    k = valid.sum(axis=0)
    x = np.where(valid, successes, 0.0)
    n = np.where(valid, trials, 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        pooled = x.sum(axis=0) / n.sum(axis=0)
        expected_x = n * pooled
        expected_y = n * (1.0 - pooled)
        chi2 = np.where(
            valid,
            (x - expected_x) ** 2 / expected_x + ((n - x) - expected_y) ** 2 / expected_y,
            0.0,
        ).sum(axis=0)
        p = special.chdtrc(np.maximum(k - 1, 1), chi2)
    p = np.where((pooled <= 0) | (pooled >= 1), 1.0, p)
    return np.where(k >= 2, p, np.nan)


def extend_summary(
    out: Rows,
    ctx: GroupingContext,
    metrics: Sequence[str],
    kinds: Sequence[str],
    value: FloatArray,
    lower: FloatArray,
    upper: FloatArray,
    lowest: IntArray,
    highest: IntArray,
    defined: npt.NDArray[np.bool_],
    p_value: FloatArray,
    test: Sequence[str],
) -> None:
    """Append one grouping's spreads (one row per metric and form).

    Parameters
    ----------
    out : Rows
        The accumulator.
    ctx : GroupingContext
        The grouping.
    metrics, kinds : sequence of str, length m
        Each row's metric and form.
    value, lower, upper, p_value : ndarray of float64, shape (m,)
        The spreads, their simultaneous intervals and homogeneity p-values.
    lowest, highest : ndarray of intp, shape (m,)
        The groups at either end.
    defined : ndarray of bool, shape (m,)
        Where two or more judged groups have a value (elsewhere the row is empty).
    test : sequence of str, length m
        The test behind each p-value.
    """
    m = len(metrics)
    labels = np.asarray(ctx.labels, dtype=object)
    nan = np.full(m, np.nan)
    out.extend(
        out.summary,
        m,
        grouping=ctx.name,
        metric=list(metrics),
        kind=list(kinds),
        name=[DISPARITY_NAMES[(mt, kd)] for mt, kd in zip(metrics, kinds, strict=True)],
        value=np.where(defined, value, nan),
        lower=np.where(defined, lower, nan),
        upper=np.where(defined, upper, nan),
        lowest_group=np.where(defined, labels[lowest], "").tolist(),
        highest_group=np.where(defined, labels[highest], "").tolist(),
        p_value=np.asarray(p_value, dtype=np.float64),
        test=list(test),
    )


def emit_summary(out: Rows, ctx: GroupingContext, rates: Rates) -> None:
    """Add the spread of every compared proportion over the judged groups to ``out.summary``.

    The difference is highest minus lowest, the ratio lowest over highest; their
    intervals hold simultaneously over all pairs of groups (Bonferroni). The
    equalized-odds spread is the larger of the TPR and FPR spreads, each bounded
    at half the error rate.

    Parameters
    ----------
    out : Rows
        The accumulator.
    ctx : GroupingContext
        The grouping.
    rates : Rates
        Its proportions.
    """
    keep = ctx.judged
    first, second = pairs(keep)
    n_pairs = max(first.size, 1)
    x, n, v = rates.successes[:, _COLS], rates.trials[:, _COLS], rates.value[:, _COLS]
    p_hom = _homogeneity(x[keep], n[keep])
    lowest, highest, defined = extremes(v, keep)
    cols = np.arange(len(COMPARED))
    lo_v, hi_v = v[lowest, cols], v[highest, cols]
    with np.errstate(divide="ignore", invalid="ignore"):
        spread, ratio = hi_v - lo_v, np.where(hi_v > 0, lo_v / hi_v, np.nan)

    def bounds(alpha: float) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
        z = _z(alpha)
        d_lo, d_hi = newcombe_interval(x[first], n[first], x[second], n[second], z)
        r_lo, r_hi = katz_ratio_interval(x[first], n[first], x[second], n[second], z)
        a_lo, a_hi = max_interval(*abs_interval(d_lo, d_hi))
        s_lo, s_hi = max_interval(*symmetric_ratio_interval(r_lo, r_hi), smallest=True)
        return a_lo, a_hi, s_lo, s_hi

    a_lo, a_hi, s_lo, s_hi = bounds(ctx.alpha / n_pairs)
    e_lo, e_hi, _, _ = bounds(ctx.alpha / (2 * n_pairs))
    # Equalized odds: the larger of the TPR and FPR spreads.
    pick = _TPR if not spread[_TPR] < spread[_FPR] else _FPR
    eo = float(np.fmax(spread[_TPR], spread[_FPR]))
    eo_p = min(1.0, 2.0 * float(np.fmin(p_hom[_TPR], p_hom[_FPR])))

    def both(a: FloatArray, b: FloatArray) -> FloatArray:
        return np.stack([a, b], axis=1).ravel()

    extend_summary(
        out,
        ctx,
        metrics=[m for m in COMPARED for _ in range(2)] + ["equalized_odds"],
        kinds=["difference", "ratio"] * len(COMPARED) + ["difference"],
        value=np.r_[both(spread, ratio), eo],
        lower=np.r_[both(a_lo, s_lo), np.fmax(e_lo[_TPR], e_lo[_FPR])],
        upper=np.r_[both(a_hi, s_hi), np.fmax(e_hi[_TPR], e_hi[_FPR])],
        lowest=np.r_[np.repeat(lowest, 2), lowest[pick]],
        highest=np.r_[np.repeat(highest, 2), highest[pick]],
        defined=np.r_[np.repeat(defined, 2), defined[_TPR] or defined[_FPR]],
        p_value=np.r_[both(p_hom, p_hom), eo_p],
        test=["chi2"] * (2 * len(COMPARED)) + ["bonferroni(tpr, fpr)"],
    )
