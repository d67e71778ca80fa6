"""Validation and encoding of an investigation's inputs, shared by the public functions."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from seawall._groups import combine_groups, to_group_columns
from seawall._validation import check_choice, check_real, check_seed
from seawall.associations._encoding import ContextColumn, encode_contexts
from seawall.associations._select import SearchParams
from seawall.exceptions import InsufficientDataError

__all__ = [
    "check_split",
    "context_columns",
    "params_dict",
    "parameters_record",
    "search_params",
    "strata",
    "tested_groups",
    "compared_groups",
]

IntArray = npt.NDArray[np.intp]


def search_params(
    caller: str,
    max_depth: object,
    min_support: object,
    test_size: object,
    alpha: object,
    correction: object,
    max_findings: object,
    random_state: object,
) -> SearchParams:
    """Validate the search parameters shared by every investigation."""
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


def context_columns(
    context: object, n: int, n_bins: object, max_values: object, caller: str
) -> list[ContextColumn]:
    """Validate the binning parameters and encode the context attributes."""
    bins = int(check_real(n_bins, "n_bins", caller, low=2, integer=True))
    cap = int(check_real(max_values, "max_values", caller, low=2, integer=True))
    return encode_contexts(context, n, n_bins=bins, max_values=cap)


def strata(explanatory: object, n: int) -> tuple[IntArray, int, list[str]]:
    """The strata of the explanatory attributes: codes, their number and column names."""
    if explanatory is None:
        return np.zeros(n, dtype=np.intp), 1, []
    columns = to_group_columns(explanatory, n, "explanatory")
    codes, labels = combine_groups(columns)
    return codes, len(labels), [c.name for c in columns]


def check_split(n: int, params: SearchParams, caller: str) -> None:
    """Raise when a split would have fewer than twice ``min_support`` rows."""
    n_confirm = round(n * params.test_size)
    if min(n_confirm, n - n_confirm) < 2 * params.min_support:
        raise InsufficientDataError(
            f"{caller} needs at least {2 * params.min_support} rows in each split "
            f"(twice min_support={params.min_support}) to search on one and confirm on "
            f"the other; got {n} rows split {n - n_confirm}/{n_confirm} by "
            f"test_size={params.test_size}. Provide more rows or lower min_support."
        )


def tested_groups(group: IntArray, n_groups: int) -> tuple[int, ...]:
    """The groups compared with the rest: with two, only the smaller one."""
    return compared_groups(np.bincount(group, minlength=n_groups))


def compared_groups(counts: npt.NDArray[np.float64] | IntArray) -> tuple[int, ...]:
    """The groups compared with the rest, from each group's rows: with two, the smaller."""
    if counts.shape[0] == 2:
        return (int(np.argmin(counts)),)
    return tuple(range(int(counts.shape[0])))


def parameters_record(params: SearchParams, **extra: Any) -> dict[str, Any]:
    """The investigation's parameters as recorded in its result."""
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


def params_dict(params: SearchParams) -> dict[str, Any]:
    """The fields of the search parameters, for a modified copy."""
    return {f: getattr(params, f) for f in SearchParams.__slots__}
