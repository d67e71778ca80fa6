"""The two passes over a partition of an investigation: count its values, then code its rows.

The first pass (:func:`survey_part`) reads a partition's columns and returns
what the code space needs (:class:`Survey`, merged exactly by
:func:`merge_surveys`). The second (:func:`prepare_part`) codes its rows in the
:class:`~seawall.distributed._scan_codes.Codebook` of the whole data, splits
them by the seeded hash of the row key, and keeps the views in the worker's
memory for the selection's questions.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa

from seawall._groups import _codes
from seawall._validation import to_1d, to_binary, to_float
from seawall.associations._encoding import ContextColumn
from seawall.associations._problem import Problem
from seawall.associations._rows import RowView
from seawall.associations._split import held_out_by_key
from seawall.distributed._files import read_columns
from seawall.distributed._scan_codes import (
    ANALYSED,
    ROWS,
    Codebook,
    merge_combos,
    merge_value_counts,
    value_counts,
)
from seawall.distributed._scan_rows import PartViews
from seawall.exceptions import DataValidationError

__all__ = ["ScanSpec", "Survey", "merge_surveys", "prepare_part", "problems", "survey_part"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.intp]
Counts = tuple[np.ndarray[Any, Any], FloatArray]
_ROLE = "the investigation"


@dataclass(frozen=True, slots=True)
class ScanSpec:
    """The columns of a partitioned investigation and what is investigated.

    Attributes
    ----------
    target : tuple of str
        The output column, or the true and the predicted columns.
    kind : str
        The outcome (``"auto"``, ``"binary"``, ...) of an output, or the error
        (``"misclassification"``, ``"fpr"``, ...) of a prediction.
    errors : bool
        Whether the target is a prediction's errors.
    sensitive, context, explanatory : tuple of str
        The protected, context and explanatory columns.
    split_key : str
        The row-key column whose seeded hash splits the rows.
    """

    target: tuple[str, ...]
    kind: str
    errors: bool
    sensitive: tuple[str, ...]
    context: tuple[str, ...]
    explanatory: tuple[str, ...]
    split_key: str

    @property
    def columns(self) -> list[str]:
        """Every column a partition is read for, each once."""
        cols = [
            *self.target,
            *self.sensitive,
            *self.context,
            *self.explanatory,
            self.split_key,
        ]
        return list(dict.fromkeys(cols))


def _read(path: str, spec: ScanSpec) -> dict[str, Any]:
    """A partition's columns as numpy arrays, or categoricals where dictionary-encoded.

    A dictionary-encoded column stays a pandas categorical: its values are then
    counted and coded through the dictionary, never turned into one object per row.
    """
    table: pa.Table = read_columns(path, spec.columns, _ROLE)
    out: dict[str, Any] = {}
    for name in spec.columns:
        column = table.column(name)
        if pa.types.is_dictionary(column.type) and name not in spec.target:
            out[name] = column.to_pandas()
        else:
            out[name] = to_1d(column, name)
    return out


def _in_partition(path: str, exc: DataValidationError) -> DataValidationError:
    return DataValidationError(f"{exc} (in the partition {Path(path).name}; rows count from 0)")


def _errors(cols: dict[str, Any], spec: ScanSpec) -> tuple[FloatArray, IntArray | None]:
    """A prediction's error per analysed row, and the analysed rows (None: all)."""
    true_col, pred_col = spec.target
    if spec.kind in ("absolute", "squared"):
        t, p = to_float(cols[true_col], true_col), to_float(cols[pred_col], pred_col)
        diff = np.abs(t - p)
        return (diff if spec.kind == "absolute" else diff * diff), None
    tb, pb = to_binary(cols[true_col], true_col), to_binary(cols[pred_col], pred_col)
    if spec.kind == "misclassification":
        return (tb != pb).astype(np.float64), None
    rows = np.flatnonzero(tb == (0 if spec.kind == "fpr" else 1))
    return (tb[rows] != pb[rows]).astype(np.float64), rows


