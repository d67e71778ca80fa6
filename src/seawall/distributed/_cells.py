"""Counts and sums per cell of one partition, and their exact merge.

A partition's rows become one row per observed combination of the sensitive
features' values and the outcome ``2 * y_true + y_pred``: the number of rows,
with weights their sum and the sum of their squares, and for regression the
weighted sums and sums of squares of the target, prediction and errors.
Merging partitions adds those numbers per combination, so the merged table is
exactly the table of the whole data (sums up to floating-point rounding), and
every metric of :func:`seawall.metrics.group_metrics` and
:func:`~seawall.metrics.regression_metrics` (functions of these numbers) comes
out the same.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from seawall._validation import to_binary, to_float, to_weights
from seawall.audit._audit import label_codes
from seawall.exceptions import DataValidationError
from seawall.metrics._regression import REGRESSION_QUANTITIES

__all__ = [
    "OUTCOME",
    "ROWS",
    "SQUARED",
    "SQUARES",
    "SUMS",
    "WEIGHT",
    "CellSpec",
    "count_cells",
    "merge_cells",
]

FloatArray = npt.NDArray[np.float64]

OUTCOME = "__seawall_outcome"
ROWS = "__seawall_rows"
WEIGHT = "__seawall_weight"
SQUARED = "__seawall_squared"
#: Per regression quantity: the weighted sum and the weighted sum of squares.
SUMS = tuple(f"__seawall_sum_{q}" for q in REGRESSION_QUANTITIES)
SQUARES = tuple(f"__seawall_square_{q}" for q in REGRESSION_QUANTITIES)


@dataclass(frozen=True, slots=True)
class CellSpec:
    """Which columns make a partition's cells, and what is added up in each.

    Attributes
    ----------
    label, prediction : str
        The true outcome and the decision (0/1, or ``positive_label`` against
        the rest); for regression, the target and the prediction (numbers).
    sensitive : tuple of str
        The sensitive features.
    weight : str or None
        A column of row weights.
    positive_label : str or None
        The label value that counts as positive.
    task : {"classification", "regression"}
        Classification cells are split by outcome ``2 * y_true + y_pred``;
        regression cells carry the sums behind
        :func:`seawall.metrics.regression_metrics`.
    score : str or None
        The model's score column: read with the others (and fingerprinted);
        its metrics need more passes (:mod:`seawall.distributed._scores`).
    """

    label: str
    prediction: str
    sensitive: tuple[str, ...]
    weight: str | None = None
    positive_label: str | None = None
    task: str = "classification"
    score: str | None = None

    @property
    def columns(self) -> list[str]:
        """Every column a partition is read for."""
        return [
            self.label,
            self.prediction,
            *([self.score] if self.score else []),
            *self.sensitive,
            *([self.weight] if self.weight else []),
        ]

    @property
    def keys(self) -> list[str]:
        """The columns of a cell's identity."""
        return [*self.sensitive, OUTCOME]

    @property
    def totals(self) -> list[str]:
        """The columns added up per cell, after the row count."""
        out = [WEIGHT, SQUARED] if self.weight else []
        if self.task == "regression":
            out += [*SUMS, *SQUARES]
        return out


def _decoded(column: pa.ChunkedArray) -> pa.ChunkedArray:
    """A dictionary-encoded column as its values (each file has its own dictionary)."""
    if pa.types.is_dictionary(column.type):
        return column.cast(column.type.value_type)
    return column


def _values(table: pa.Table, spec: CellSpec) -> tuple[npt.NDArray[np.int8], dict[str, FloatArray]]:
    """Validate one partition's label, prediction and weight: outcomes and totals per row."""
    n = table.num_rows
    weight = (
        to_weights(table.column(spec.weight).to_numpy(), n, spec.weight) if spec.weight else None
    )
    totals: dict[str, FloatArray] = {}
    if weight is not None:
        totals[WEIGHT], totals[SQUARED] = weight, weight * weight
    if spec.task == "regression":
        yt = to_float(table.column(spec.label).to_numpy(), f"the label column {spec.label!r}")
        yp = to_float(
            table.column(spec.prediction).to_numpy(), f"the prediction column {spec.prediction!r}"
        )
        err = yp - yt
        w = np.ones(n) if weight is None else weight
        for s_col, q_col, q in zip(
            SUMS, SQUARES, (yt, yp, err, np.abs(err), err * err), strict=True
        ):
            totals[s_col], totals[q_col] = w * q, w * q * q
        return np.zeros(n, dtype=np.int8), totals
    y_true = label_codes(
        table.column(spec.label).to_pandas(),
        spec.label,
        spec.positive_label,
        require_positive=False,
    )
    y_pred = to_binary(
        table.column(spec.prediction).to_numpy(), f"the prediction column {spec.prediction!r}"
    )
    return (y_true.astype(np.int8) << 1) | y_pred, totals


def count_cells(table: pa.Table, spec: CellSpec, name: str) -> pa.Table:
    """Count one partition's rows (and add up its totals) per sensitive cell and outcome.

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
        The sensitive columns, the outcome, the rows and ``spec.totals`` per
        observed combination.

    Raises
    ------
    DataValidationError
        When a column is missing or holds bad values; the message names the file.
    """
    try:
        outcome, totals = _values(table, spec)
    except DataValidationError as exc:
        raise DataValidationError(
            f"{exc} (in the partition {name}; rows count from 0 in it)"
        ) from exc
    data: dict[str, pa.ChunkedArray | pa.Array] = {
        s: _decoded(table.column(s)) for s in spec.sensitive
    }
    data[OUTCOME] = pa.array(outcome, type=pa.int8())
    data.update({k: pa.array(v) for k, v in totals.items()})
    aggregations: list[tuple[object, str]] = [([], "count_all")]
    aggregations += [(k, "sum") for k in spec.totals]
    grouped = pa.table(data).group_by(spec.keys).aggregate(aggregations)
    out = {k: grouped.column(k) for k in spec.keys}
    out[ROWS] = grouped.column("count_all")
    out.update({k: grouped.column(f"{k}_sum") for k in spec.totals})
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
    grouped = both.group_by(spec.keys).aggregate([(k, "sum") for k in (ROWS, *spec.totals)])
    out = {k: grouped.column(k) for k in spec.keys}
    out[ROWS] = pc.cast(grouped.column(f"{ROWS}_sum"), pa.int64())
    out.update({k: grouped.column(f"{k}_sum") for k in spec.totals})
    return pa.table(out)
