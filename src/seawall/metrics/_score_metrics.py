"""ROC AUC, Brier score and calibration error per group, with bootstrap intervals.

Point estimates are exact. Intervals come from the Poisson bootstrap of a
score histogram per fine cell and class (see ``_scores``); AUC replicates are
shifted by the difference between the exact and the binned estimate.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import special

from seawall.exceptions import SeawallWarning
from seawall.metrics._bootstrap import percentile_interval, poisson_replicates
from seawall.metrics._comparisons import GroupingContext, extend_disparities, extend_summary
from seawall.metrics._counts import CountTables, Grouping
from seawall.metrics._definitions import SCORE_METRICS, Rows
from seawall.metrics._scores import (
    ScoreHistogram,
    auc_by_group,
    build_score_histogram,
    histogram_metrics,
)
from seawall.metrics._significance import wald_homogeneity_pvalue
from seawall.metrics._spread import abs_interval, extremes, max_interval, pairs

__all__ = ["ScoreStats", "emit_score_metrics"]

FloatArray = npt.NDArray[np.float64]


def _grouping_histogram_metrics(
    hist: ScoreHistogram, grouping: Grouping, weight: FloatArray, s1: FloatArray, s2: FloatArray
) -> FloatArray:
    """(..., n_groups, 3) AUC, Brier and ECE of a grouping from fine histograms."""
    parts = []
    for arr in (weight, s1, s2):
        shape = arr.shape
        agg = grouping.aggregate(arr.reshape(*shape[:-2], shape[-2] * shape[-1]))
        parts.append(agg.reshape(*agg.shape[:-1], 2, shape[-1]))
    auc, brier, ece = histogram_metrics(
        parts[0], parts[1], parts[2], hist.calibration_bin, hist.n_calibration_bins
    )
    return np.stack([auc, brier, ece], axis=-1)


@dataclass(frozen=True, slots=True)
class ScoreStats:
    """Score metrics of every grouping: exact, binned, and bootstrap replicates.

    Each list holds one array per grouping: ``exact`` and ``binned`` of shape
    (n_groups, 3) and ``replicates`` of shape (n_bootstrap, n_groups, 3), the last
    axis being AUC, Brier, ECE.
    """

    exact: list[FloatArray]
    binned: list[FloatArray]
    replicates: list[FloatArray]
    calibrated: bool

    @classmethod
    def compute(
        cls,
        scores: FloatArray,
        y_true: npt.NDArray[np.int8],
        weight: FloatArray | None,
        tables: CountTables,
        n_calibration_bins: int,
        n_bootstrap: int,
        rng: np.random.Generator,
    ) -> ScoreStats:
        """Compute the exact metrics and draw the bootstrap replicates.

        Parameters
        ----------
        scores : ndarray of float64, shape (n,)
            The scores.
        y_true : ndarray of int8, shape (n,)
            Binary labels.
        weight : ndarray of float64, shape (n,), or None
            Row weights.
        tables : CountTables
            The fine cells and groupings.
        n_calibration_bins : int
            Bins of the ECE.
        n_bootstrap : int
            Replicates to draw.
        rng : numpy.random.Generator
            The source of randomness.

        Returns
        -------
        ScoreStats
            The metrics.
        """
        calibrated = bool(scores.min() >= 0.0 and scores.max() <= 1.0)
        if not calibrated:
            warnings.warn(
                f"y_score has values outside [0, 1] (min {scores.min():.4g}, max "
                f"{scores.max():.4g}); the Brier score and calibration error need "
                f"probabilities and are left out (NaN). AUC is computed.",
                SeawallWarning,
                stacklevel=3,
            )
            lo, hi = scores.min(), scores.max()
            # Only AUC is read from the histogram then: any monotone map will do.
            hist_scores = (scores - lo) / (hi - lo) if hi > lo else np.zeros_like(scores)
        else:
            hist_scores = scores
        row_cell = tables.row_cells()
        hist = build_score_histogram(
            hist_scores, y_true, weight, row_cell, tables.n_fine, n_calibration_bins
        )
        blank = np.array([1.0, np.nan, np.nan]) if not calibrated else np.ones(3)
        order = np.argsort(scores, kind="stable")
        exact, binned = [], []
        for grouping in tables.groupings:
            members = grouping.members[row_cell]
            auc = auc_by_group(scores, y_true, weight, members, grouping.n_groups, order)
            b = _grouping_histogram_metrics(hist, grouping, hist.weight, hist.s1, hist.s2)
            b = b * blank
            e = b.copy()
            e[:, 0] = auc
            exact.append(e)
            binned.append(b)
        parts: list[list[FloatArray]] = [[] for _ in tables.groupings]
        for _, w, s1, s2 in poisson_replicates(
            hist.rows, n_bootstrap, rng, per_row=(hist.weight, hist.s1, hist.s2)
        ):
            for j, grouping in enumerate(tables.groupings):
                parts[j].append(_grouping_histogram_metrics(hist, grouping, w, s1, s2) * blank)
        replicates = [
            np.concatenate(p) if p else np.empty((0, g.n_groups, 3))
            for p, g in zip(parts, tables.groupings, strict=True)
        ]
        return cls(exact, binned, replicates, calibrated)


def _bootstrap_z_pvalue(value: float, replicates: FloatArray) -> float:
    """Two-sided normal p-value of ``value`` with the replicates' standard error."""
    ok = replicates[np.isfinite(replicates)]
    if ok.size < 2 or not np.isfinite(value):
        return float("nan")
    se = float(np.std(ok, ddof=1))
    if se == 0.0:
        return 1.0 if value == 0.0 else 0.0
    return float(2.0 * special.ndtr(-abs(value) / se))


