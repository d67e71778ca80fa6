"""Group fairness metrics with intervals and tests, from one pass over the rows."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

import numpy as np
import numpy.typing as npt

from seawall._validation import check_lengths, check_real, to_binary, to_float, to_weights
from seawall.metrics._assembly import (
    CommonParams,
    build_result,
    checked_count_tables,
    make_block,
    sensitive_columns,
)
from seawall.metrics._block import Block
from seawall.metrics._comparisons import Rates, emit_pairwise, emit_summary
from seawall.metrics._counts import CountTables
from seawall.metrics._definitions import DEN, NUM, PROPORTION_METRICS, Rows
from seawall.metrics._intervals import normal_quantile, wilson_interval
from seawall.metrics._result import GroupMetrics
from seawall.metrics._score_metrics import ScoreStats, emit_score_metrics

__all__ = ["group_metrics", "metrics_from_tables"]

FloatArray = npt.NDArray[np.float64]


def group_metrics(
    y_true: object,
    y_pred: object,
    *,
    sensitive_features: object,
    y_score: object | None = None,
    sample_weight: object | None = None,
    reference: str | Mapping[str, str] | None = None,
    min_group_size: int = 30,
    confidence_level: float = 0.95,
    correction: Literal["holm", "bh", "none"] = "holm",
    n_bootstrap: int = 1000,
    n_calibration_bins: int = 10,
    random_state: int = 0,
) -> GroupMetrics:
    """Fairness metrics of a binary classifier per group, with intervals and tests.

    Every row is counted once into a confusion table per intersection of the
    sensitive features; each feature alone and their intersection are sums of
    those tables. From them come, per group: size, base rate, selection rate,
    TPR, FPR, TNR, FNR, precision, NPV, accuracy and error rate (Wilson
    intervals), and with scores ROC AUC, Brier score and expected calibration
    error (Poisson-bootstrap intervals of the score histograms). The ECE is the
    root-mean-square gap between mean label and mean score over equal-width
    score bins, ``sqrt(sum_k p_k d_k**2)``, estimated without the upward bias
    of the plug-in (whose noise alone exceeds a real gap in small groups): an
    unbiased estimate of the square, 0 when it is negative. Each group is
    compared with its grouping's reference as a difference (Newcombe interval)
    and a ratio (Koopman's score interval with few successes, Katz's log
    interval otherwise), with a p-value (Fisher's exact test for small cells,
    the pooled two-proportion z-test otherwise) adjusted across all
    comparisons. Equalized odds (the larger of the TPR and FPR gaps) and the
    summary (the gap between the highest and lowest judged group of every
    grouping) get closed-form intervals built from the pairwise ones, with the
    bound that a data-chosen pair could break Bonferroni-corrected.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True binary labels (0/1 or bool).
    y_pred : array-like of shape (n_samples,)
        Binary decisions of the model (0/1 or bool).
    sensitive_features : array-like of shape (n_samples,) or table of shape (n_samples, k)
        One sensitive feature, or several as a pandas/polars DataFrame, pyarrow
        Table, dict of columns or 2-D array. With several, each is a grouping and
        so is their intersection (every observed combination is a group).
    y_score : array-like of shape (n_samples,), default=None
        Predicted probabilities of the positive class (any real score serves for
        AUC; Brier and ECE need probabilities in [0, 1]).
    sample_weight : array-like of shape (n_samples,), default=None
        Non-negative row weights. Intervals then use Kish's effective sample size.
    reference : str or mapping of str to str, default=None
        The reference group: a label (one feature) or ``{feature: label}``. The
        intersection's reference is the combination of the given labels. A
        grouping without one uses its largest group.
    min_group_size : int, default=30
        Groups with fewer rows are reported as too small to judge: their
        metrics are shown, but they are not tested, summarised or gated.
    confidence_level : float, default=0.95
        The level of every interval; tests use ``alpha = 1 - confidence_level``.
    correction : {"holm", "bh", "none"}, default="holm"
        Multiplicity correction across all comparisons (and, separately, across
        all summary rows): Holm (family-wise error), Benjamini-Hochberg (false
        discovery rate) or none.
    n_bootstrap : int, default=1000
        Poisson-bootstrap replicates of the score histograms, for the intervals
        of the score metrics; 0 skips them (those intervals are then NaN).
    n_calibration_bins : int, default=10
        Equal-width bins on [0, 1] of the expected calibration error. Only
        pairs of rows in one bin inform it, so a group with about one row per
        bin has an uninformative (wide) ECE interval.
    random_state : int, default=0
        Seed of the bootstrap.

    Returns
    -------
    GroupMetrics
        Frozen result with ``groups``, ``metrics``, ``disparities`` and
        ``summary`` tables, each with ``to_frame()`` and ``to_dict()``.

    Raises
    ------
    DataValidationError
        On non-binary or missing labels, misaligned inputs, a sensitive feature
        with a single group, or an unknown reference group.
    InsufficientDataError
        On empty input, or a reference group smaller than ``min_group_size``.
    InvalidParameterError
        On a parameter out of range.

    See Also
    --------
    regression_metrics : The same for regression models.

    References
    ----------
    .. [1] M. Feldman, S. Friedler, J. Moeller, C. Scheidegger,
       S. Venkatasubramanian, "Certifying and removing disparate impact", KDD 2015.
    .. [2] M. Hardt, E. Price, N. Srebro, "Equality of opportunity in supervised
       learning", NeurIPS 2016.
    .. [3] R. G. Newcombe, "Interval estimation for the difference between
       independent proportions", Statistics in Medicine 17 (1998).
    .. [4] A. B. Owen, D. Eckles, "Bootstrapping data arrays of arbitrary order",
       Ann. Appl. Stat. 6 (2012) (the Poisson bootstrap).

    Examples
    --------
    >>> y_true = [1, 1, 0, 0, 1, 1, 0, 0]
    >>> y_pred = [1, 1, 1, 0, 1, 0, 0, 0]
    >>> sex = ["F", "F", "F", "F", "M", "M", "M", "M"]
    >>> res = group_metrics(y_true, y_pred, sensitive_features=sex, min_group_size=1,
    ...                     reference="F", n_bootstrap=0)
    >>> print(res.metric("selection_rate", "M"))
    0.25 [0.04559, 0.6994]
    >>> print(res.disparity("disparate_impact", "M"))
    0.3333 [0.05792, 1.459]
    """
    caller = "group_metrics"
    params = CommonParams(caller, confidence_level, min_group_size, correction, random_state)
    n_boot = int(check_real(n_bootstrap, "n_bootstrap", caller, low=0, integer=True))
    n_calib = int(check_real(n_calibration_bins, "n_calibration_bins", caller, low=2, integer=True))

    yt = to_binary(y_true, "y_true")
    yp = to_binary(y_pred, "y_pred")
    n = check_lengths({"y_true": yt.size, "y_pred": yp.size})
    columns = sensitive_columns(sensitive_features, n)
    weight = to_weights(sample_weight, n)
    scores = None
    if y_score is not None:
        scores = to_float(y_score, "y_score")
        check_lengths({"y_true": n, "y_score": scores.size})

    tables = checked_count_tables(columns, (yt << 1) | yp, 4, weight)
    score_stats = None
    if scores is not None:
        score_stats = ScoreStats.compute(
            scores, yt, weight, tables, n_calib, n_boot, np.random.default_rng(params.seed)
        )
    return metrics_from_tables(tables, reference, params, n, score_stats, n_boot)


def metrics_from_tables(
    tables: CountTables,
    reference: str | Mapping[str, str] | None,
    params: CommonParams,
    n_rows: int,
    score_stats: ScoreStats | None = None,
    n_bootstrap: int = 0,
) -> GroupMetrics:
    """The classification result from confusion count tables (and score statistics).

    The part of :func:`group_metrics` after the one pass over the rows: count
    tables merged from partitions of a larger table give the same result.

    Parameters
    ----------
    tables : CountTables
        Confusion counts per fine cell (outcome ``2 * y_true + y_pred``).
    reference : str, mapping of str to str, or None
        As for :func:`group_metrics`.
    params : CommonParams
        The validated common parameters.
    n_rows : int
        The number of rows counted.
    score_stats : ScoreStats or None, default=None
        The score metrics, when the model's scores were given.
    n_bootstrap : int, default=0
        The bootstrap replicates behind ``score_stats``.

    Returns
    -------
    GroupMetrics
        As :func:`group_metrics` returns it.
    """
    # Every grouping's groups stacked: one pass of the kernels serves them all.
    counts = np.concatenate([g.aggregate(tables.weighted) for g in tables.groupings])
    squared = (
        np.concatenate([g.aggregate(tables.squared) for g in tables.groupings])
        if tables.squared is not None
        else None
    )
    block = make_block(tables, reference, params)
    rates = _rates(counts, squared, normal_quantile(params.level))

    out = Rows()
    _emit_groups(out, block, rates, counts)
    emit_pairwise(out, block, rates, exact_allowed=squared is None)
    emit_summary(out, block, rates)
    if score_stats is not None:
        emit_score_metrics(out, block, score_stats, params.level)
    return build_result(
        "classification",
        out,
        tables.features,
        params,
        n_rows,
        tables.squared is not None,
        n_bootstrap,
    )


def _rates(counts: FloatArray, squared: FloatArray | None, z: float) -> Rates:
    """Every proportion of every group with Wilson intervals; counts are (n, 4)."""
    x, n = counts @ NUM, counts @ DEN
    with np.errstate(divide="ignore", invalid="ignore"):
        p = x / n
        if squared is not None:
            n2 = squared @ DEN
            # Kish effective sample size: (sum w)^2 / sum w^2.
            n_eff = np.where(n2 > 0, n * n / n2, 0.0)
            x_eff = np.where(n > 0, p * n_eff, 0.0)
        else:
            n_eff, x_eff = n, x
    lower, upper = wilson_interval(x_eff, n_eff, z)
    return Rates(p, x_eff, n_eff, lower, upper)


def _emit_groups(out: Rows, block: Block, rates: Rates, counts: FloatArray) -> None:
    """Add one row per group to ``out.groups`` and per group and proportion to ``out.metrics``."""
    block.extend_groups(out, counts.sum(axis=1), counts[:, 2] + counts[:, 3])
    block.extend_metrics(
        out, PROPORTION_METRICS, rates.value, rates.lower, rates.upper, rates.trials, "wilson"
    )
