"""ROC AUC, Brier score and calibration error per group, with bootstrap intervals.

Point estimates are exact. Intervals come from the Poisson bootstrap of a
score histogram per fine cell and class (see ``_scores``): BCa for AUC
(acceleration from a closed-form jackknife over histogram cells, bounds shifted
by the difference between the exact and the binned estimate), studentized for
the Brier score and for the debiased squared calibration error. Differences
between groups combine the two groups' intervals, which costs nothing per pair:
by MOVER for AUC and Brier score, as the box of two intervals at level
``sqrt(level)`` for the calibration error, whose intervals end at the boundary 0.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import special

from seawall.exceptions import SeawallWarning
from seawall.metrics._block import Block, grouped_extreme
from seawall.metrics._bootstrap import (
    bca_interval,
    poisson_replicates,
    studentized_interval,
)
from seawall.metrics._counts import CountTables, Grouping
from seawall.metrics._definitions import SCORE_METRICS, Rows
from seawall.metrics._jackknife import acceleration, histogram_jackknife
from seawall.metrics._scores import (
    CalibrationError,
    ScoreHistogram,
    auc_by_group,
    brier_standard_error,
    build_score_histogram,
    calibration_error,
    histogram_metrics,
    onto_unit,
)
from seawall.metrics._significance import wald_homogeneity_pvalue
from seawall.metrics._spread import abs_interval

__all__ = ["ScoreStats", "emit_score_metrics"]


FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.intp]


def _aggregate(grouping: Grouping, arr: FloatArray) -> FloatArray:
    """Sum (..., n_fine, 2, n_bins) fine histograms into (..., n_groups, 2, n_bins)."""
    shape = arr.shape
    agg = grouping.aggregate(arr.reshape(*shape[:-2], shape[-2] * shape[-1]))
    return agg.reshape(*agg.shape[:-1], 2, shape[-1])


def _group_metrics(
    hist: ScoreHistogram, agg: list[FloatArray]
) -> tuple[FloatArray, FloatArray, CalibrationError]:
    """AUC, Brier and ECE (..., n_groups, 3), the Brier SE and the calibration parts.

    ``agg`` holds a grouping's histogram rows, weight, s1 .. s4 and, with
    weights, its three squared-weight sums (or replicates of them).
    """
    rows, weight, s1, s2 = agg[:4]
    squared = (rows, s1, s2) if len(agg) == 6 else (agg[6], agg[7], agg[8])
    auc, brier = histogram_metrics(weight, s1, s2)
    cal = calibration_error(weight, s1, s2, squared, hist.calibration_bin, hist.n_calibration_bins)
    metrics = np.stack([auc, brier, cal.value], axis=-1)
    return metrics, brier_standard_error(*agg[:6]), cal


def _concat(parts: list[CalibrationError], axis: int, empty: tuple[int, ...]) -> CalibrationError:
    """Join calibration errors along ``axis``; ``empty`` is the shape when there are none."""
    fields = ("squared", "plugin", "standard_error", "null_pvalue")
    if not parts:
        return CalibrationError(*(np.empty(empty) for _ in fields))
    return CalibrationError(
        *(np.concatenate([getattr(p, f) for p in parts], axis=axis) for f in fields)
    )


@dataclass(frozen=True, slots=True)
class ScoreStats:
    """Score metrics of every group of the block: exact, binned, bootstrap replicates.

    ``exact`` and ``binned`` have shape (n, 3) and ``replicates`` (n_bootstrap, n, 3),
    groups stacked grouping after grouping, the last axis being AUC, Brier, ECE.
    ``jackknife`` (n, 2, n_cells) holds AUC and Brier with one row of each
    histogram cell left out, ``multiplicity`` (n, n_cells) the cells' rows;
    ``brier_se`` (n,) and ``brier_se_replicates`` (n_bootstrap, n) the standard
    error of the Brier score, for its studentized interval; ``calibration`` (n,)
    and ``calibration_replicates`` (n_bootstrap, n) the debiased squared
    calibration error behind the ECE, for its studentized interval.
    """

    exact: FloatArray
    binned: FloatArray
    replicates: FloatArray
    jackknife: FloatArray
    multiplicity: FloatArray
    brier_se: FloatArray
    brier_se_replicates: FloatArray
    calibration: CalibrationError
    calibration_replicates: CalibrationError
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
            hist_scores = onto_unit(scores, lo, hi)
        else:
            hist_scores = scores
        row_cell = tables.row_cells()
        hist = build_score_histogram(
            hist_scores, y_true, weight, row_cell, tables.n_fine, n_calibration_bins
        )
        order = np.argsort(scores, kind="stable")
        aucs = [
            auc_by_group(scores, y_true, weight, g.members[row_cell], g.n_groups, order)
            for g in tables.groupings
        ]
        return cls.from_histogram(hist, tables, aucs, calibrated, n_bootstrap, rng)

    @classmethod
    def from_histogram(
        cls,
        hist: ScoreHistogram,
        tables: CountTables,
        aucs: list[FloatArray],
        calibrated: bool,
        n_bootstrap: int,
        rng: np.random.Generator,
    ) -> ScoreStats:
        """The statistics from the score histogram and each grouping's exact AUC.

        The part of :meth:`compute` after the pass over the rows: a histogram
        added up from partitions of a larger table (on the pooled scores' bin
        edges) and AUCs assembled from score ranges give the same result.

        Parameters
        ----------
        hist : ScoreHistogram
            Per fine cell and class, the binned score sums.
        tables : CountTables
            The fine cells and groupings.
        aucs : list of ndarray of float64
            Each grouping's exact AUC per group.
        calibrated : bool
            Whether the scores were probabilities (else only AUC is kept).
        n_bootstrap : int
            Replicates to draw.
        rng : numpy.random.Generator
            The source of randomness.

        Returns
        -------
        ScoreStats
            The metrics.
        """
        blank = np.array([1.0, np.nan, np.nan]) if not calibrated else np.ones(3)
        exact, binned, jack, mult, brier_se, cal = [], [], [], [], [], []
        moments: tuple[FloatArray, ...] = (
            *(hist.rows, hist.weight, hist.s1, hist.s2, hist.s3, hist.s4),
            *(hist.squared_weights or ()),
        )
        for grouping, auc in zip(tables.groupings, aucs, strict=True):
            agg = [_aggregate(grouping, a) for a in moments]
            v, m = histogram_jackknife(*agg[:4])
            jack.append(v)
            mult.append(m)
            b, se, c = _group_metrics(hist, agg)
            brier_se.append(se)
            cal.append(c)
            b = b * blank
            e = b.copy()
            e[:, 0] = auc
            exact.append(e)
            binned.append(b)
        parts: list[FloatArray] = []
        se_parts: list[FloatArray] = []
        cal_parts: list[CalibrationError] = []
        n_groups = sum(g.n_groups for g in tables.groupings)
        for rep in poisson_replicates(hist.rows, n_bootstrap, rng, per_row=moments[1:]):
            triples = [
                _group_metrics(hist, [_aggregate(g, a) for a in rep]) for g in tables.groupings
            ]
            parts.append(np.concatenate([t[0] for t in triples], axis=1) * blank)
            se_parts.append(np.concatenate([t[1] for t in triples], axis=1))
            cal_parts.append(_concat([t[2] for t in triples], 1, (len(rep[0]), n_groups)))
        replicates = np.concatenate(parts) if parts else np.empty((0, n_groups, 3))
        se_reps = np.concatenate(se_parts) if se_parts else np.empty((0, n_groups))
        return cls(
            np.concatenate(exact),
            np.concatenate(binned),
            replicates,
            np.concatenate(jack),
            np.concatenate(mult),
            np.concatenate(brier_se),
            se_reps,
            _concat(cal, 0, (n_groups,)),
            _concat(cal_parts, 0, (0, n_groups)),
            calibrated,
        )


def _bootstrap_z_pvalues(value: FloatArray, replicates: FloatArray) -> FloatArray:
    """Two-sided normal p-values of ``value`` (shape (k, m)) with bootstrap standard errors."""
    finite = np.isfinite(replicates)
    count = finite.sum(axis=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        se = np.nanstd(replicates, axis=0, ddof=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = 2.0 * special.ndtr(-np.abs(value) / se)
    p = np.where(se == 0, np.where(value == 0, 1.0, 0.0), p)
    return np.where((count >= 2) & np.isfinite(value), p, np.nan)


def emit_score_metrics(
    out: Rows, block: Block, stats_: ScoreStats, confidence_level: float
) -> None:
    """Add per-group score metrics, differences to the reference and spreads.

    Parameters
    ----------
    out : Rows
        The accumulator.
    block : Block
        The groups.
    stats_ : ScoreStats
        Their score metrics.
    confidence_level : float
        The level of every interval.
    """
    exact, reps = stats_.exact, stats_.replicates
    shift = exact - stats_.binned
    accel = np.zeros_like(exact)
    accel[:, :2] = acceleration(stats_.jackknife, stats_.multiplicity[:, None, :])

    def group_bounds(level: float) -> tuple[FloatArray, FloatArray]:
        # AUC: BCa (the percentile interval under-covers it in small groups);
        # Brier: studentized (bootstrap-t), as a skewed mean needs; ECE: studentized
        # on the debiased square, see _ece_bounds.
        lo, hi = bca_interval(reps, stats_.binned, accel, level, shift)
        b_lo, b_hi = studentized_interval(
            reps[:, :, 1],
            stats_.binned[:, 1],
            stats_.brier_se_replicates,
            stats_.brier_se,
            level,
        )
        lo[:, 1], hi[:, 1] = b_lo, b_hi
        lo[:, 2], hi[:, 2] = _ece_bounds(stats_, level)
        return lo, hi

    def difference_bounds(
        level: float, first: IntArray, second: IntArray
    ) -> tuple[FloatArray, FloatArray]:
        # AUC, Brier: MOVER. ECE: the box of the two groups' intervals at level
        # sqrt(level) (independent groups), as MOVER reads a bound at 0 as a
        # 2.5% tail while for a calibrated group it is where the truth sits.
        lo, hi = _mover(exact, *group_bounds(level), first, second)
        box_lower, box_upper = group_bounds(float(np.sqrt(level)))
        lo[:, 2] = box_lower[first, 2] - box_upper[second, 2]
        hi[:, 2] = box_upper[first, 2] - box_lower[second, 2]
        return lo, hi

    lower, upper = group_bounds(confidence_level)
    m = len(SCORE_METRICS)
    block.extend_metrics(out, SCORE_METRICS, exact, lower, upper, block.rows[:, None], "bootstrap")
    others = block.others
    ref = block.ref[others]
    value = exact[others] - exact[ref]
    d_lo, d_hi = difference_bounds(confidence_level, others, ref)
    block.extend_disparities(
        out,
        others,
        SCORE_METRICS,
        ["difference"] * m,
        value,
        d_lo,
        d_hi,
        _bootstrap_z_pvalues(value, reps[:, others, :] - reps[:, ref, :]),
        ["bootstrap-z"] * m,
    )
    # Spreads: the lower bound of the largest gap is Bonferroni-corrected over the
    # grouping's K pairs; the upper bound keeps the nominal level (see _comparisons).
    first, second, owner, n_pairs = block.judged_pairs()
    n_j = block.n_groupings
    plain_hi = abs_interval(*difference_bounds(confidence_level, first, second))[1]
    adj_lo = np.full((first.size, m), np.nan)
    k_pairs = n_pairs[owner]
    for k in np.unique(k_pairs):
        sel = k_pairs == k
        adj_level = 1.0 - (1.0 - confidence_level) / float(k)
        adj_lo[sel] = abs_interval(*difference_bounds(adj_level, first[sel], second[sel]))[0]
    lowest, highest, defined = block.extremes(exact)
    cols = np.arange(m)[None, :]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        var = np.nanvar(reps, axis=0, ddof=1) if reps.shape[0] > 1 else np.full_like(exact, np.nan)
    judged = ~block.small
    p_hom = np.array(
        [
            [wald_homogeneity_pvalue(exact[sel, k], var[sel, k]) for k in range(m)]
            for sel in (judged & (block.grouping == j) for j in range(n_j))
        ]
    ).reshape(n_j, m)
    block.extend_summary(
        out,
        SCORE_METRICS,
        ["difference"] * m,
        exact[highest, cols] - exact[lowest, cols],
        grouped_extreme(adj_lo, owner, n_j),
        grouped_extreme(plain_hi, owner, n_j),
        lowest,
        highest,
        defined,
        p_hom,
        ["bootstrap-wald"] * m,
    )


def _ece_bounds(stats_: ScoreStats, level: float) -> tuple[FloatArray, FloatArray]:
    """Interval of the ECE: studentized bootstrap of its debiased square ``T``.

    The replicates' ``(T* - P) / se*`` are centred on the plug-in ``P``, the
    estimand's value in the bootstrap world. The lower bound rises above 0 only
    where the calibration test rejects at ``(1 - level) / 2``: for calibrated
    scores ``T`` is a degenerate U-statistic, on which the bootstrap is not
    consistent (alone, it put the lower bound above 0 in about 9% of simulated
    calibrated groups of 30 rows). The bounds are then square-rooted.
    """
    cal, reps = stats_.calibration, stats_.calibration_replicates
    if not stats_.calibrated:
        nan = np.full(cal.squared.shape, np.nan)
        return nan, nan.copy()
    t_lo, t_hi = studentized_interval(
        reps.squared, cal.squared, reps.standard_error, cal.standard_error, level, cal.plugin
    )
    rejected = cal.null_pvalue < (1.0 - level) / 2.0
    t_lo = np.where(rejected, t_lo, np.minimum(t_lo, 0.0))
    with np.errstate(invalid="ignore"):
        return np.sqrt(np.maximum(t_lo, 0.0)), np.sqrt(np.maximum(t_hi, 0.0))


def _mover(
    value: FloatArray, lower: FloatArray, upper: FloatArray, first: IntArray, second: IntArray
) -> tuple[FloatArray, FloatArray]:
    """Interval of ``value[first] - value[second]`` for independent groups, by MOVER.

    Zou and Donner's method of variance estimates recovery combines the two
    groups' own intervals (the construction behind Newcombe's interval for
    proportions): ``d - sqrt((v1 - l1)^2 + (u2 - v2)^2)`` and
    ``d + sqrt((u1 - v1)^2 + (v2 - l2)^2)``. It keeps the skewness the groups'
    BCa intervals found, which a bootstrap of the difference loses.

    References
    ----------
    .. [1] G. Y. Zou, A. Donner, "Construction of confidence limits about effect
       measures: a general approach", Statistics in Medicine 27 (2008) 1693-1702.
    """
    v1, v2 = value[first], value[second]
    d = v1 - v2
    lo = d - np.sqrt((v1 - lower[first]) ** 2 + (upper[second] - v2) ** 2)
    hi = d + np.sqrt((upper[first] - v1) ** 2 + (v2 - lower[second]) ** 2)
    return lo, hi
