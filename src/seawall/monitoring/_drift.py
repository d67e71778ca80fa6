"""Drift of many features between a reference window and a current window.

Every feature gets its own test (Kolmogorov–Smirnov for numbers, chi-square for
categories), an effect size, the PSI and the Jensen–Shannon distance; the p-values
are then adjusted across features (Benjamini–Hochberg by default), and a feature
is flagged when its adjusted p-value is below ``alpha``. There is no "share of
drifted columns" rule: four drifted features out of twenty are four findings.
"""

from __future__ import annotations

import math
from typing import Any, Literal, cast

import numpy as np

from seawall._validation import check_choice, check_real, param_error
from seawall.exceptions import DataValidationError
from seawall.metrics import adjust_pvalues
from seawall.monitoring._drift_inputs import check_categorical, check_same_columns, to_table
from seawall.monitoring._drift_kernels import (
    chi2_homogeneity,
    js_distance,
    ks_pvalue,
    ks_wasserstein,
    psi,
    robust_scale,
)
from seawall.monitoring._drift_result import DriftReport, FeatureDrift
from seawall.monitoring._drift_sketch import CategoricalSketch, NumericSketch, WindowSummary
from seawall.monitoring._drift_summarize import summarize_table

__all__ = ["feature_drift", "summary_drift"]

_CORRECTIONS = ("bh", "holm")
_NAN = float("nan")


def feature_drift(
    reference: object,
    current: object,
    *,
    categorical: object = None,
    alpha: float = 0.05,
    correction: Literal["bh", "holm"] = "bh",
    n_bins: int = 10,
) -> DriftReport:
    """Test every feature of a current window for drift from a reference window.

    Numeric features: the two-sample Kolmogorov–Smirnov test (statistic as
    ``scipy.stats.ks_2samp``, p-value as its ``method="asymp"``), the
    Wasserstein-1 distance and, as the effect size, that distance over the
    reference's robust scale; the PSI and Jensen–Shannon distance over ``n_bins``
    reference-quantile bins. Categorical features: the chi-square test of
    homogeneity (as ``scipy.stats.chi2_contingency(..., correction=False)``),
    Cramér's V, the PSI and Jensen–Shannon distance over categories, and the
    current rows whose category the reference never saw. Missing values are
    counted (their share per window is reported) and left out of every statistic.

    Parameters
    ----------
    reference, current : pandas.DataFrame or array-like of shape (n_rows, n_features)
        The two windows, with the same columns (any order; matched by name). Numeric
        2-D arrays are all-numeric, their features named ``x0``, ``x1``...
    categorical : list of str or None, default=None
        Columns to treat as categories whatever their dtype. Non-numeric, boolean
        and pandas categorical columns are categorical anyway.
    alpha : float, default=0.05
        The level each adjusted p-value is compared with, in (0, 1).
    correction : {"bh", "holm"}, default="bh"
        The adjustment across features: Benjamini–Hochberg (false discovery rate)
        or Holm (family-wise error rate).
    n_bins : int, default=10
        Reference-quantile bins for the numeric PSI and Jensen–Shannon distance, at
        least 2 (ties may merge bins).

    Returns
    -------
    DriftReport
        One :class:`FeatureDrift` per feature. A feature that cannot be judged
        (every value missing in a window, infinite values, a dtype that differs
        between the windows) gets NaN statistics, ``drifted=False`` and a
        ``reason``; it does not count as a test in the adjustment, and the other
        features are judged as usual.

    Raises
    ------
    DataValidationError
        When the windows' columns differ, a window has no column, one window is an
        array and the other a table, or a declared categorical name is not a
        column.
    InsufficientDataError
        When a window has no rows.
    InvalidParameterError
        On a bad ``alpha``, ``correction``, ``n_bins`` or ``categorical``.

    See Also
    --------
    summarize : Mergeable window summaries.
    summary_drift : The same judgement from summaries.
    seawall.metrics.adjust_pvalues : The multiplicity adjustment.

    References
    ----------
    .. [1] Y. Benjamini, Y. Hochberg, "Controlling the false discovery rate",
       JRSS B 57 (1995) 289-300.
    .. [2] S. Rabanser, S. Günnemann, Z. Lipton, "Failing loudly: an empirical study
       of methods for detecting dataset shift", NeurIPS (2019).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> ref = pd.DataFrame({"age": rng.normal(40, 10, 2000),
    ...                     "plan": rng.choice(["a", "b"], 2000)})
    >>> cur = pd.DataFrame({"age": rng.normal(45, 10, 2000),
    ...                     "plan": rng.choice(["a", "b"], 2000)})
    >>> report = feature_drift(ref, cur)
    >>> report.drifted_features
    ('age',)
    >>> report["age"].test, round(report["age"].effect_size, 1)
    ('ks', 0.6)
    """
    caller = "feature_drift"
    level, method = _check_options(alpha, correction, caller)
    n_bins = int(check_real(n_bins, "n_bins", caller, low=2, integer=True))
    ref_table = to_table(reference, "reference", caller)
    cur_table = to_table(current, "current", caller)
    if ref_table.is_frame != cur_table.is_frame:
        raise DataValidationError(
            f"reference and current passed to {caller} must both be DataFrames or both be "
            f"arrays; got {type(reference).__name__} and {type(current).__name__}."
        )
    declared = check_categorical(categorical, ref_table, caller)
    check_same_columns(ref_table.names, cur_table.names, caller)
    ref = summarize_table(ref_table, None, declared, n_bins, None, caller)
    cur = summarize_table(cur_table, ref, frozenset(), n_bins, None, caller)
    return _report(ref, cur, level, method)


