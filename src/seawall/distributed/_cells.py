"""Confusion counts per cell of one partition, and their exact merge.

A partition's rows become one row per observed combination of the sensitive
features' values and the outcome ``2 * y_true + y_pred``: the number of rows,
and with weights their sum and the sum of their squares. Merging partitions
adds those numbers per combination, so the merged table is exactly the table of
the whole data, and every metric of :func:`seawall.metrics.group_metrics` (a
function of these counts) comes out the same.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from seawall._validation import to_binary, to_weights
from seawall.audit._audit import label_codes
from seawall.exceptions import DataValidationError

__all__ = ["ROWS", "SQUARED", "WEIGHT", "CellSpec", "count_cells", "merge_cells"]

OUTCOME = "__seawall_outcome"
ROWS = "__seawall_rows"
WEIGHT = "__seawall_weight"
SQUARED = "__seawall_squared"


@dataclass(frozen=True, slots=True)
class CellSpec:
    """Which columns make a partition's confusion cells.

    Attributes
    ----------
    label, prediction : str
        The true outcome and the decision (0/1, or ``positive_label`` against the rest).
    sensitive : tuple of str
        The sensitive features.
    weight : str or None
        A column of row weights.
    positive_label : str or None
        The label value that counts as positive.
    """

    label: str
    prediction: str
    sensitive: tuple[str, ...]
    weight: str | None = None
    positive_label: str | None = None

    @property
    def columns(self) -> list[str]:
        """Every column a partition is read for."""
        return [
            self.label,
            self.prediction,
            *self.sensitive,
            *([self.weight] if self.weight else []),
        ]

    @property
    def keys(self) -> list[str]:
        """The columns of a cell's identity."""
        return [*self.sensitive, OUTCOME]


def _decoded(column: pa.ChunkedArray) -> pa.ChunkedArray:
    """A dictionary-encoded column as its values (each file has its own dictionary)."""
    if pa.types.is_dictionary(column.type):
        return column.cast(column.type.value_type)
    return column


def count_cells(table: pa.Table, spec: CellSpec, name: str) -> pa.Table:
    """Count one partition's rows per sensitive cell and outcome.

    Parameters
    ----------
    table : pyarrow.Table
        The partition's columns (``spec.columns``).
    spec : CellSpec
        The columns.
    name : str
        The partition's name, for error messages.

    Returns
    -------
    pyarrow.Table
        The sensitive columns, the outcome, and the rows (with weights, their
        sum and sum of squares) per observed combination.

    Raises
    ------
    DataValidationError
        When a column is missing or holds bad values; the message names the file.
    """
    try:
        y_true = label_codes(
            table.column(spec.label).to_pandas(),
            spec.label,
            spec.positive_label,
            require_positive=False,
        )
        y_pred = to_binary(
            table.column(spec.prediction).to_numpy(), f"the prediction column {spec.prediction!r}"
        )
        weight = (
            to_weights(table.column(spec.weight).to_numpy(), table.num_rows, spec.weight)
            if spec.weight
            else None
        )
    except DataValidationError as exc:
        raise DataValidationError(
            f"{exc} (in the partition {name}; rows count from 0 in it)"
        ) from exc
    outcome = (y_true.astype(np.int8) << 1) | y_pred
    data: dict[str, pa.ChunkedArray | pa.Array] = {
        s: _decoded(table.column(s)) for s in spec.sensitive
    }
    data[OUTCOME] = pa.array(outcome, type=pa.int8())
    aggregations: list[tuple[object, str]] = [([], "count_all")]
    if weight is not None:
        data[WEIGHT] = pa.array(weight)
        data[SQUARED] = pa.array(weight * weight)
        aggregations += [(WEIGHT, "sum"), (SQUARED, "sum")]
    grouped = pa.table(data).group_by(spec.keys).aggregate(aggregations)
    return _renamed(grouped, spec)


def _renamed(grouped: pa.Table, spec: CellSpec) -> pa.Table:
    """Name the aggregates ROWS, WEIGHT and SQUARED, in that order after the keys."""
    out = {k: grouped.column(k) for k in spec.keys}
    out[ROWS] = grouped.column("count_all")
    if spec.weight:
        out[WEIGHT] = grouped.column(f"{WEIGHT}_sum")
        out[SQUARED] = grouped.column(f"{SQUARED}_sum")
    return pa.table(out)


def merge_cells(spec: CellSpec, *tables: pa.Table) -> pa.Table:
    """Add up cell tables of several partitions (or merged groups of them).

    Parameters
    ----------
    spec : CellSpec
        The columns.
    *tables : pyarrow.Table
        Tables from :func:`count_cells` or earlier merges.

    Returns
    -------
    pyarrow.Table
        One row per combination, its numbers summed.
    """
    # Combined into fresh buffers: tables unpickled by Dask may be misaligned for Acero.
    both = pa.concat_tables(tables, promote_options="permissive").combine_chunks()
    sums = [(ROWS, "sum")] + ([(WEIGHT, "sum"), (SQUARED, "sum")] if spec.weight else [])
    grouped = both.group_by(spec.keys).aggregate(sums)
    out = {k: grouped.column(k) for k in spec.keys}
    out[ROWS] = pc.cast(grouped.column(f"{ROWS}_sum"), pa.int64())
    if spec.weight:
        out[WEIGHT] = grouped.column(f"{WEIGHT}_sum")
        out[SQUARED] = grouped.column(f"{SQUARED}_sum")
    return pa.table(out)
