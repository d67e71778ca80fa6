"""Per-group confusion count tables, built in one bincount pass over the rows.

Every row falls in a *fine cell*: the intersection of all its sensitive
features. One ``np.bincount`` over ``fine_cell * 4 + 2 * y_true + y_pred`` gives
the confusion counts of every fine cell; each grouping (one feature alone, or
the intersection of all) is a sum of fine cells, so nothing reads the rows twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from seawall._groups import VALUE_SEP, GroupColumn

__all__ = ["INTERSECTION_SEP", "VALUE_SEP", "CountTables", "Grouping", "build_count_tables"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.intp]

#: Joins feature names of an intersection ("sex×race") ...
INTERSECTION_SEP = "×"
#: Up to this many fine cells the cell index is dense; above it, it is hashed.
_DENSE_CELLS = 1 << 22


@dataclass(frozen=True, slots=True)
class Grouping:
    """One way of splitting the rows into groups.

    Attributes
    ----------
    name : str
        A feature's name, or the names of an intersection joined by "×".
    labels : tuple of str
        The groups' labels.
    members : ndarray of intp, shape (n_fine,)
        The group of each fine cell.
    features : tuple of str
        The features it splits on (one, or all for the intersection).
    values : tuple of tuple of str
        Each group's value of each of those features.
    """

    name: str
    labels: tuple[str, ...]
    members: IntArray
    features: tuple[str, ...]
    values: tuple[tuple[str, ...], ...]

    @property
    def n_groups(self) -> int:
        """The number of groups."""
        return len(self.labels)

    def aggregate(self, fine: FloatArray) -> FloatArray:
        """Sum fine-cell values into this grouping's groups.

        Parameters
        ----------
        fine : ndarray of shape (..., n_fine, k)
            Values per fine cell (any leading axes, e.g. bootstrap replicates).

        Returns
        -------
        ndarray of shape (..., n_groups, k)
            The sums per group.
        """
        members = self.members
        if members.size == self.n_groups and (members == np.arange(members.size)).all():
            return np.asarray(fine, dtype=np.float64)  # the intersection: cells are groups
        # Sort the cells by group once, then one reduceat: no (groups x cells) matrix.
        order = np.argsort(members, kind="stable")
        starts = np.flatnonzero(np.r_[True, np.diff(members[order]) != 0])
        out: FloatArray = np.add.reduceat(
            np.take(fine, order, axis=-2).astype(np.float64, copy=False), starts, axis=-2
        )
        return out


@dataclass(frozen=True, slots=True)
class CountTables:
    """Outcome counts per fine cell, and the groupings built from them.

    For confusion tables cells are ordered ``[TN, FP, FN, TP]`` (index
    ``2 * y_true + y_pred``).

    Attributes
    ----------
    features : tuple of str
        The sensitive features' names.
    groupings : tuple of Grouping
        Each feature alone, then (with two or more features) their intersection.
    weighted : FloatArray, shape (n_fine, n_outcomes)
        Sum of sample weights per cell (row counts when unweighted).
    squared : FloatArray or None, shape (n_fine, n_outcomes)
        Sum of squared weights per cell, for effective sample sizes; None when
        unweighted.
    rows : FloatArray, shape (n_fine, n_outcomes)
        Row counts per cell.
    columns : tuple of GroupColumn
        The features' codes, from which :meth:`row_cells` derives each row's cell.
    cell_index : IntArray, shape (n_dense,)
        The observed fine cell of each dense key (-1 where unobserved), or, when
        keys were hashed, the identity.
    hashed_keys : IntArray or None
        The factorised keys of every row when there were too many dense cells.
    """

    features: tuple[str, ...]
    groupings: tuple[Grouping, ...]
    weighted: FloatArray
    squared: FloatArray | None
    rows: FloatArray
    columns: tuple[GroupColumn, ...]
    cell_index: IntArray
    hashed_keys: IntArray | None

    @property
    def n_fine(self) -> int:
        """The number of observed fine cells."""
        return int(self.rows.shape[0])

    def row_cells(self) -> IntArray:
        """Each row's fine cell, shape (n_rows,); one pass, computed on demand."""
        if self.hashed_keys is not None:
            return self.cell_index[self.hashed_keys]
        key = self.columns[0].codes.astype(np.intp)
        for col in self.columns[1:]:
            key = key * len(col.labels) + col.codes
        return self.cell_index[key]