def summary_drift(
    reference: WindowSummary,
    current: WindowSummary,
    *,
    alpha: float = 0.05,
    correction: Literal["bh", "holm"] = "bh",
) -> DriftReport:
    """Test every feature for drift from two window summaries.

    The PSI, Jensen–Shannon distance, missing shares and every categorical
    statistic equal those of :func:`feature_drift` on the rows. Numeric features
    get the KS test and the Wasserstein distance when both summaries kept their
    sorted values (at most ``sample_cap`` each), exactly as from the rows;
    otherwise a chi-square test over the reference's bins (``test="chi2_binned"``,
    Cramér's V as the effect size) and a NaN Wasserstein distance.

    Parameters
    ----------
    reference : WindowSummary
        The reference window's summary (``summarize(X)``).
    current : WindowSummary
        The current window's summary (``summarize(X, reference=...)``), possibly
        merged from several windows.
    alpha : float, default=0.05
        The level each adjusted p-value is compared with, in (0, 1).
    correction : {"bh", "holm"}, default="bh"
        The adjustment across features.

    Returns
    -------
    DriftReport
        One record per feature, as :func:`feature_drift`.

    Raises
    ------
    DataValidationError
        When the summaries have different features, kinds or bins.
    InvalidParameterError
        On a bad ``alpha`` or ``correction``, or arguments that are not summaries.

    See Also
    --------
    summarize : Build the summaries.
    feature_drift : The same judgement from rows.

    Examples
    --------
    >>> import numpy as np
    >>> from seawall.monitoring._drift_summarize import summarize
    >>> rng = np.random.default_rng(0)
    >>> ref = summarize(rng.normal(0, 1, (5000, 2)))
    >>> day1 = summarize(rng.normal([0, 1], 1, (3000, 2)), reference=ref)
    >>> day2 = summarize(rng.normal([0, 1], 1, (3000, 2)), reference=ref)
    >>> report = summary_drift(ref, day1.merge(day2))
    >>> report.drifted_features, [f.test for f in report.features]
    (('x1',), ['ks', 'ks'])

    Past ``sample_cap`` values, numeric features are tested over their bins:

    >>> big = summarize(rng.normal(0, 1, (20_000, 2)), reference=ref)
    >>> [f.test for f in summary_drift(ref, big).features]
    ['chi2_binned', 'chi2_binned']
    """
    caller = "summary_drift"
    level, method = _check_options(alpha, correction, caller)
    for arg, value in (("reference", reference), ("current", current)):
        if not isinstance(value, WindowSummary):
            raise param_error(arg, caller, "a WindowSummary (from summarize)", value)
    check_same_columns(reference.names, current.names, caller)
    for name in reference.names:
        r, c = reference[name], current[name]
        same_bins = not isinstance(r, NumericSketch) or (
            isinstance(c, NumericSketch) and np.array_equal(r.edges, c.edges)
        )
        if r.kind != c.kind or not same_bins:
            raise DataValidationError(
                f"feature {name!r} was summarised differently in the two summaries passed to "
                f"{caller} ({r.kind} and {c.kind}, or other bins); summarize the current "
                f"window with reference= the reference summary."
            )
    return _report(reference, current, level, method)