@dataclass(frozen=True, slots=True)
class Survey:
    """What the code space needs from some partitions, merged exactly.

    Attributes
    ----------
    n_rows : int
        Rows read.
    n_analysed : int
        Rows investigated (those with the error's condition for ``"fpr"``/``"fnr"``).
    contexts : tuple of (ndarray, ndarray)
        Per context column, its distinct values and their rows.
    groups, strata : pandas.DataFrame or None
        The distinct combinations of the protected (explanatory) columns with
        their rows (and analysed rows).
    y_kinds : frozenset of str
        The numpy kinds of the output column (outputs only).
    y_binary : bool
        Whether every output is 0/1 or boolean.
    y_values : (ndarray, ndarray) or None
        The output's distinct values and rows, when it may be categorical.
    """

    n_rows: int
    n_analysed: int
    contexts: tuple[Counts, ...]
    groups: pd.DataFrame | None
    strata: pd.DataFrame | None
    y_kinds: frozenset[str]
    y_binary: bool
    y_values: Counts | None


def _combos(
    cols: dict[str, Any], names: tuple[str, ...], rows: IntArray | None
) -> pd.DataFrame | None:
    if not names:
        return None
    frame = pd.DataFrame({c: cols[c] for c in names})
    frame[ROWS] = 1.0
    analysed = np.ones(len(frame)) if rows is None else np.bincount(rows, minlength=len(frame))
    frame[ANALYSED] = analysed.astype(np.float64)
    counted = frame.groupby(
        list(names), dropna=False, sort=False, as_index=False, observed=True
    ).sum()
    return counted[counted[ROWS] > 0]


def survey_part(path: str, spec: ScanSpec) -> Survey:
    """Count one partition's values (the first pass).

    Parameters
    ----------
    path : str
        The partition.
    spec : ScanSpec
        The columns.

    Returns
    -------
    Survey
        Its value counts.

    Raises
    ------
    DataValidationError
        On a missing column or bad values; the message names the partition.
    """
    cols = _read(path, spec)
    n = int(next(iter(cols.values())).shape[0])
    rows: IntArray | None = None
    kinds: frozenset[str] = frozenset()
    binary = True
    y_values = None
    try:
        if spec.errors:
            y, rows = _errors(cols, spec)
            n_analysed = int(y.shape[0])
        else:
            values = cols[spec.target[0]]
            n_analysed = n
            kinds = frozenset(values.dtype.kind)
            binary = values.dtype.kind == "b" or bool(np.isin(values, (0, 1)).all())
            if spec.kind == "categorical" or values.dtype.kind not in "biuf":
                y_values = value_counts(values)
    except DataValidationError as exc:
        raise _in_partition(path, exc) from exc
    return Survey(
        n,
        n_analysed,
        tuple(value_counts(cols[c]) for c in spec.context),
        _combos(cols, spec.sensitive, rows),
        _combos(cols, spec.explanatory, None),
        kinds,
        binary,
        y_values,
    )


def _merge_optional(frames: list[pd.DataFrame | None]) -> pd.DataFrame | None:
    present = [f for f in frames if f is not None]
    return merge_combos(*present) if present else None


def merge_surveys(*parts: Survey) -> Survey:
    """Add up surveys of partitions (or merged groups of them)."""
    first = parts[0]
    y_parts = [p.y_values for p in parts if p.y_values is not None]
    return Survey(
        sum(p.n_rows for p in parts),
        sum(p.n_analysed for p in parts),
        tuple(
            merge_value_counts(*(p.contexts[j] for p in parts)) for j in range(len(first.contexts))
        ),
        _merge_optional([p.groups for p in parts]),
        _merge_optional([p.strata for p in parts]),
        frozenset().union(*(p.y_kinds for p in parts)),
        all(p.y_binary for p in parts),
        merge_value_counts(*y_parts) if y_parts else None,
    )


