"""The public investigations: unwarranted associations and error profiles."""

from __future__ import annotations

from typing import Literal

import numpy as np
import numpy.typing as npt

from seawall._groups import _codes, combine_groups
from seawall._validation import (
    check_choice,
    check_lengths,
    param_error,
    to_1d,
    to_binary,
    to_float,
)
from seawall.associations._assemble import Part, build_investigation
from seawall.associations._encoding import ContextColumn
from seawall.associations._inputs import (
    check_split,
    context_columns,
    parameters_record,
    params_dict,
    search_params,
    strata,
    tested_groups,
)
from seawall.associations._problem import Outcome, Problem
from seawall.associations._result import Investigation
from seawall.associations._select import SearchParams, select, split_rows
from seawall.associations._split import held_out_by_key
from seawall.exceptions import DataValidationError
from seawall.metrics._assembly import sensitive_columns

__all__ = ["find_associations", "profile_errors"]

IntArray = npt.NDArray[np.intp]
FloatArray = npt.NDArray[np.float64]

#: The most classes a categorical output may have.
MAX_CLASSES = 50

ErrorKind = Literal["misclassification", "fpr", "fnr", "absolute", "squared"]
_ERRORS = ("misclassification", "fpr", "fnr", "absolute", "squared")


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
    split_key: object = None,
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
    split_key : array-like of shape (n_samples,), default=None
        A key per row (an id). When given, a row is held out to confirm iff a
        seeded hash of its key falls below ``test_size``, so the split depends
        on the keys and ``random_state`` only, not on the rows' order or how
        they are partitioned (rows sharing a key share a split; about
        ``test_size`` of the rows confirm). ``None`` draws a random split of
        exactly ``round(n_samples * test_size)`` rows.

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
    params = search_params(
        caller, max_depth, min_support, test_size, alpha, correction, max_findings, random_state
    )
    outcome: Outcome
    if kind in ("absolute", "squared"):
        t, p = to_float(y_true, "y_true"), to_float(y_pred, "y_pred")
        check_lengths({"y_true": t.size, "y_pred": p.size})
        diff = np.abs(t - p)
        y = diff if kind == "absolute" else diff * diff
        rows = np.arange(t.size)
        outcome = "continuous"
    else:
        tb, pb = to_binary(y_true, "y_true"), to_binary(y_pred, "y_pred")
        check_lengths({"y_true": tb.size, "y_pred": pb.size})
        if kind == "misclassification":
            rows = np.arange(tb.size)
        else:
            rows = np.flatnonzero(tb == (0 if kind == "fpr" else 1))
        y = (tb[rows] != pb[rows]).astype(np.float64)
        outcome = "binary"
    n = int(y.shape[0])
    full_n = int(to_1d(y_true, "y_true").shape[0])
    contexts = context_columns(context, full_n, n_bins, max_values, caller)
    strat_full, n_strata, ex_names = strata(explanatory, full_n)
    if rows.size != full_n:
        contexts = [
            ContextColumn(c.name, c.codes[rows], c.labels, c.other, c.binned) for c in contexts
        ]
    stratum = strat_full[rows]
    check_split(n, params, caller)
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
    protected: list[str] = []
    if sensitive_features is not None:
        cols = sensitive_columns(sensitive_features, full_n)
        protected = [c.name for c in cols]
        group, labels = combine_groups(cols)
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
                    tested_groups(group, len(labels)),
                    stratum,
                    n_strata,
                    contexts,
                ),
            )
        )
    held_out = (
        None
        if split_key is None
        else held_out_by_key(split_key, params.test_size, params.random_state, n=full_n)[rows]
    )
    share = params.alpha / len(analyses)
    parts = []
    for name, problem in analyses:
        sub = SearchParams(**{**params_dict(params), "alpha": share})
        search_rows, confirm_rows = split_rows(problem, sub, held_out)
        parts.append(Part(name, problem, select(problem, sub, search_rows, confirm_rows), share))
    recorded = parameters_record(
        params,
        **({"split": "key"} if split_key is not None else {}),
        error=kind,
        n_bins=n_bins,
        max_values=max_values,
        context=[c.name for c in contexts],
        explanatory=ex_names,
        analyses=[a for a, _ in analyses],
        sensitive_features=protected,
    )
    return build_investigation(parts, recorded, n, params.max_findings)


