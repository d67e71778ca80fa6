"""Comparisons of proportions between groups: against the reference, and the spread.

Pairwise: Newcombe intervals for differences, Koopman or Katz for ratios, Fisher or z
tests. Equalized odds (the larger of the TPR and FPR gaps) and the spread of
every grouping (the largest gap between two judged groups) get intervals built
from the pairwise ones. The bound that a data-chosen pair could break is
Bonferroni-corrected; the other only has to hold for the one (unknown but
fixed) pair that attains the true extreme, so it keeps the nominal level. The
spreads are tested with a chi-square test of homogeneity.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import special

from seawall.metrics._block import Block, grouped_extreme, grouped_sum, z_value
from seawall.metrics._definitions import COMPARED, METRIC_INDEX, Rows
from seawall.metrics._intervals import newcombe_interval, ratio_interval
from seawall.metrics._significance import two_proportion_pvalue
from seawall.metrics._spread import abs_interval, symmetric_ratio_interval

__all__ = ["Rates", "emit_pairwise", "emit_summary"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.intp]
_COLS = [METRIC_INDEX[m] for m in COMPARED]
_TPR, _FPR = COMPARED.index("tpr"), COMPARED.index("fpr")
_EO = [_TPR, _FPR]


@dataclass(frozen=True, slots=True)
class Rates:
    """Every proportion of every group of the block, each of shape (n, n_metrics).

    ``successes`` and ``trials`` are effective counts (Kish) when rows are weighted.
    """

    value: FloatArray
    successes: FloatArray
    trials: FloatArray
    lower: FloatArray
    upper: FloatArray


def _both(a: FloatArray, b: FloatArray) -> FloatArray:
    """Interleave columns: each metric's difference, then its ratio."""
    return np.stack([a, b], axis=-1).reshape(*a.shape[:-1], -1)


def emit_pairwise(out: Rows, block: Block, rates: Rates, exact_allowed: bool) -> None:
    """Add every group's comparison with its reference to ``out.disparities``.

    Parameters
    ----------
    out : Rows
        The accumulator.
    block : Block
        The groups.
    rates : Rates
        Their proportions.
    exact_allowed : bool
        Whether counts are whole (unweighted), so Fisher's test applies to small cells.
    """
    others = block.others
    if others.size == 0:
        return
    ref = block.ref[others]
    x1, n1 = rates.successes[others][:, _COLS], rates.trials[others][:, _COLS]
    x2, n2 = rates.successes[ref][:, _COLS], rates.trials[ref][:, _COLS]
    z = z_value(block.alpha)
    d_lo, d_hi = newcombe_interval(x1, n1, x2, n2, z)
    r_lo, r_hi = ratio_interval(x1, n1, x2, n2, z)
    pv, exact = two_proportion_pvalue(
        x1.ravel(), n1.ravel(), x2.ravel(), n2.ravel(), exact_allowed=exact_allowed
    )
    pv, exact = pv.reshape(x1.shape), exact.reshape(x1.shape)
    p1, p2 = rates.value[others][:, _COLS], rates.value[ref][:, _COLS]
    with np.errstate(divide="ignore", invalid="ignore"):
        diff, ratio = p1 - p2, p1 / p2
    # Equalized odds max(|dTPR|, |dFPR|): the lower bound holds for both gaps at once
    # (Bonferroni over two), the upper bound for the gap that is truly the larger.
    adjusted = newcombe_interval(
        x1[:, _EO], n1[:, _EO], x2[:, _EO], n2[:, _EO], z_value(block.alpha / 2.0)
    )
    eo_lo = _row_max(abs_interval(*adjusted)[0])
    eo_hi = _row_max(abs_interval(d_lo[:, _EO], d_hi[:, _EO])[1])
    eo = np.fmax(np.abs(diff[:, _TPR]), np.abs(diff[:, _FPR]))
    eo_p = np.minimum(1.0, 2.0 * np.fmin(pv[:, _TPR], pv[:, _FPR]))
    tests = np.where(exact, "fisher", "z").astype(object)
    block.extend_disparities(
        out,
        others,
        metrics=[m for m in COMPARED for _ in range(2)] + ["equalized_odds"],
        kinds=["difference", "ratio"] * len(COMPARED) + ["difference"],
        value=np.column_stack([_both(diff, ratio), eo]),
        lower=np.column_stack([_both(d_lo, r_lo), eo_lo]),
        upper=np.column_stack([_both(d_hi, r_hi), eo_hi]),
        p_value=np.column_stack([_both(pv, pv), eo_p]),
        test=np.column_stack(
            [np.repeat(tests, 2, axis=1), np.full(others.size, "bonferroni(tpr, fpr)", object)]
        ),
    )


def _row_max(a: FloatArray) -> FloatArray:
    """Largest finite entry of each row; NaN where none is finite."""
    finite = np.isfinite(a)
    out = np.max(np.where(finite, a, -np.inf), axis=1) if a.shape[1] else np.full(len(a), -np.inf)
    return np.where(finite.any(axis=1), out, np.nan)