def build_count_tables(
    columns: list[GroupColumn],
    outcome: npt.NDArray[np.integer[Any]],
    n_outcomes: int,
    sample_weight: FloatArray | None,
    *,
    multiplicity: FloatArray | None = None,
    squared_weight: FloatArray | None = None,
) -> CountTables:
    """Count outcomes per fine cell in one pass, and derive the groupings.

    The cell index ``(code_1, ..., code_k, outcome)`` is built in the smallest
    unsigned integer type that holds it, so the one ``np.bincount`` reads little
    memory; with too many combinations for a dense index the combined key is
    hashed instead.

    Parameters
    ----------
    columns : list of GroupColumn
        The sensitive features as codes (see ``_validation.to_group_columns``);
        codes of values that never occur are dropped here.
    outcome : ndarray of int, shape (n_rows,)
        Each row's outcome in ``range(n_outcomes)``, e.g. ``2 * y_true + y_pred``
        for confusion tables; assumed valid.
    n_outcomes : int
        The number of outcomes (4 for a confusion table, 1 to count rows only).
    sample_weight : ndarray of float64, shape (n_rows,), or None
        Row weights, assumed valid; with ``multiplicity``, the sum of the
        weights of the rows each row stands for.
    multiplicity : ndarray of float64, shape (n_rows,), or None
        For a table that is already aggregated (one row per cell and outcome,
        from partitions of a larger table): the number of rows each row stands
        for. ``None`` means one each.
    squared_weight : ndarray of float64, shape (n_rows,), or None
        With ``multiplicity`` and ``sample_weight``: the sum of the squared
        weights of the rows each row stands for.

    Returns
    -------
    CountTables
        The counts and groupings; unobserved values and intersections are dropped.
    """
    sizes = [len(c.labels) for c in columns]
    n_dense = int(np.prod(sizes, dtype=np.float64))
    hashed: IntArray | None = None
    if n_dense * n_outcomes <= _DENSE_CELLS:
        dt = np.min_scalar_type(n_dense * n_outcomes - 1)
        stride = n_dense * n_outcomes // sizes[0]
        index = columns[0].codes.astype(dt) * dt.type(stride)
        for col, size in zip(columns[1:], sizes[1:], strict=True):
            stride //= size
            index += col.codes.astype(dt, copy=False) * dt.type(stride)
        if n_outcomes > 1:
            index += outcome.astype(dt, copy=False)
        n_keys = n_dense
        cell_codes = np.indices(sizes).reshape(len(sizes), -1).T.astype(np.intp)
    else:
        key = columns[0].codes.astype(np.int64)
        for col, size in zip(columns[1:], sizes[1:], strict=True):
            key = key * size + col.codes
        codes, uniques = pd.factorize(key)
        hashed = codes.astype(np.intp, copy=False)
        n_keys = int(uniques.size)
        cell_codes = np.empty((n_keys, len(sizes)), dtype=np.intp)
        rest = np.asarray(uniques, dtype=np.int64)
        for j in range(len(sizes) - 1, -1, -1):
            rest, cell_codes[:, j] = np.divmod(rest, sizes[j])
        index = hashed * n_outcomes + outcome if n_outcomes > 1 else hashed
    size = n_keys * n_outcomes
    shape = (n_keys, n_outcomes)
    rows = np.bincount(index, multiplicity, size).reshape(shape).astype(np.float64)
    if sample_weight is None:
        weighted, squared = rows, None
    else:
        sq = sample_weight**2 if multiplicity is None else squared_weight
        weighted = np.bincount(index, sample_weight, size).astype(np.float64).reshape(shape)
        squared = np.bincount(index, sq, size).astype(np.float64).reshape(shape)
    present = rows.sum(axis=1) > 0
    cell_index = np.where(present, np.cumsum(present) - 1, -1).astype(np.intp)
    if not present.all():
        rows, weighted = rows[present], weighted[present]
        squared = squared[present] if squared is not None else None
        cell_codes = cell_codes[present]
    # Values of a feature that never occur are not groups.
    kept_columns = []
    for j, col in enumerate(columns):
        used = np.zeros(len(col.labels), dtype=bool)
        used[cell_codes[:, j]] = True
        if not used.all():
            cell_codes[:, j] = (np.cumsum(used) - 1)[cell_codes[:, j]]
        kept_columns.append(tuple(lab for lab, u in zip(col.labels, used, strict=True) if u))
    groupings = [
        Grouping(
            col.name, labels, cell_codes[:, j].copy(), (col.name,), tuple((lab,) for lab in labels)
        )
        for j, (col, labels) in enumerate(zip(columns, kept_columns, strict=True))
    ]
    if len(columns) > 1:
        values = tuple(
            tuple(labels[c] for labels, c in zip(kept_columns, codes, strict=True))
            for codes in cell_codes
        )
        groupings.append(
            Grouping(
                INTERSECTION_SEP.join(col.name for col in columns),
                tuple(VALUE_SEP.join(v) for v in values),
                np.arange(len(values), dtype=np.intp),
                tuple(col.name for col in columns),
                values,
            )
        )
    return CountTables(
        features=tuple(c.name for c in columns),
        groupings=tuple(groupings),
        weighted=weighted,
        squared=squared,
        rows=rows,
        columns=tuple(columns),
        cell_index=cell_index,
        hashed_keys=hashed,
    )
