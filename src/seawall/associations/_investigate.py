"""The public investigations: unwarranted associations and error profiles."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from seawall._groups import GroupColumn, to_group_columns
from seawall._validation import (
    check_choice,
    check_real,
    check_seed,
    param_error,
    to_1d,
    to_binary,
    to_float,
)
from seawall.associations._assemble import Part, build_investigation
from seawall.associations._discover import run_discovery
from seawall.associations._encoding import ContextColumn, encode_contexts
from seawall.associations._problem import Outcome, Problem
from seawall.associations._result import Investigation
from seawall.associations._select import SearchParams, select
from seawall.exceptions import DataValidationError, InsufficientDataError
from seawall.metrics._assembly import sensitive_columns
from seawall.metrics._counts import VALUE_SEP

__all__ = ["discover_labels", "find_associations", "profile_errors"]

IntArray = npt.NDArray[np.intp]
FloatArray = npt.NDArray[np.float64]

ErrorKind = Literal["misclassification", "fpr", "fnr", "absolute", "squared"]
_ERRORS = ("misclassification", "fpr", "fnr", "absolute", "squared")


def _combine(columns: list[GroupColumn]) -> tuple[IntArray, tuple[str, ...]]:
    """Intersect columns into one code per observed combination (labels joined by ' & ')."""
    code = np.zeros(columns[0].codes.shape[0], dtype=np.int64)
    for col in columns:
        code = code * len(col.labels) + np.asarray(col.codes, dtype=np.int64)
    uniq, inverse = np.unique(code, return_inverse=True)
    labels = []
    for u in uniq.tolist():
        parts = []
        for col in reversed(columns):
            parts.append(col.labels[u % len(col.labels)])
            u //= len(col.labels)
        labels.append(VALUE_SEP.join(reversed(parts)))
    return inverse.astype(np.intp), tuple(labels)


def _params(
    caller: str,
    max_depth: object,
    min_support: object,
    test_size: object,
    alpha: object,
    correction: object,
    max_findings: object,
    random_state: object,
) -> SearchParams:
    depth = int(check_real(max_depth, "max_depth", caller, low=1, high=4, integer=True))
    support = int(check_real(min_support, "min_support", caller, low=1, integer=True))
    size = check_real(test_size, "test_size", caller, low=0, high=1, low_open=True, high_open=True)
    level = check_real(alpha, "alpha", caller, low=0, high=1, low_open=True, high_open=True)
    corr = check_choice(correction, "correction", caller, ("holm", "bh"))
    findings = int(check_real(max_findings, "max_findings", caller, low=1, integer=True))
    seed = check_seed(random_state, "random_state", caller)
    return SearchParams(
        depth, support, size, level, "holm" if corr == "holm" else "bh", 50, findings, seed
    )


def _contexts(
    context: object, n: int, n_bins: object, max_values: object, caller: str
) -> list[ContextColumn]:
    bins = int(check_real(n_bins, "n_bins", caller, low=2, integer=True))
    cap = int(check_real(max_values, "max_values", caller, low=2, integer=True))
    return encode_contexts(context, n, n_bins=bins, max_values=cap)


def _strata(explanatory: object, n: int) -> tuple[IntArray, int, list[str]]:
    if explanatory is None:
        return np.zeros(n, dtype=np.intp), 1, []
    columns = to_group_columns(explanatory, n, "explanatory")
    codes, labels = _combine(columns)
    return codes, len(labels), [c.name for c in columns]


def _check_split(n: int, params: SearchParams, caller: str) -> None:
    n_confirm = round(n * params.test_size)
    if min(n_confirm, n - n_confirm) < 2 * params.min_support:
        raise InsufficientDataError(
            f"{caller} needs at least {2 * params.min_support} rows in each split "
            f"(twice min_support={params.min_support}) to search on one and confirm on "
            f"the other; got {n} rows split {n - n_confirm}/{n_confirm} by "
            f"test_size={params.test_size}. Provide more rows or lower min_support."
        )


def _tested(group: IntArray, n_groups: int) -> tuple[int, ...]:
    if n_groups == 2:
        counts = np.bincount(group, minlength=2)
        return (int(np.argmin(counts)),)
    return tuple(range(n_groups))


def _record(params: SearchParams, **extra: Any) -> dict[str, Any]:
    return {
        "max_depth": params.max_depth,
        "min_support": params.min_support,
        "test_size": params.test_size,
        "alpha": params.alpha,
        "correction": params.correction,
        "max_findings": params.max_findings,
        "random_state": params.random_state,
        **extra,
    }


def profile_errors(
    y_true: object,
    y_pred: object,
    *,
    context: object,
    sensitive_features: object = None,
    error: ErrorKind = "misclassification",
    explanatory: object = None,
    max_depth: int = 3,
    min_support: int = 50,
    test_size: float = 0.5,
    alpha: float = 0.05,
    correction: Literal["holm", "bh"] = "holm",
    max_findings: int = 20,
    n_bins: int = 5,
    max_values: int = 12,
    random_state: int = 0,
) -> Investigation:
    """Find where a model errs: weak slices and error disparities between groups.

    Two analyses over the same contexts (conjunctions of up to ``max_depth``
    conditions on the context attributes):

    * **weak slices**: contexts whose error is higher than in the rest of the
      data, whatever the group (SliceLine's question), one-sided;
    * **error disparities** (with ``sensitive_features``): contexts where one
      protected group's error differs from the rest of the context
      (FairTest's error profiling), two-sided.

    Contexts are searched on one split of the rows and confirmed on the other;
    the two analyses share ``alpha`` equally (Bonferroni), so the chance of any
    false finding is at most ``alpha``. Overlapping findings are collapsed to
    one per root cause.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n_samples,)
        Labels and predictions: binary for ``"misclassification"``, ``"fpr"``
        and ``"fnr"``, real for ``"absolute"`` and ``"squared"``.
    context : table of shape (n_samples, k) or array-like of shape (n_samples,)
        The attributes that define contexts (pandas/polars DataFrame, pyarrow
        Table, dict of columns, 2-D array). Numeric columns with many values
        are cut into ``n_bins`` quantile bins; values beyond ``max_values`` pool
        into an ``"(other)"`` bucket that never forms a context.
    sensitive_features : array-like or table, default=None
        The protected attribute(s); several are intersected.
    error : {"misclassification", "fpr", "fnr", "absolute", "squared"}, default="misclassification"
        The error: a wrong decision; a false positive among negatives; a false
        negative among positives; or the absolute or squared error of a
        regression.
    explanatory : array-like or table, default=None
        Attributes that legitimately explain differences: effects are measured
        within their strata, and confirmed effects that vanish there are
        reported as explained.
    max_depth : int, default=3
        The most conditions in a context (1 to 4).
    min_support : int, default=50
        The fewest rows of the search split a context must have.
    test_size : float, default=0.5
        The share of rows held out to confirm.
    alpha : float, default=0.05
        The family-wise error rate of the findings.
    correction : {"holm", "bh"}, default="holm"
        The adjustment of the confirmation's p-values.
    max_findings : int, default=20
        The most findings shown.
    n_bins : int, default=5
        Quantile bins of a numeric context attribute.
    max_values : int, default=12
        The most values a context attribute keeps.
    random_state : int, default=0
        The seed of the split.

    Returns
    -------
    Investigation
        Findings, explained associations and every tested hypothesis.

    Raises
    ------
    InvalidParameterError
        On a bad parameter.
    DataValidationError
        On misaligned or invalid columns.
    InsufficientDataError
        With too few rows to split.

    See Also
    --------
    find_associations : the output's association with a protected group.

    References
    ----------
    .. [1] F. Tramèr et al., "FairTest: discovering unwarranted associations in
       data-driven applications", IEEE EuroS&P 2017.
    .. [2] S. Sagadeeva, M. Boehm, "SliceLine: fast, linear-algebra-based slice
       finding for ML model debugging", SIGMOD 2021.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> n = 4000
    >>> region = rng.choice(["north", "south", "east", "west"], n)
    >>> device = rng.choice(["phone", "laptop"], n)
    >>> y_true = rng.integers(0, 2, n)
    >>> wrong = rng.random(n) < np.where((region == "east") & (device == "phone"), 0.5, 0.1)
    >>> y_pred = np.where(wrong, 1 - y_true, y_true)
    >>> res = profile_errors(y_true, y_pred, context={"region": region, "device": device})
    >>> res.findings.context
    ('region = east and device = phone',)
    """
    caller = "profile_errors"
    kind = check_choice(error, "error", caller, _ERRORS)
    params = _params(
        caller, max_depth, min_support, test_size, alpha, correction, max_findings, random_state
    )
    outcome: Outcome
    if kind in ("absolute", "squared"):
        t, p = to_float(y_true, "y_true"), to_float(y_pred, "y_pred")
        _lengths(t.size, p.size)
        diff = np.abs(t - p)
        y = diff if kind == "absolute" else diff * diff
        rows = np.arange(t.size)
        outcome = "continuous"
    else:
        tb, pb = to_binary(y_true, "y_true"), to_binary(y_pred, "y_pred")
        _lengths(tb.size, pb.size)
        if kind == "misclassification":
            rows = np.arange(tb.size)
        else:
            rows = np.flatnonzero(tb == (0 if kind == "fpr" else 1))
        y = (tb[rows] != pb[rows]).astype(np.float64)
        outcome = "binary"
    n = int(y.shape[0])
    full_n = int(to_1d(y_true, "y_true").shape[0])
    contexts = _contexts(context, full_n, n_bins, max_values, caller)
    strat_full, n_strata, ex_names = _strata(explanatory, full_n)
    if rows.size != full_n:
        contexts = [
            ContextColumn(c.name, c.codes[rows], c.labels, c.other, c.binned) for c in contexts
        ]
    stratum = strat_full[rows]
    _check_split(n, params, caller)
    analyses: list[tuple[str, Problem]] = [
        (
            "weak_slice",
            Problem(
                "weak_slice",
                outcome,
                y,
                np.zeros(n, dtype=np.intp),
                ("all",),
                (0,),
                stratum,
                n_strata,
                contexts,
            ),
        )
    ]
    if sensitive_features is not None:
        cols = sensitive_columns(sensitive_features, full_n)
        group, labels = _combine(cols)
        group = group[rows]
        analyses.append(
            (
                "error_disparity",
                Problem(
                    "group",
                    outcome,
                    y,
                    group,
                    labels,
                    _tested(group, len(labels)),
                    stratum,
                    n_strata,
                    contexts,
                ),
            )
        )
    share = params.alpha / len(analyses)
    parts = []
    for name, problem in analyses:
        sub = SearchParams(**{**_asdict(params), "alpha": share})
        parts.append(Part(name, problem, select(problem, sub), share))
    record = _record(
        params,
        error=kind,
        n_bins=n_bins,
        max_values=max_values,
        context=[c.name for c in contexts],
        explanatory=ex_names,
        analyses=[a for a, _ in analyses],
    )
    return build_investigation(parts, record, n, params.max_findings)


def find_associations(
    y: object,
    *,
    sensitive_features: object,
    context: object,
    explanatory: object = None,
    outcome: Literal["auto", "binary", "continuous"] = "auto",
    max_depth: int = 3,
    min_support: int = 50,
    test_size: float = 0.5,
    alpha: float = 0.05,
    correction: Literal["holm", "bh"] = "holm",
    max_findings: int = 20,
    n_bins: int = 5,
    max_values: int = 12,
    random_state: int = 0,
) -> Investigation:
    """Find contexts where a protected group's outcome differs from the rest of the context.

    FairTest's *testing* investigation: for every context (a conjunction of up
    to ``max_depth`` conditions on the context attributes, including the whole
    population) and protected group, the group's positive rate (binary
    outcome) or mean (continuous outcome, e.g. a score) is compared with the
    rest of the context: a difference and a ratio with intervals, and an
    exact or asymptotic test. Contexts are searched on one split and confirmed
    on the other, with false findings controlled at ``alpha``; overlapping
    findings collapse to one per root cause.

    Parameters
    ----------
    y : array-like of shape (n_samples,)
        The model's output: binary decisions or real values (scores).
    sensitive_features : array-like or table
        The protected attribute(s); several are intersected.
    context : table of shape (n_samples, k) or array-like of shape (n_samples,)
        The attributes that define contexts (see :func:`profile_errors`).
    explanatory : array-like or table, default=None
        Attributes that legitimately explain differences (e.g. a
        qualification): effects are measured within their strata
        (Mantel-Haenszel), and confirmed crude effects that vanish there are
        listed in ``explained``.
    outcome : {"auto", "binary", "continuous"}, default="auto"
        The kind of ``y``; "auto" takes 0/1 or booleans as binary and other
        numbers as continuous.
    max_depth, min_support, test_size, alpha, correction : see profile_errors
        As in :func:`profile_errors`.
    max_findings, n_bins, max_values, random_state : see profile_errors
        As in :func:`profile_errors`.

    Returns
    -------
    Investigation
        Findings, explained associations and every tested hypothesis.

    Raises
    ------
    InvalidParameterError
        On a bad parameter.
    DataValidationError
        On misaligned or invalid columns, or a protected attribute with one group.
    InsufficientDataError
        With too few rows to split.

    See Also
    --------
    profile_errors : where the model's errors concentrate.

    References
    ----------
    .. [1] F. Tramèr et al., "FairTest: discovering unwarranted associations in
       data-driven applications", IEEE EuroS&P 2017.

    Examples
    --------
    >>> rng = np.random.default_rng(1)
    >>> n = 6000
    >>> group = rng.choice(["A", "B"], n, p=[0.6, 0.4])
    >>> city = rng.choice(["x", "y", "z"], n)
    >>> approved = rng.random(n) < np.where((city == "z") & (group == "B"), 0.3, 0.6)
    >>> res = find_associations(approved, sensitive_features=group, context={"city": city})
    >>> res.findings.context, res.findings.group
    (('city = z',), ('B',))
    """
    caller = "find_associations"
    kind = check_choice(outcome, "outcome", caller, ("auto", "binary", "continuous"))
    params = _params(
        caller, max_depth, min_support, test_size, alpha, correction, max_findings, random_state
    )
    values = to_1d(y, "y")
    n = int(values.shape[0])
    out: Outcome
    if kind == "auto":
        is_binary = values.dtype.kind == "b" or (
            values.dtype.kind in "iuf" and np.isin(values, (0, 1)).all()
        )
        if values.dtype.kind not in "biuf":
            raise param_error(
                "y", caller, "binary (0/1, bool) or numeric outputs", values[:3].tolist()
            )
        out = "binary" if is_binary else "continuous"
    else:
        out = "binary" if kind == "binary" else "continuous"
    yv = to_binary(values, "y").astype(np.float64) if out == "binary" else to_float(values, "y")
    cols = sensitive_columns(sensitive_features, n)
    group, labels = _combine(cols)
    contexts = _contexts(context, n, n_bins, max_values, caller)
    stratum, n_strata, ex_names = _strata(explanatory, n)
    _check_split(n, params, caller)
    problem = Problem(
        "group", out, yv, group, labels, _tested(group, len(labels)), stratum, n_strata, contexts
    )
    part = Part("association", problem, select(problem, params), params.alpha)
    record = _record(
        params,
        outcome=out,
        n_bins=n_bins,
        max_values=max_values,
        context=[c.name for c in contexts],
        explanatory=ex_names,
        sensitive_features=[c.name for c in cols],
    )
    return build_investigation([part], record, n, params.max_findings)


def _lengths(a: int, b: int) -> None:
    if a != b:
        raise DataValidationError(
            f"y_pred has {b} rows but y_true has {a}; they must align row for row."
        )


def _asdict(params: SearchParams) -> dict[str, Any]:
    return {f: getattr(params, f) for f in SearchParams.__slots__}


def discover_labels(
    labels: object,
    *,
    sensitive_features: object,
    context: object = None,
    label_names: Sequence[str] | None = None,
    sensitive_labels: Sequence[str] = (),
    explanatory: object = None,
    max_depth: int = 1,
    min_support: int = 50,
    test_size: float = 0.5,
    alpha: float = 0.05,
    correction: Literal["holm", "bh"] = "holm",
    max_findings: int = 20,
    n_bins: int = 5,
    max_values: int = 12,
    random_state: int = 0,
) -> Investigation:
    """Find output labels given to one protected group more or less often, in any context.

    For a multi-label output (an image tagger's tags: thousands of labels,
    sparse), every ``label x group x context`` association is measured: the
    rate at which the group's items carry the label against the rest of the
    context, with a difference, a ratio, their intervals and an exact or
    asymptotic test. Counting runs on sparse products; the search split tests
    only hypotheses that can reach significance (Tarone's bound) with
    Bonferroni over them; one candidate per label, group and overlapping
    contexts is confirmed on the held-out split (Holm or BH).
    ``sensitive_labels`` form a family of their own with half of ``alpha``
    and are shown first.

    Parameters
    ----------
    labels : scipy.sparse matrix or array of shape (n_items, n_labels)
        Nonzero where the item was given the label.
    sensitive_features : array-like or table
        The protected attribute(s); several are intersected.
    context : table or array-like of shape (n_items, k), default=None
        Attributes that define contexts; None tests the whole population only.
    label_names : sequence of str, default=None
        The name of each label column; by default ``"label_0"``, ``"label_1"``, ...
    sensitive_labels : sequence of str, default=()
        Labels to review first (e.g. offensive ones).
    explanatory : array-like or table, default=None
        Attributes that legitimately explain differences; confirmed
        associations are measured within their strata (Mantel-Haenszel), and
        those that vanish there are listed in ``explained``.
    max_depth : int, default=1
        The most conditions in a context (0 to 4; 0 is the whole population).
    min_support, test_size, alpha, correction, max_findings : see profile_errors
        As in :func:`profile_errors`.
    n_bins, max_values, random_state : see profile_errors
        As in :func:`profile_errors`.

    Returns
    -------
    Investigation
        Findings (kind ``"label_association"``, with the ``label`` column),
        explained associations and every tested hypothesis.

    Raises
    ------
    InvalidParameterError
        On a bad parameter, labels that are not a 2-D sparse matrix, or unknown
        sensitive labels.
    DataValidationError
        On misaligned columns or a protected attribute with one group.
    InsufficientDataError
        With too few rows to split.

    References
    ----------
    .. [1] F. Tramèr et al., "FairTest: discovering unwarranted associations in
       data-driven applications", IEEE EuroS&P 2017 (the image-tagging case).
    .. [2] R. E. Tarone, "A modified Bonferroni method for discrete data",
       Biometrics 46 (1990) 515-522.

    Examples
    --------
    >>> from seawall.datasets import make_tagging
    >>> d = make_tagging(150_000, 2_000, random_state=0)
    >>> f = d.frame
    >>> res = discover_labels(d.tags, sensitive_features=f["user_group"],
    ...                       context=f[["topic", "time_of_day"]], max_depth=2,
    ...                       label_names=d.tag_names, sensitive_labels=["primate"])
    >>> ("primate", "topic = people and time_of_day = night", "B") in set(
    ...     zip(res.findings.label, res.findings.context, res.findings.group))
    True
    """
    caller = "discover_labels"
    depth = int(check_real(max_depth, "max_depth", caller, low=0, high=4, integer=True))
    params = _params(
        caller,
        max(depth, 1),
        min_support,
        test_size,
        alpha,
        correction,
        max_findings,
        random_state,
    )
    params = SearchParams(**{**_asdict(params), "max_depth": depth})
    shape = getattr(labels, "shape", None)
    if shape is None or len(shape) != 2:
        raise param_error(
            "labels",
            caller,
            "a 2-D scipy.sparse matrix of shape (n_items, n_labels)",
            type(labels).__name__,
        )
    n, n_labels = int(shape[0]), int(shape[1])
    names = (
        [f"label_{j}" for j in range(n_labels)]
        if label_names is None
        else [str(v) for v in label_names]
    )
    cols = sensitive_columns(sensitive_features, n)
    group, group_labels = _combine(cols)
    contexts = [] if context is None else _contexts(context, n, n_bins, max_values, caller)
    stratum, n_strata, ex_names = _strata(explanatory, n)
    _check_split(n, params, caller)
    result = run_discovery(
        labels,
        names,
        group,
        group_labels,
        contexts,
        list(sensitive_labels),
        stratum,
        n_strata,
        params,
        caller,
    )
    record = _record(
        params,
        n_bins=n_bins,
        max_values=max_values,
        context=[c.name for c in contexts],
        explanatory=ex_names,
        sensitive_features=[c.name for c in cols],
        **result.parameters,
    )
    return Investigation(
        findings=result.findings,
        explained=result.explained,
        hypotheses=result.hypotheses,
        parameters=record,
        n_rows=result.n_rows,
        n_search_rows=result.n_search_rows,
        n_confirm_rows=result.n_confirm_rows,
        n_pruned=result.n_pruned,
        shadows=result.shadows,
    )