def _check_options(alpha: object, correction: object, caller: str) -> tuple[float, str]:
    a = check_real(alpha, "alpha", caller, low=0, high=1, low_open=True, high_open=True)
    return a, check_choice(correction, "correction", caller, _CORRECTIONS)


def _report(ref: WindowSummary, cur: WindowSummary, alpha: float, correction: str) -> DriftReport:
    """Judge every feature, then adjust the p-values across the judged ones."""
    rows = [_judge(name, ref[name], cur[name], ref.n_rows, cur.n_rows) for name in ref.names]
    method = cast(Literal["holm", "bh"], correction)
    adjusted = adjust_pvalues([row["p_value"] for row in rows], method)
    features = tuple(
        FeatureDrift(**row, p_adjusted=float(q), drifted=bool(q < alpha))
        for row, q in zip(rows, adjusted, strict=True)
    )
    return DriftReport(features, alpha, correction, ref.n_rows, cur.n_rows)


def _judge(name: str, ref: Any, cur: Any, n_ref_rows: int, n_cur_rows: int) -> dict[str, Any]:
    """One feature's statistics (every field of FeatureDrift but the adjusted ones)."""
    numeric = isinstance(ref, NumericSketch)
    row: dict[str, Any] = {
        "name": name,
        "kind": ref.kind,
        "test": "",
        "n_ref": ref.n,
        "n_cur": cur.n,
        "statistic": _NAN,
        "p_value": _NAN,
        "effect_size": _NAN,
        "effect_name": "wasserstein_scaled" if numeric else "cramers_v",
        "wasserstein": _NAN,
        "psi": _NAN,
        "js": _NAN,
        "missing_ref": ref.n_missing / n_ref_rows,
        "missing_cur": cur.n_missing / n_cur_rows,
        "unseen_count": 0,
        "unseen_share": 0.0 if numeric else _NAN,
        "reason": _reason(ref, cur),
    }
    if row["reason"]:
        return row
    if numeric:
        row.update(_numeric(ref, cur))
    else:
        row.update(_categorical(ref, cur))
    return row


def _reason(ref: Any, cur: Any) -> str:
    if ref.n == 0 and not ref.reason:
        return "every value is missing in the reference window"
    for window, sketch in (("reference", ref), ("current", cur)):
        if sketch.reason:
            return f"the feature {sketch.reason} ({window} window)"
    if cur.n == 0:
        return "every value is missing in the current window"
    return ""


def _numeric(ref: NumericSketch, cur: NumericSketch) -> dict[str, Any]:
    out: dict[str, Any] = {
        "psi": psi(ref.counts, cur.counts),
        "js": js_distance(ref.counts, cur.counts),
    }
    if ref.sample is not None and cur.sample is not None:
        ks, w = ks_wasserstein(ref.sample, cur.sample)
        scale = robust_scale(ref.sample)
        out.update(
            test="ks",
            statistic=ks,
            p_value=ks_pvalue(ks, ref.n, cur.n),
            wasserstein=w,
            effect_size=w / scale if scale > 0 else (0.0 if w == 0 else math.inf),
        )
    else:
        stat, _, p, v = chi2_homogeneity(ref.counts, cur.counts)
        out.update(
            test="chi2_binned", statistic=stat, p_value=p, effect_size=v, effect_name="cramers_v"
        )
    return out


def _categorical(ref: CategoricalSketch, cur: CategoricalSketch) -> dict[str, Any]:
    index = {c: i for i, c in enumerate(ref.categories)}
    seen = np.array([c in index for c in cur.categories], dtype=bool)
    n_unseen = int(cur.counts[~seen].sum())
    # Cells: the reference's categories, then those only the current window has.
    cur_cells = np.zeros(len(ref.categories), dtype=np.int64)
    positions = [index[c] for c, s in zip(cur.categories, seen, strict=True) if s]
    np.add.at(cur_cells, positions, cur.counts[seen])
    cur_cells = np.concatenate((cur_cells, cur.counts[~seen]))
    ref_cells = np.concatenate((ref.counts, np.zeros(int((~seen).sum()), dtype=np.int64)))
    stat, _, p, v = chi2_homogeneity(ref_cells, cur_cells)
    return {
        "test": "chi2",
        "statistic": stat,
        "p_value": p,
        "effect_size": v,
        "psi": psi(ref_cells, cur_cells),
        "js": js_distance(ref_cells, cur_cells),
        "unseen_count": n_unseen,
        "unseen_share": n_unseen / cur.n,
    }
