"""Regression metrics per group: mean prediction, bias, MAE and RMSE, with intervals."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt
from scipy import special

from seawall._validation import check_lengths, to_float, to_weights
from seawall.metrics._assembly import (
    CommonParams,
    build_result,
    checked_count_tables,
    make_block,
    sensitive_columns,
)
from seawall.metrics._block import Block, grouped_extreme
from seawall.metrics._counts import CountTables, Grouping
from seawall.metrics._definitions import (
    REGRESSION_COMPARED,
    REGRESSION_METRICS,
    Rows,
)
from seawall.metrics._intervals import mean_interval
from seawall.metrics._result import GroupMetrics
from seawall.metrics._significance import wald_homogeneity_pvalue
from seawall.metrics._spread import abs_interval

__all__ = ["REGRESSION_QUANTITIES", "regression_from_sums", "regression_metrics"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.intp]


@dataclass(frozen=True, slots=True)
class _Means:
    """Weighted means of every quantity per group, shape (n_groups, n_quantities)."""

    mean: FloatArray
    sd: FloatArray
    n_eff: FloatArray

    @property
    def se(self) -> FloatArray:
        with np.errstate(divide="ignore", invalid="ignore"):
            return self.sd / np.sqrt(self.n_eff)


def _moments(
    tables: CountTables, grouping: Grouping, sums: FloatArray, squares: FloatArray
) -> _Means:
    """Means, sample standard deviations and effective sizes per group of a grouping."""
    w = grouping.aggregate(tables.weighted)[:, 0]
    w2 = grouping.aggregate(tables.squared)[:, 0] if tables.squared is not None else w
    s1, s2 = grouping.aggregate(sums), grouping.aggregate(squares)
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = s1 / w[:, None]
        var_pop = np.maximum(s2 / w[:, None] - mean**2, 0.0)
        n_eff = (w * w / w2)[:, None] * np.ones_like(mean)
        var = var_pop * n_eff / (n_eff - 1.0)
    return _Means(mean, np.sqrt(var), n_eff)


def _welch(
    m1: FloatArray,
    se1: FloatArray,
    n1: FloatArray,
    m2: FloatArray,
    se2: FloatArray,
    n2: FloatArray,
    alpha: float,
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """Welch difference ``m1 - m2``: value, interval and two-sided p-value."""
    d = m1 - m2
    v1, v2 = se1**2, se2**2
    with np.errstate(divide="ignore", invalid="ignore"):
        se = np.sqrt(v1 + v2)
        df = (v1 + v2) ** 2 / (v1**2 / (n1 - 1.0) + v2**2 / (n2 - 1.0))
        df = np.where(np.isfinite(df) & (df > 0), df, 1.0)
        t = special.stdtrit(df, 1.0 - alpha / 2.0)
        p = 2.0 * special.stdtr(df, -np.abs(d) / se)
    p = np.where(se == 0, np.where(d == 0, 1.0, 0.0), p)
    return d, d - t * se, d + t * se, p


def regression_metrics(
    y_true: object,
    y_pred: object,
    *,
    sensitive_features: object,
    sample_weight: object | None = None,
    reference: str | Mapping[str, str] | None = None,
    min_group_size: int = 30,
    confidence_level: float = 0.95,
    correction: Literal["holm", "bh", "none"] = "holm",
    random_state: int = 0,
) -> GroupMetrics:
    """Per-group metrics of a regression model, with intervals and tests.

    Per group: mean target, mean prediction, mean error (bias, prediction minus
    target), mean absolute error and root mean squared error, each with a
    Student-t interval (RMSE: the square root of the interval of the MSE). Each
    group is compared with its grouping's reference by a Welch interval and
    test (RMSE through its MSE), p-values adjusted across all comparisons; the
    summary gives the spread over groups with simultaneous intervals.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n_samples,)
        Targets and predictions, finite numbers.
    sensitive_features : array-like of shape (n_samples,) or table of shape (n_samples, k)
        As in :func:`group_metrics`.
    sample_weight : array-like of shape (n_samples,), default=None
        Non-negative row weights (intervals use Kish's effective sample size).
    reference : str or mapping of str to str, default=None
        The reference group, as in :func:`group_metrics`.
    min_group_size : int, default=30
        Groups with fewer rows are reported as too small to judge.
    confidence_level : float, default=0.95
        The level of every interval.
    correction : {"holm", "bh", "none"}, default="holm"
        Multiplicity correction.
    random_state : int, default=0
        Recorded for reproducibility; no randomness is used.

    Returns
    -------
    GroupMetrics
        With ``task="regression"``.

    Raises
    ------
    DataValidationError
        On non-numeric or missing values, misaligned inputs, a sensitive feature
        with a single group, or an unknown reference.
    InsufficientDataError
        On empty input or a reference group smaller than ``min_group_size``.

    See Also
    --------
    group_metrics : The same for binary classifiers.

    References
    ----------
    .. [1] B. L. Welch, "The generalization of 'Student's' problem when several
       different population variances are involved", Biometrika 34 (1947) 28-35.

    Examples
    --------
    >>> res = regression_metrics([1.0, 2.0, 3.0, 4.0, 2.0, 2.0], [1.5, 2.0, 2.5, 4.5, 3.0, 1.0],
    ...                          sensitive_features=["a", "a", "a", "b", "b", "b"],
    ...                          min_group_size=1)
    >>> round(res.metric("mae", "a").value, 4), round(res.metric("mae", "b").value, 4)
    (0.3333, 0.8333)
    """
    caller = "regression_metrics"
    params = CommonParams(caller, confidence_level, min_group_size, correction, random_state)
    yt = to_float(y_true, "y_true")
    yp = to_float(y_pred, "y_pred")
    n = check_lengths({"y_true": yt.size, "y_pred": yp.size})
    columns = sensitive_columns(sensitive_features, n)
    weight = to_weights(sample_weight, n)
    tables = checked_count_tables(columns, np.zeros(n, dtype=np.int8), 1, weight)

    err = yp - yt
    quantities = np.stack([yt, yp, err, np.abs(err), err * err])  # (5, n)
    w = np.ones(n) if weight is None else weight
    cell = tables.row_cells()
    sums = np.stack([np.bincount(cell, w * q, tables.n_fine) for q in quantities], axis=1).astype(
        np.float64
    )
    squares = np.stack(
        [np.bincount(cell, w * q * q, tables.n_fine) for q in quantities], axis=1
    ).astype(np.float64)
    return regression_from_sums(tables, sums, squares, reference, params, n)


#: The quantities whose weighted sums and sums of squares make the regression metrics.
REGRESSION_QUANTITIES = ("y_true", "y_pred", "error", "abs_error", "squared_error")


def regression_from_sums(
    tables: CountTables,
    sums: FloatArray,
    squares: FloatArray,
    reference: str | Mapping[str, str] | None,
    params: CommonParams,
    n_rows: int,
) -> GroupMetrics:
    """The regression result from per-cell weighted sums (and sums of squares).

    The part of :func:`regression_metrics` after the one pass over the rows: sums
    merged from partitions of a larger table give the same result.

    Parameters
    ----------
    tables : CountTables
        Row counts (and weights) per fine cell, one outcome.
    sums, squares : ndarray of float64, shape (n_fine, 5)
        Per fine cell, ``sum w*q`` and ``sum w*q**2`` of each of
        :data:`REGRESSION_QUANTITIES`.
    reference : str, mapping of str to str, or None
        As for :func:`regression_metrics`.
    params : CommonParams
        The validated common parameters.
    n_rows : int
        The rows summed.

    Returns
    -------
    GroupMetrics
        As :func:`regression_metrics` returns it.
    """
    parts = [_moments(tables, g, sums, squares) for g in tables.groupings]
    moments = _Means(*(np.concatenate([getattr(p, f) for p in parts]) for f in _Means.__slots__))
    block = make_block(tables, reference, params)
    out = Rows()
    _emit(out, block, moments, params.level)
    return build_result(
        "regression", out, tables.features, params, n_rows, tables.squared is not None, 0
    )


def _compare(
    m: _Means, rmse: FloatArray, first: IntArray, second: IntArray, alpha: float
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """Differences ``first - second`` of the compared quantities, shape (k, 4).

    Welch intervals and tests on the means; for RMSE a delta-method interval and
    the Welch test of equal MSE.
    """
    cols = [1, 2, 3, 4]  # prediction, error, |error|, error^2
    se = m.se
    d, lo, hi, p = _welch(
        m.mean[first][:, cols],
        se[first][:, cols],
        m.n_eff[first][:, cols],
        m.mean[second][:, cols],
        se[second][:, cols],
        m.n_eff[second][:, cols],
        alpha,
    )
    d[:, 3], lo[:, 3], hi[:, 3] = _rmse_difference(
        rmse[first], rmse[second], se[first, 4], se[second, 4], alpha
    )
    return d, lo, hi, p


def _emit(out: Rows, block: Block, m: _Means, level: float) -> None:
    lower, upper = mean_interval(m.mean, m.sd, m.n_eff, level)
    # Quantities: 0 target, 1 prediction, 2 error, 3 |error|, 4 error^2 (shown as RMSE).
    value, lo, hi = m.mean.copy(), lower.copy(), upper.copy()
    value[:, 4] = np.sqrt(m.mean[:, 4])
    lo[:, 4] = np.sqrt(np.maximum(lower[:, 4], 0.0))
    hi[:, 4] = np.sqrt(np.maximum(upper[:, 4], 0.0))
    block.extend_groups(out, m.n_eff[:, 0], np.full(len(block.labels), np.nan))
    block.extend_metrics(out, REGRESSION_METRICS, value, lo, hi, m.n_eff, "t")
    c = len(REGRESSION_COMPARED)
    others = block.others
    d, d_lo, d_hi, p = _compare(m, value[:, 4], others, block.ref[others], block.alpha)
    block.extend_disparities(
        out, others, REGRESSION_COMPARED, ["difference"] * c, d, d_lo, d_hi, p, ["welch"] * c
    )
    # Spreads: the lower bound of the largest gap is Bonferroni-corrected over the
    # grouping's K pairs; the upper bound keeps the nominal level (see _comparisons).
    first, second, owner, n_pairs = block.judged_pairs()
    n_j = block.n_groupings
    plain = abs_interval(*_compare(m, value[:, 4], first, second, block.alpha)[1:3])
    adj_lo = np.full((first.size, c), np.nan)
    for k_pairs in np.unique(n_pairs[owner]) if first.size else []:
        sel = n_pairs[owner] == k_pairs
        adj = _compare(m, value[:, 4], first[sel], second[sel], block.alpha / float(k_pairs))
        adj_lo[sel] = abs_interval(adj[1], adj[2])[0]
    compared = value[:, 1:]
    lowest, highest, defined = block.extremes(compared)
    cols = np.arange(c)[None, :]
    judged = ~block.small
    se2 = m.se**2
    p_hom = np.array(
        [
            [wald_homogeneity_pvalue(m.mean[sel, q], se2[sel, q]) for q in range(1, 5)]
            for sel in (judged & (block.grouping == j) for j in range(n_j))
        ]
    ).reshape(n_j, c)
    block.extend_summary(
        out,
        REGRESSION_COMPARED,
        ["difference"] * c,
        compared[highest, cols] - compared[lowest, cols],
        grouped_extreme(adj_lo, owner, n_j),
        grouped_extreme(plain[1], owner, n_j),
        lowest,
        highest,
        defined,
        p_hom,
        ["wald"] * c,
    )


def _rmse_difference(
    r1: FloatArray | float,
    r2: FloatArray | float,
    se_mse1: FloatArray | float,
    se_mse2: FloatArray | float,
    alpha: float,
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Difference of RMSEs with a delta-method normal interval: se(rmse) = se(mse) / (2 rmse)."""
    r1a, r2a = np.asarray(r1, np.float64), np.asarray(r2, np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        se = np.sqrt(
            (np.asarray(se_mse1) / (2 * r1a)) ** 2 + (np.asarray(se_mse2) / (2 * r2a)) ** 2
        )
    z = float(special.ndtri(1.0 - alpha / 2.0))
    d = r1a - r2a
    return d, d - z * se, d + z * se
