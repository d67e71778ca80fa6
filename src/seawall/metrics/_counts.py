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

from seawall._validation import GroupColumn

__all__ = ["CountTables", "Grouping", "build_count_tables", "INTERSECTION_SEP"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.intp]

#: Joins feature names of an intersection ("sex×race") ...
INTERSECTION_SEP = "×"
#: ... and the values of an intersectional group ("Female & Black").
VALUE_SEP = " & "
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
        one_hot = np.zeros((self.n_groups, self.members.size))
        one_hot[self.members, np.arange(self.members.size)] = 1.0
        out: FloatArray = np.einsum("gf,...fk->...gk", one_hot, fine)
        return out


@dataclass(frozen=True, slots=True)
class CountTables:
    """Confusion counts per fine cell, and the groupings built from them.

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
    row_cell : IntArray, shape (n_rows,)
        Each row's fine cell.
    """

    features: tuple[str, ...]
    groupings: tuple[Grouping, ...]
    weighted: FloatArray
    squared: FloatArray | None
    rows: FloatArray
    row_cell: IntArray

    @property
    def n_fine(self) -> int:
        """The number of observed fine cells."""
        return int(self.rows.shape[0])


def _fine_cells(columns: list[GroupColumn]) -> tuple[IntArray, IntArray, int]:
    """Each row's fine cell, the per-feature codes of each cell, and the cell count.

    Returns ``(key, cell_codes, n_keys)`` where ``key`` is dense in ``range(n_keys)``
    (possibly with unobserved keys) and ``cell_codes[key, j]`` decodes feature ``j``.
    """
    sizes = [len(c.labels) for c in columns]
    total = int(np.prod(sizes, dtype=np.float64))
    if len(columns) == 1:
        key = columns[0].codes
        cell_codes = np.arange(sizes[0], dtype=np.intp)[:, None]
        return key, cell_codes, sizes[0]
    key = columns[0].codes.astype(np.int64)
    for col, size in zip(columns[1:], sizes[1:], strict=True):
        key = key * size + col.codes
    if total <= _DENSE_CELLS:
        grid = np.indices(sizes).reshape(len(sizes), -1).T.astype(np.intp)
        return key.astype(np.intp, copy=False), grid, total
    codes, uniques = pd.factorize(key)
    decoded = np.empty((uniques.size, len(sizes)), dtype=np.intp)
    rest = np.asarray(uniques, dtype=np.int64)
    for j in range(len(sizes) - 1, -1, -1):
        rest, decoded[:, j] = np.divmod(rest, sizes[j])
    return codes.astype(np.intp, copy=False), decoded, int(uniques.size)


def build_count_tables(
    columns: list[GroupColumn],
    outcome: npt.NDArray[np.integer[Any]],
    n_outcomes: int,
    sample_weight: FloatArray | None,
) -> CountTables:
    """Count outcomes per fine cell in one pass, and derive the groupings.

    Parameters
    ----------
    columns : list of GroupColumn
        The sensitive features as dense codes (see ``_validation.to_group_columns``).
    outcome : ndarray of int, shape (n_rows,)
        Each row's outcome in ``range(n_outcomes)``, e.g. ``2 * y_true + y_pred``
        for confusion tables; assumed valid.
    n_outcomes : int
        The number of outcomes (4 for a confusion table, 1 to count rows only).
    sample_weight : ndarray of float64, shape (n_rows,), or None
        Row weights, assumed valid.

    Returns
    -------
    CountTables
        The counts and groupings; unobserved intersections are dropped.
    """
    key, cell_codes, n_keys = _fine_cells(columns)
    index = key * n_outcomes + outcome if n_outcomes > 1 else key
    size = n_keys * n_outcomes
    rows = np.bincount(index, minlength=size).reshape(n_keys, n_outcomes).astype(np.float64)
    if sample_weight is None:
        weighted, squared = rows, None
    else:
        shape = (n_keys, n_outcomes)
        weighted = np.bincount(index, sample_weight, size).astype(np.float64).reshape(shape)
        squared = np.bincount(index, sample_weight**2, size).astype(np.float64).reshape(shape)
    present = rows.sum(axis=1) > 0
    if present.all():
        row_cell = key
    else:
        remap = np.cumsum(present) - 1
        row_cell = remap[key]
        rows, weighted = rows[present], weighted[present]
        squared = squared[present] if squared is not None else None
        cell_codes = cell_codes[present]
    groupings = [
        Grouping(
            col.name,
            col.labels,
            cell_codes[:, j].copy(),
            (col.name,),
            tuple((lab,) for lab in col.labels),
        )
        for j, col in enumerate(columns)
    ]
    if len(columns) > 1:
        values = tuple(
            tuple(col.labels[c] for col, c in zip(columns, codes, strict=True))
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
        row_cell=row_cell.astype(np.intp, copy=False),
    )
