"""Regression metrics per group: mean prediction, bias, MAE and RMSE, with intervals."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt
from scipy import stats

from seawall._validation import check_lengths, to_float, to_weights
from seawall.metrics._assembly import (
    CommonParams,
    build_result,
    grouping_context,
    resolve_references,
    sensitive_columns,
)
from seawall.metrics._comparisons import GroupingContext
from seawall.metrics._counts import CountTables, Grouping, build_count_tables
from seawall.metrics._definitions import (
    DISPARITY_NAMES,
    REGRESSION_COMPARED,
    REGRESSION_METRICS,
    Rows,
)
from seawall.metrics._intervals import mean_interval
from seawall.metrics._result import GroupMetrics
from seawall.metrics._significance import wald_homogeneity_pvalue
from seawall.metrics._spread import abs_interval, max_interval, pairs

__all__ = ["regression_metrics"]

FloatArray = npt.NDArray[np.float64]


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
        t = stats.t.ppf(1.0 - alpha / 2.0, df)
        p = 2.0 * stats.t.sf(np.abs(d) / se, df)
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
    weight = to_weights(sample_weight, n)
    columns = sensitive_columns(sensitive_features, n)
    tables = build_count_tables(columns, np.zeros(n, dtype=np.int8), 1, weight)

    err = yp - yt
    quantities = np.stack([yt, yp, err, np.abs(err), err * err])  # (5, n)
    w = np.ones(n) if weight is None else weight
    cell = tables.row_cell
    sums = np.stack([np.bincount(cell, w * q, tables.n_fine) for q in quantities], axis=1).astype(
        np.float64
    )
    squares = np.stack(
        [np.bincount(cell, w * q * q, tables.n_fine) for q in quantities], axis=1
    ).astype(np.float64)

    moments = [_moments(tables, g, sums, squares) for g in tables.groupings]
    sizes = [tables.rows[:, 0] @ _one_hot(g) for g in tables.groupings]
    refs = resolve_references(reference, tables, sizes)
    out = Rows()
    for j, grouping in enumerate(tables.groupings):
        ctx = grouping_context(grouping, sizes[j], refs[j], params)
        _emit(out, ctx, moments[j], params.level)
    return build_result("regression", out, tables.features, params, n, weight is not None, 0)


def _one_hot(grouping: Grouping) -> FloatArray:
    one_hot = np.zeros((grouping.members.size, grouping.n_groups))
    one_hot[np.arange(grouping.members.size), grouping.members] = 1.0
    return one_hot


def _emit(out: Rows, ctx: GroupingContext, m: _Means, level: float) -> None:
    lower, upper = mean_interval(m.mean, m.sd, m.n_eff, level)
    # Quantities: 0 target, 1 prediction, 2 error, 3 |error|, 4 error^2.
    value = m.mean[:, [0, 1, 2, 3, 4]].copy()
    lo, hi = lower.copy(), upper.copy()
    value[:, 4] = np.sqrt(m.mean[:, 4])
    lo[:, 4] = np.sqrt(np.maximum(lower[:, 4], 0.0))
    hi[:, 4] = np.sqrt(np.maximum(upper[:, 4], 0.0))
    for g, label in enumerate(ctx.labels):
        out.add(
            out.groups,
            grouping=ctx.name,
            group=label,
            n=ctx.rows[g],
            weight=m.n_eff[g, 0],
            positives=np.nan,
            small=bool(ctx.small[g]),
            reference=g == ctx.ref,
        )
        for k, metric in enumerate(REGRESSION_METRICS):
            out.add(
                out.metrics,
                grouping=ctx.name,
                group=label,
                metric=metric,
                value=value[g, k],
                lower=lo[g, k],
                upper=hi[g, k],
                denominator=m.n_eff[g, k],
                method="t",
                small=bool(ctx.small[g]),
            )
    # Compared on the scale of the quantity; RMSE through the MSE (delta method).
    cols = [1, 2, 3, 4]
    se = m.se
    ref = ctx.ref
    for g in ctx.others:
        d, d_lo, d_hi, p = _welch(
            m.mean[g, cols],
            se[g, cols],
            m.n_eff[g, cols],
            m.mean[ref, cols],
            se[ref, cols],
            m.n_eff[ref, cols],
            ctx.alpha,
        )
        d_rmse, lo_rmse, hi_rmse = _rmse_difference(
            value[g, 4], value[ref, 4], se[g, 4], se[ref, 4], ctx.alpha
        )
        d[3], d_lo[3], d_hi[3] = d_rmse, lo_rmse, hi_rmse
        for k, metric in enumerate(REGRESSION_COMPARED):
            out.add(
                out.disparities,
                grouping=ctx.name,
                group=ctx.labels[g],
                reference=ctx.labels[ref],
                metric=metric,
                kind="difference",
                name=DISPARITY_NAMES[(metric, "difference")],
                value=d[k],
                lower=d_lo[k],
                upper=d_hi[k],
                p_value=np.nan if ctx.small[g] else p[k],
                test="welch",
                note=ctx.note(g),
            )
    keep = ctx.judged
    first, second = pairs(keep)
    alpha_pair = ctx.alpha / max(first.size, 1)
    for k, metric in enumerate(REGRESSION_COMPARED):
        c = cols[k]
        v = value[keep, c]
        ok = np.isfinite(v)
        lowest = highest = ""
        spread = np.nan
        if ok.sum() >= 2:
            lo_g, hi_g = keep[ok][np.argmin(v[ok])], keep[ok][np.argmax(v[ok])]
            lowest, highest = ctx.labels[lo_g], ctx.labels[hi_g]
            spread = float(value[hi_g, c] - value[lo_g, c])
        if metric == "rmse":
            _, p_lo, p_hi = _rmse_difference(
                value[first, 4], value[second, 4], se[first, 4], se[second, 4], alpha_pair
            )
        else:
            _, p_lo, p_hi, _ = _welch(
                m.mean[first, c],
                se[first, c],
                m.n_eff[first, c],
                m.mean[second, c],
                se[second, c],
                m.n_eff[second, c],
                alpha_pair,
            )
        a_lo, a_hi = abs_interval(np.atleast_1d(p_lo), np.atleast_1d(p_hi))
        bounds = max_interval(a_lo, a_hi)
        p_hom = wald_homogeneity_pvalue(m.mean[keep, c], se[keep, c] ** 2)
        out.add(
            out.summary,
            grouping=ctx.name,
            metric=metric,
            kind="difference",
            name=DISPARITY_NAMES[(metric, "difference")],
            value=spread,
            lower=bounds[0],
            upper=bounds[1],
            lowest_group=lowest,
            highest_group=highest,
            p_value=p_hom,
            test="wald",
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
    z = float(stats.norm.ppf(1.0 - alpha / 2.0))
    d = r1a - r2a
    return d, d - z * se, d + z * se