def problems(
    book: Codebook,
    y: FloatArray,
    group: IntArray,
    stratum: IntArray,
    contexts: list[ContextColumn],
    errors: bool,
) -> list[tuple[str, Problem]]:
    """The analyses of an investigation over some rows, in the in-memory order.

    Run by each worker on its partition's rows, and by the client with no rows
    (zero-length arrays): the client's problems carry only what the selection
    needs besides the rows (the groups, strata, classes and context labels).
    """
    n_strata = 1 if book.strata is None else len(book.strata.labels)
    if book.groups is None:
        group_labels: tuple[str, ...] = ("all",)
    else:
        group_labels = book.groups.labels
    out: list[tuple[str, Problem]] = []
    if errors:
        out.append(
            (
                "weak_slice",
                Problem(
                    "weak_slice",
                    book.outcome,
                    y,
                    np.zeros(y.shape[0], dtype=np.intp),
                    ("all",),
                    (0,),
                    stratum,
                    n_strata,
                    contexts,
                ),
            )
        )
        if book.groups is None:
            return out
    out.append(
        (
            "error_disparity" if errors else "association",
            Problem(
                "group",
                book.outcome,
                y,
                group,
                group_labels,
                book.tested,
                stratum,
                n_strata,
                contexts,
                book.class_labels,
            ),
        )
    )
    return out


def _outcome(cols: dict[str, Any], spec: ScanSpec, book: Codebook) -> FloatArray:
    """An output column as the outcome of the code space."""
    name = spec.target[0]
    values = cols[name]
    if book.outcome == "binary":
        return to_binary(values, name).astype(np.float64)
    if book.outcome == "continuous":
        return to_float(values, name)
    assert book.classes is not None
    local = _codes(values, name)
    lut = np.array([book.classes[lab] for lab in local.labels], dtype=np.float64)
    return lut[np.asarray(local.codes, dtype=np.intp)]


def prepare_part(
    path: str, spec: ScanSpec, book: Codebook, test_size: float, random_state: int
) -> PartViews:
    """Code one partition's rows, split them, and keep their views (the second pass).

    Parameters
    ----------
    path : str
        The partition.
    spec : ScanSpec
        The columns.
    book : Codebook
        The whole data's code space.
    test_size : float
        The expected share of rows held out.
    random_state : int
        The seed of the key hash.

    Returns
    -------
    PartViews
        Per analysis, the (search, confirm) views of the partition's rows.

    Raises
    ------
    DataValidationError
        On bad values; the message names the partition.
    """
    cols = _read(path, spec)
    n = int(next(iter(cols.values())).shape[0])
    try:
        if spec.errors:
            y, rows = _errors(cols, spec)
        else:
            y, rows = _outcome(cols, spec, book), None
    except DataValidationError as exc:
        raise _in_partition(path, exc) from exc
    take = slice(None) if rows is None else rows
    contexts = [
        ContextColumn(c.name, c.encode(cols[c.name])[take], c.labels, c.other, c.binned)
        for c in book.contexts
    ]
    m = int(y.shape[0])
    group = (
        np.zeros(m, dtype=np.intp)
        if book.groups is None
        else book.groups.encode([cols[c] for c in book.groups.columns])[take]
    )
    stratum = (
        np.zeros(m, dtype=np.intp)
        if book.strata is None
        else book.strata.encode([cols[c] for c in book.strata.columns])[take]
    )
    held = held_out_by_key(cols[spec.split_key], test_size, random_state, n=n)[take]
    search_index = np.flatnonzero(~held).astype(np.intp)
    confirm_index = np.flatnonzero(held).astype(np.intp)
    analyses = problems(book, y, group, stratum, contexts, spec.errors)
    last = analyses[-1][1]
    search, confirm = last.view(search_index), last.view(confirm_index)
    out: list[tuple[RowView, RowView]] = []
    for _, problem in analyses:
        if problem is last:
            out.append((search, confirm))
        else:
            # The same rows and codes, with this analysis' cells: no second copy.
            out.append(
                (
                    replace(search, cell=problem.row_cells(search_index), n_cells=problem.n_cells),
                    replace(
                        confirm, cell=problem.row_cells(confirm_index), n_cells=problem.n_cells
                    ),
                )
            )
    return tuple(out)
