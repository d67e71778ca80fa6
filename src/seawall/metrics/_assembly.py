"""Turning accumulated rows into frozen result tables, shared by every metric family."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import numpy.typing as npt

from seawall._groups import GroupColumn, to_group_columns
from seawall._validation import (
    check_choice,
    check_real,
    check_seed,
)
from seawall.exceptions import DataValidationError, InsufficientDataError, InvalidParameterError
from seawall.metrics._block import Block
from seawall.metrics._counts import VALUE_SEP, CountTables, build_count_tables
from seawall.metrics._definitions import SAME_TEST, Rows
from seawall.metrics._result import (
    DisparityTable,
    GroupMetrics,
    GroupTable,
    MetricTable,
    SummaryTable,
)
from seawall.metrics._significance import adjust_pvalues
from seawall.metrics._table import frozen_array

__all__ = [
    "CommonParams",
    "adjusted_columns",
    "build_result",
    "checked_count_tables",
    "frozen_columns",
    "make_block",
    "resolve_references",
    "sensitive_columns",
]

FloatArray = npt.NDArray[np.float64]


class CommonParams:
    """The validated parameters every metric family shares."""

    __slots__ = ("correction", "level", "min_size", "seed")

    def __init__(
        self,
        caller: str,
        confidence_level: object,
        min_group_size: object,
        correction: object,
        random_state: object,
    ) -> None:
        self.level = check_real(
            confidence_level,
            "confidence_level",
            caller,
            low=0,
            high=1,
            low_open=True,
            high_open=True,
        )
        self.min_size = int(
            check_real(min_group_size, "min_group_size", caller, low=0, integer=True)
        )
        self.correction = check_choice(correction, "correction", caller, ("holm", "bh", "none"))
        self.seed = check_seed(random_state, "random_state", caller)


def resolve_references(
    reference: str | Mapping[str, str] | None,
    tables: CountTables,
    sizes: list[FloatArray],
) -> list[int]:
    """Each grouping's reference group: the one named, or else the largest.

    For an intersection whose features are only partly named, the reference is
    the largest group that matches the named values.

    Parameters
    ----------
    reference : str, mapping of str to str, or None
        A label (one feature) or ``{feature: label}``.
    tables : CountTables
        The groupings.
    sizes : list of ndarray
        Each grouping's group sizes.

    Returns
    -------
    list of int
        The reference group's index in each grouping.

    Raises
    ------
    DataValidationError
        When the reference is ambiguous, names an unknown feature, or a group
        that does not occur.
    """
    features = tables.features
    if isinstance(reference, int | float | np.integer | np.floating) and not isinstance(
        reference, bool
    ):
        reference = str(reference.item() if isinstance(reference, np.generic) else reference)
    if reference is None:
        wanted: dict[str, str] = {}
    elif isinstance(reference, str):
        if len(features) != 1:
            raise DataValidationError(
                f"reference={reference!r} is ambiguous with {len(features)} sensitive features "
                f"{list(features)}; pass a mapping such as "
                f"{{{features[0]!r}: {reference!r}}}."
            )
        wanted = {features[0]: reference}
    elif isinstance(reference, Mapping):
        wanted = {str(k): str(v) for k, v in reference.items()}
        unknown = sorted(set(wanted) - set(features))
        if unknown:
            raise DataValidationError(
                f"reference names feature(s) {unknown} that are not sensitive features; "
                f"the sensitive features are {list(features)}."
            )
    else:
        raise InvalidParameterError(
            f"reference must be a group label, a mapping of feature to label, or None; "
            f"got {type(reference).__name__} {reference!r}."
        )
    out = []
    for grouping, n in zip(tables.groupings, sizes, strict=True):
        named = [(k, wanted[f]) for k, f in enumerate(grouping.features) if f in wanted]
        candidates = np.array(
            [all(v[k] == lab for k, lab in named) for v in grouping.values], dtype=bool
        )
        if not candidates.any():
            label = VALUE_SEP.join(lab for _, lab in named)
            shown = list(grouping.labels)[:30]
            raise DataValidationError(
                f"reference group {label!r} does not occur in {grouping.name!r}; "
                f"its groups are {shown}."
            )
        # The named group, or (partly named intersection, or none named) the largest match.
        out.append(int(np.argmax(np.where(candidates, n, -1.0))))
    return out


def adjusted_columns(
    table: dict[str, list[Any]], method: str, alpha: float, key: tuple[str, ...]
) -> dict[str, Any]:
    """The table's columns, frozen, with p-values adjusted once per test.

    A difference and its ratio share one test (rows with the same ``key``), and
    so do metrics that are complements (``SAME_TEST``).
    """
    columns = frozen_columns(table)
    raw = columns.get("p_value", frozen_array([]))
    parts = [
        tuple(SAME_TEST.get(v, v) for v in columns[c]) if c == "metric" else columns[c] for c in key
    ]
    keys = list(zip(*parts, strict=True)) if raw.size else []
    ids: dict[tuple[object, ...], int] = {}
    test_of_row = np.fromiter((ids.setdefault(k, len(ids)) for k in keys), np.intp, len(keys))
    first_row = np.zeros(len(ids), dtype=np.intp)
    first_row[test_of_row[::-1]] = np.arange(len(keys) - 1, -1, -1)
    adjusted = adjust_pvalues(raw[first_row], method)  # type: ignore[arg-type]
    p_adj = adjusted[test_of_row]
    # Rows of one test show one p-value (complements can differ in the last bit).
    columns["p_value"] = frozen_array(raw[first_row][test_of_row])
    columns["p_adjusted"] = frozen_array(p_adj)
    columns["significant"] = tuple((np.isfinite(p_adj) & (p_adj < alpha)).tolist())
    return columns


_NUMERIC = frozenset(
    {"value", "lower", "upper", "p_value", "n", "weight", "positives", "denominator"}
)


def frozen_columns(table: dict[str, list[Any]]) -> dict[str, Any]:
    """Numeric columns as read-only float arrays, the others as tuples of Python values."""
    out: dict[str, Any] = {}
    for name, chunks in table.items():
        if name in _NUMERIC:
            parts = [np.asarray(c, dtype=np.float64).ravel() for c in chunks]
            out[name] = frozen_array(np.concatenate(parts) if parts else [])
        else:
            out[name] = tuple(Rows.flat(table, name))
    return out


def sensitive_columns(sensitive_features: object, n: int) -> list[GroupColumn]:
    """Validated sensitive features: aligned with the rows, each with two groups or more.

    Parameters
    ----------
    sensitive_features : array-like or table
        As accepted by :func:`seawall.metrics.group_metrics`.
    n : int
        The number of rows.

    Returns
    -------
    list of GroupColumn
        The features as codes.

    Raises
    ------
    InsufficientDataError
        When there are no rows.
    DataValidationError
        When a feature is misaligned or has a single group.
    """
    if n == 0:
        raise InsufficientDataError("y_true is empty; an audit needs at least one row.")
    columns = to_group_columns(sensitive_features, n)
    for col in columns:
        if len(col.labels) < 2:
            raise DataValidationError(
                f"sensitive feature {col.name!r} has a single group {col.labels[0]!r}; "
                f"comparing groups needs at least two. Check the column or drop it."
            )
    return columns


def checked_count_tables(
    columns: list[GroupColumn],
    outcome: npt.NDArray[np.integer[Any]],
    n_outcomes: int,
    sample_weight: FloatArray | None,
    *,
    multiplicity: FloatArray | None = None,
    squared_weight: FloatArray | None = None,
) -> CountTables:
    """Count the rows (see ``build_count_tables``); every feature must keep two groups.

    Parameters
    ----------
    columns : list of GroupColumn
        The sensitive features.
    outcome : ndarray of int, shape (n_rows,)
        Each row's outcome.
    n_outcomes : int
        The number of outcomes.
    sample_weight : ndarray of float64 or None
        Row weights.
    multiplicity, squared_weight : ndarray of float64 or None
        For an aggregated table, as for ``build_count_tables``.

    Returns
    -------
    CountTables
        The counts.

    Raises
    ------
    DataValidationError
        When a feature has a single observed value (e.g. a categorical column
        with one used category).
    """
    tables = build_count_tables(
        columns,
        outcome,
        n_outcomes,
        sample_weight,
        multiplicity=multiplicity,
        squared_weight=squared_weight,
    )
    for grouping in tables.groupings[: len(columns)]:
        if grouping.n_groups < 2:
            raise DataValidationError(
                f"sensitive feature {grouping.name!r} has a single group "
                f"{grouping.labels[0]!r} in the data; comparing groups needs at least two. "
                f"Check the column or drop it."
            )
    return tables


def make_block(
    tables: CountTables, reference: str | Mapping[str, str] | None, params: CommonParams
) -> Block:
    """Stack every grouping's groups into one block; each reference must be judged.

    Parameters
    ----------
    tables : CountTables
        The groupings.
    reference : str, mapping of str to str, or None
        The reference groups, as :func:`resolve_references` reads them.
    params : CommonParams
        The shared parameters.

    Returns
    -------
    Block
        The stacked groups.

    Raises
    ------
    DataValidationError
        When the reference does not name a group (see :func:`resolve_references`).
    InsufficientDataError
        When a reference group is smaller than ``min_group_size``.
    """
    sizes = [g.aggregate(tables.rows).sum(axis=1) for g in tables.groupings]
    refs = resolve_references(reference, tables, sizes)
    offsets = np.cumsum([0] + [g.n_groups for g in tables.groupings])
    for grouping, rows, ref in zip(tables.groupings, sizes, refs, strict=True):
        if rows[ref] < params.min_size:
            raise InsufficientDataError(
                f"the reference group {grouping.labels[ref]!r} of {grouping.name!r} has "
                f"{int(rows[ref])} rows, fewer than min_group_size={params.min_size}; choose "
                f"a larger reference group or lower min_group_size."
            )
    counts = [g.n_groups for g in tables.groupings]
    return Block(
        names=tuple(g.name for g in tables.groupings),
        grouping=np.repeat(np.arange(len(counts), dtype=np.intp), counts),
        labels=tuple(lab for g in tables.groupings for lab in g.labels),
        rows=np.concatenate(sizes).astype(np.float64),
        ref=np.repeat(offsets[:-1] + np.asarray(refs), counts).astype(np.intp),
        alpha=1.0 - params.level,
        min_size=params.min_size,
    )


def build_result(
    task: str,
    out: Rows,
    features: tuple[str, ...],
    params: CommonParams,
    n_rows: int,
    weighted: bool,
    n_bootstrap: int,
) -> GroupMetrics:
    """Freeze the accumulated rows into a result, adjusting p-values per family.

    Parameters
    ----------
    task : str
        ``"classification"`` or ``"regression"``.
    out : Rows
        The accumulated rows.
    features : tuple of str
        The sensitive features.
    params : CommonParams
        The shared parameters.
    n_rows : int
        Rows audited.
    weighted : bool
        Whether sample weights were given.
    n_bootstrap : int
        Bootstrap replicates drawn.

    Returns
    -------
    GroupMetrics
        The result.
    """
    alpha = 1.0 - params.level
    method = params.correction
    return GroupMetrics(
        task=task,
        features=features,
        groups=GroupTable(**frozen_columns(out.groups)),
        metrics=MetricTable(**frozen_columns(out.metrics)),
        disparities=DisparityTable(
            **adjusted_columns(out.disparities, method, alpha, ("grouping", "group", "metric"))
        ),
        summary=SummaryTable(
            **adjusted_columns(out.summary, method, alpha, ("grouping", "metric"))
        ),
        confidence_level=params.level,
        correction=method,
        min_group_size=params.min_size,
        n_bootstrap=n_bootstrap,
        random_state=params.seed,
        n_rows=n_rows,
        weighted=weighted,
    )