def emit_score_metrics(
    out: Rows, ctx: GroupingContext, stats_: ScoreStats, j: int, confidence_level: float
) -> None:
    """Add per-group score metrics, differences to the reference and spreads.

    Parameters
    ----------
    out : Rows
        The accumulator.
    ctx : GroupingContext
        The grouping.
    stats_ : ScoreStats
        The score metrics of every grouping.
    j : int
        This grouping's index.
    confidence_level : float
        The level of every interval.
    """
    exact, reps = stats_.exact[j], stats_.replicates[j]
    shift = exact - stats_.binned[j]
    lower, upper = percentile_interval(reps, confidence_level, shift)
    g, m = len(ctx.labels), len(SCORE_METRICS)
    out.extend(
        out.metrics,
        g * m,
        grouping=ctx.name,
        group=[lab for lab in ctx.labels for _ in range(m)],
        metric=list(SCORE_METRICS) * g,
        value=exact.ravel(),
        lower=lower.ravel(),
        upper=upper.ravel(),
        denominator=np.repeat(ctx.rows, m),
        method="bootstrap",
        small=[s for s in ctx.small.tolist() for _ in range(m)],
    )
    ref, others = ctx.ref, ctx.others
    diffs = reps - reps[:, [ref], :]  # (B, G, 3)
    d_lo, d_hi = percentile_interval(diffs, confidence_level, shift - shift[[ref], :])
    value = exact[others] - exact[ref]
    p_value = np.array(
        [
            [_bootstrap_z_pvalue(float(value[i, k]), diffs[:, g_, k]) for k in range(m)]
            for i, g_ in enumerate(others)
        ]
    ).reshape(len(others), m)
    extend_disparities(
        out,
        ctx,
        others,
        SCORE_METRICS,
        ["difference"] * m,
        value,
        d_lo[others],
        d_hi[others],
        p_value,
        ["bootstrap-z"] * m,
    )
    keep = ctx.judged
    first, second = pairs(keep)
    level = 1.0 - (1.0 - confidence_level) / max(first.size, 1)
    pair_reps = reps[:, first, :] - reps[:, second, :]
    p_lo, p_hi = percentile_interval(pair_reps, level, shift[first] - shift[second])
    s_lo, s_hi = max_interval(*abs_interval(p_lo, p_hi))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        var = np.nanvar(reps[:, keep, :], axis=0, ddof=1) if reps.shape[0] > 1 else None
    lowest, highest, defined = extremes(exact, keep)
    cols = np.arange(m)
    p_hom = np.array(
        [
            wald_homogeneity_pvalue(exact[keep, k], var[:, k]) if var is not None else np.nan
            for k in range(m)
        ]
    )
    extend_summary(
        out,
        ctx,
        SCORE_METRICS,
        ["difference"] * m,
        exact[highest, cols] - exact[lowest, cols],
        s_lo,
        s_hi,
        lowest,
        highest,
        defined,
        p_hom,
        ["bootstrap-wald"] * m,
    )
