"""The public discovery over a multi-label output (see :mod:`._discover`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from seawall._groups import combine_groups
from seawall._validation import check_real, param_error
from seawall.associations._discover import run_discovery
from seawall.associations._inputs import (
    check_split,
    context_columns,
    parameters_record,
    params_dict,
    search_params,
    strata,
)
from seawall.associations._result import Investigation
from seawall.associations._select import SearchParams
from seawall.metrics._assembly import sensitive_columns

__all__ = ["discover_labels"]


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
    params = search_params(
        caller,
        max(depth, 1),
        min_support,
        test_size,
        alpha,
        correction,
        max_findings,
        random_state,
    )
    params = SearchParams(**{**params_dict(params), "max_depth": depth})
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
    group, group_labels = combine_groups(cols)
    contexts = [] if context is None else context_columns(context, n, n_bins, max_values, caller)
    stratum, n_strata, ex_names = strata(explanatory, n)
    check_split(n, params, caller)
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
    recorded = parameters_record(
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
        parameters=recorded,
        n_rows=result.n_rows,
        n_search_rows=result.n_search_rows,
        n_confirm_rows=result.n_confirm_rows,
        n_pruned=result.n_pruned,
        shadows=result.shadows,
    )