def _homogeneity(block: Block, x: FloatArray, n: FloatArray) -> FloatArray:
    """Pearson chi-square p-value of equal proportions per grouping and column.

    Only judged groups with trials count; shape (n_groupings, m). A column whose
    groups never vary gets 1, one with fewer than two groups NaN.
    """
    valid = (n > 0) & ~block.small[:, None]
    gid = block.grouping
    n_j = block.n_groupings
    x = np.where(valid, x, 0.0)
    n = np.where(valid, n, 0.0)
    k = grouped_sum(valid.astype(np.float64), gid, n_j)
    with np.errstate(divide="ignore", invalid="ignore"):
        pooled = grouped_sum(x, gid, n_j) / grouped_sum(n, gid, n_j)
        p0 = pooled[gid]
        ex, ey = n * p0, n * (1.0 - p0)
        terms = np.where(valid, (x - ex) ** 2 / ex + ((n - x) - ey) ** 2 / ey, 0.0)
        chi2 = grouped_sum(terms, gid, n_j)
        p = special.chdtrc(np.maximum(k - 1, 1), chi2)
    p = np.where((pooled <= 0) | (pooled >= 1), 1.0, p)
    return np.where(k >= 2, p, np.nan)


def emit_summary(out: Rows, block: Block, rates: Rates) -> None:
    """Add every grouping's spread of every compared proportion to ``out.summary``.

    The difference is highest minus lowest, the ratio lowest over highest, over
    the judged groups. With ``K`` pairs of judged groups, the bound a data-chosen
    pair could break (the lower bound of a largest gap, the upper bound of a
    smallest ratio) uses level ``1 - alpha/K``; the other uses ``1 - alpha``.
    Equalized odds is the larger of the TPR and FPR spreads (``2K`` gaps).

    Parameters
    ----------
    out : Rows
        The accumulator.
    block : Block
        The groups.
    rates : Rates
        Their proportions.
    """
    first, second, owner, n_pairs = block.judged_pairs()
    n_j = block.n_groupings
    x, n, v = rates.successes[:, _COLS], rates.trials[:, _COLS], rates.value[:, _COLS]
    p_hom = _homogeneity(block, x, n)
    lowest, highest, defined = block.extremes(v)
    cols = np.arange(len(COMPARED))[None, :]
    lo_v, hi_v = v[lowest, cols], v[highest, cols]
    with np.errstate(divide="ignore", invalid="ignore"):
        spread, ratio = hi_v - lo_v, np.where(hi_v > 0, lo_v / hi_v, np.nan)

    a = (x[first], n[first], x[second], n[second])
    # Per pair: the nominal quantile, the one Bonferroni-corrected over its
    # grouping's pairs, and that of equalized odds (also over TPR and FPR); one call
    # of each interval kernel serves all three levels (stacked on a leading axis).
    per_grouping = np.array(
        [
            [z_value(block.alpha), z_value(block.alpha / k), z_value(block.alpha / (2.0 * k))]
            for k in n_pairs.astype(np.float64)
        ]
    ).reshape(-1, 3)
    z = per_grouping[owner].T[:, :, None]  # (3 levels, pairs, 1)
    d_lo, d_hi = abs_interval(*newcombe_interval(*a, z))
    s_lo, s_hi = symmetric_ratio_interval(*ratio_interval(*a, z[:2]))
    # Largest gap: lower bound at the corrected level, upper at the nominal one;
    # smallest ratio the other way round (see the module docstring).
    spread_lo = grouped_extreme(d_lo[1], owner, n_j)
    spread_hi = grouped_extreme(d_hi[0], owner, n_j)
    ratio_lo = grouped_extreme(s_lo[0], owner, n_j, smallest=True)
    ratio_hi = grouped_extreme(s_hi[1], owner, n_j, smallest=True)
    eo_lo = np.fmax.reduce(grouped_extreme(d_lo[2][:, _EO], owner, n_j), axis=1)
    eo_hi = np.fmax.reduce(grouped_extreme(d_hi[0][:, _EO], owner, n_j), axis=1)
    # Equalized odds: the larger of the TPR and FPR spreads.
    pick = np.where(spread[:, _TPR] < spread[:, _FPR], _FPR, _TPR)
    rows = np.arange(n_j)
    eo_p = np.minimum(1.0, 2.0 * np.fmin(p_hom[:, _TPR], p_hom[:, _FPR]))
    n_c = len(COMPARED)
    block.extend_summary(
        out,
        metrics=[m for m in COMPARED for _ in range(2)] + ["equalized_odds"],
        kinds=["difference", "ratio"] * n_c + ["difference"],
        value=np.column_stack([_both(spread, ratio), np.fmax(spread[:, _TPR], spread[:, _FPR])]),
        lower=np.column_stack([_both(spread_lo, ratio_lo), eo_lo]),
        upper=np.column_stack([_both(spread_hi, ratio_hi), eo_hi]),
        lowest=np.column_stack([np.repeat(lowest, 2, axis=1), lowest[rows, pick]]),
        highest=np.column_stack([np.repeat(highest, 2, axis=1), highest[rows, pick]]),
        defined=np.column_stack(
            [np.repeat(defined, 2, axis=1), defined[:, _TPR] | defined[:, _FPR]]
        ),
        p_value=np.column_stack([_both(p_hom, p_hom), eo_p]),
        test=["chi2"] * (2 * n_c) + ["bonferroni(tpr, fpr)"],
    )