def find_associations(
    y: object,
    *,
    sensitive_features: object,
    context: object,
    explanatory: object = None,
    outcome: Literal["auto", "binary", "continuous", "categorical"] = "auto",
    max_depth: int = 3,
    min_support: int = 50,
    test_size: float = 0.5,
    alpha: float = 0.05,
    correction: Literal["holm", "bh"] = "holm",
    max_findings: int = 20,
    n_bins: int = 5,
    max_values: int = 12,
    random_state: int = 0,
    split_key: object = None,
) -> Investigation:
    """Find contexts where a protected group's outcome differs from the rest of the context.

    FairTest's *testing* investigation: for every context (a conjunction of up
    to ``max_depth`` conditions on the context attributes, including the whole
    population) and protected group, the group's positive rate (binary
    outcome) or mean (continuous outcome, e.g. a score) is compared with the
    rest of the context: a difference and a ratio with intervals, and an
    exact or asymptotic test. For a categorical output (several classes) the
    measure is the normalised mutual information of group and class in the
    context, with a noncentral chi-square interval and a G-test (Monte Carlo
    exact test for small cells); the class whose rate differs most is named
    in ``label``. Contexts are searched on one split and confirmed
    on the other, with false findings controlled at ``alpha``; overlapping
    findings collapse to one per root cause.

    Parameters
    ----------
    y : array-like of shape (n_samples,)
        The model's output: binary decisions, real values (scores) or classes
        (at most 50; a missing output is a class of its own).
    sensitive_features : array-like or table
        The protected attribute(s); several are intersected.
    context : table of shape (n_samples, k) or array-like of shape (n_samples,)
        The attributes that define contexts (see :func:`profile_errors`).
    explanatory : array-like or table, default=None
        Attributes that legitimately explain differences (e.g. a
        qualification): effects are measured within their strata
        (Mantel-Haenszel), and confirmed crude effects that vanish there are
        listed in ``explained``.
    outcome : {"auto", "binary", "continuous", "categorical"}, default="auto"
        The kind of ``y``; "auto" takes 0/1 or booleans as binary, other
        numbers as continuous and anything else (text, categories) as
        categorical.
    max_depth, min_support, test_size, alpha, correction : see profile_errors
        As in :func:`profile_errors`.
    max_findings, n_bins, max_values, random_state, split_key : see profile_errors
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

    A categorical output: group B is sent to manual review more often in city z.

    >>> where = ((city == "z") & (group == "B"))[:, None]
    >>> cumulative = np.where(where, [0.3, 0.8, 1.0], [0.6, 0.8, 1.0])
    >>> pick = (rng.random(n)[:, None] > cumulative).sum(axis=1)
    >>> decision = np.array(["approve", "review", "decline"])[pick]
    >>> res = find_associations(decision, sensitive_features=group, context={"city": city})
    >>> res.findings.context, res.findings.measure, res.findings.label
    (('city = z',), ('nmi',), ('review',))
    """
    caller = "find_associations"
    kind = check_choice(outcome, "outcome", caller, ("auto", "binary", "continuous", "categorical"))
    params = search_params(
        caller, max_depth, min_support, test_size, alpha, correction, max_findings, random_state
    )
    values = to_1d(y, "y")
    n = int(values.shape[0])
    out: Outcome
    if kind == "auto":
        if values.dtype.kind not in "biuf":
            out = "categorical"
        elif values.dtype.kind == "b" or np.isin(values, (0, 1)).all():
            out = "binary"
        else:
            out = "continuous"
    else:
        out = kind  # type: ignore[assignment]
    classes: tuple[str, ...] = ()
    if out == "categorical":
        yv, classes = _classes(y, caller)
    elif out == "binary":
        yv = to_binary(values, "y").astype(np.float64)
    else:
        yv = to_float(values, "y")
    cols = sensitive_columns(sensitive_features, n)
    group, labels = combine_groups(cols)
    contexts = context_columns(context, n, n_bins, max_values, caller)
    stratum, n_strata, ex_names = strata(explanatory, n)
    check_split(n, params, caller)
    problem = Problem(
        "group",
        out,
        yv,
        group,
        labels,
        tested_groups(group, len(labels)),
        stratum,
        n_strata,
        contexts,
        classes,
    )
    held_out = (
        None
        if split_key is None
        else held_out_by_key(split_key, params.test_size, params.random_state, n=n)
    )
    search_rows, confirm_rows = split_rows(problem, params, held_out)
    selection = select(problem, params, search_rows, confirm_rows)
    part = Part("association", problem, selection, params.alpha)
    recorded = parameters_record(
        params,
        **({"split": "key"} if split_key is not None else {}),
        outcome=out,
        n_bins=n_bins,
        max_values=max_values,
        context=[c.name for c in contexts],
        explanatory=ex_names,
        sensitive_features=[c.name for c in cols],
        **({"classes": list(classes)} if classes else {}),
    )
    return build_investigation([part], recorded, n, params.max_findings)


def _classes(y: object, caller: str) -> tuple[FloatArray, tuple[str, ...]]:
    """A categorical output as class indices (as floats) and the classes' names."""
    col = _codes(y, "y")
    k = len(col.labels)
    if k < 2:
        raise DataValidationError(
            f"{caller}: y has a single class ({col.labels[0] if k else 'none'}); "
            "an association needs an output that varies. Check the column passed as y."
        )
    if k > MAX_CLASSES:
        raise param_error(
            "y",
            caller,
            f"a categorical output with at most {MAX_CLASSES} classes (group rare classes "
            "together, or use discover_labels for many labels)",
            f"{k} classes",
        )
    return col.codes.astype(np.float64), col.labels
