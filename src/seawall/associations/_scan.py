"""The conjunction scan: count tables of every context up to a depth, pruned exactly.

Each row carries a *cell* in ``range(n_cells)`` (its protected group, outcome
class, stratum, ... combined by the caller). For a set of ``d`` attributes one
``np.bincount`` over ``(combined value, cell)`` gives the tables of all the
conjunctions of those attributes at once; no rows-by-candidates matrix is ever
built. Support is anti-monotone (a context has no more rows than any context it
refines), so a context is counted only if all of its ``d - 1``-attribute
sub-contexts have ``min_support`` rows, and an attribute set none of whose
conjunctions passes that bound is never counted at all (the Apriori bound).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import combinations

import numpy as np
import numpy.typing as npt

__all__ = [
    "ContextTables",
    "Tables",
    "count_given",
    "count_level",
    "scan_contexts",
    "scan_levels",
]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.intp]
BoolArray = npt.NDArray[np.bool_]
#: Counts (k, n_cells) and, with row values, sums and sums of squares (k, n_cells, 2).
Tables = tuple[FloatArray, FloatArray | None]


@dataclass(frozen=True, slots=True)
class ContextTables:
    """Count tables of the scanned contexts (row 0 is the whole population).

    Attributes
    ----------
    attributes : ndarray of intp, shape (n_contexts, max_depth)
        The attributes of each context's conditions, ascending; -1 pads.
    values : ndarray of intp, shape (n_contexts, max_depth)
        The value code of each condition; -1 pads.
    counts : ndarray of float64, shape (n_contexts, n_cells)
        Rows per cell.
    sums : ndarray of float64, shape (n_contexts, n_cells, 2) or None
        Per cell, the sum and the sum of squares of the row values, when values
        were given.
    n_evaluated : int
        Conjunctions whose support was counted (passed the Apriori bound).
    n_pruned : int
        Conjunctions the bound ruled out without counting them.
    """

    attributes: IntArray
    values: IntArray
    counts: FloatArray
    sums: FloatArray | None
    n_evaluated: int
    n_pruned: int

    @property
    def depth(self) -> IntArray:
        """The number of conditions of each context."""
        return (self.attributes >= 0).sum(axis=1)  # type: ignore[no-any-return]

    def __len__(self) -> int:
        return int(self.counts.shape[0])


def _tables(
    code: IntArray, n_values: int, row_cell: IntArray, n_cells: int, values: FloatArray | None
) -> tuple[FloatArray, FloatArray | None]:
    index = code * n_cells + row_cell
    size = n_values * n_cells
    counts = np.bincount(index, minlength=size).astype(np.float64).reshape(n_values, n_cells)
    if values is None:
        return counts, None
    s1 = np.bincount(index, values, size).reshape(n_values, n_cells)
    s2 = np.bincount(index, values * values, size).reshape(n_values, n_cells)
    return counts, np.stack([s1, s2], axis=-1)


def scan_contexts(
    codes: Sequence[IntArray],
    cardinalities: Sequence[int],
    excluded: Sequence[int],
    row_cell: IntArray,
    n_cells: int,
    *,
    max_depth: int,
    min_support: float,
    values: FloatArray | None = None,
) -> ContextTables:
    """Count every context of up to ``max_depth`` conditions with enough rows.

    Assumes valid input: codes in ``range(cardinality)``, cells in ``range(n_cells)``.

    Parameters
    ----------
    codes : sequence of ndarray of intp, each of shape (n,)
        One array per context attribute.
    cardinalities : sequence of int
        The number of codes of each attribute.
    excluded : sequence of int
        Per attribute, a code that never forms a condition (the "(other)"
        bucket), or -1.
    row_cell : ndarray of intp, shape (n,)
        Each row's cell.
    n_cells : int
        The number of cells.
    max_depth : int
        The most conditions in a context.
    min_support : float
        The fewest rows a counted context may have.
    values : ndarray of float64, shape (n,), optional
        Row values whose per-cell sums and sums of squares are wanted.

    Returns
    -------
    ContextTables
        The whole population first, then the contexts by depth.

    Examples
    --------
    >>> a = np.array([0, 0, 1, 1, 1, 1]); b = np.array([0, 1, 0, 1, 1, 1])
    >>> t = scan_contexts([a, b], [2, 2], [-1, -1], np.zeros(6, dtype=np.intp), 1,
    ...                   max_depth=2, min_support=2)
    >>> t.counts[:, 0].tolist()  # all; a=0, a=1, b=0, b=1; a=1 & b=1
    [6.0, 2.0, 4.0, 2.0, 4.0, 3.0]
    """

    def count(requests: Sequence[tuple[tuple[int, ...], IntArray]]) -> list[Tables]:
        return count_level(codes, cardinalities, row_cell, n_cells, requests, values)

    return scan_levels(
        cardinalities,
        excluded,
        max_depth=max_depth,
        min_support=min_support,
        count=count,
        with_sums=values is not None,
    )


def count_level(
    codes: Sequence[IntArray],
    cardinalities: Sequence[int],
    row_cell: IntArray,
    n_cells: int,
    requests: Sequence[tuple[tuple[int, ...], IntArray]],
    values: FloatArray | None = None,
) -> list[Tables]:
    """The tables of the requested conjunctions of one scan level.

    Assumes valid input. A request is an attribute set (ascending; empty for
    the whole population) and the flat indices, in the C order of the set's
    value grid, of the conjunctions wanted; one ``np.bincount`` serves each set.

    Parameters
    ----------
    codes : sequence of ndarray of intp, each of shape (n,)
        One array per context attribute.
    cardinalities : sequence of int
        The number of codes of each attribute.
    row_cell : ndarray of intp, shape (n,)
        Each row's cell.
    n_cells : int
        The number of cells.
    requests : sequence of (tuple of int, ndarray of intp)
        The attribute sets and the conjunctions wanted of each.
    values : ndarray of float64, shape (n,), optional
        Row values whose per-cell sums and sums of squares are wanted.

    Returns
    -------
    list of (ndarray, ndarray or None)
        Per request, counts (k, n_cells) and sums (k, n_cells, 2) or None.

    Examples
    --------
    >>> a = np.array([0, 0, 1, 1]); cell = np.array([0, 1, 1, 1])
    >>> [c.tolist() for c, _ in count_level([a], [2], cell, 2, [((), np.array([0])),
    ...                                                          ((0,), np.array([1]))])]
    [[[1.0, 3.0]], [[0.0, 2.0]]]
    """
    out: list[Tables] = []
    for attrs, flat in requests:
        code = np.zeros(row_cell.shape[0], dtype=np.intp)
        for a in attrs:
            code = code * int(cardinalities[a]) + codes[a]
        n_values = int(np.prod([int(cardinalities[a]) for a in attrs])) if attrs else 1
        counts, sums = _tables(code, n_values, row_cell, n_cells, values)
        out.append((counts[flat], None if sums is None else sums[flat]))
    return out


def scan_levels(
    cardinalities: Sequence[int],
    excluded: Sequence[int],
    *,
    max_depth: int,
    min_support: float,
    count: Callable[[Sequence[tuple[tuple[int, ...], IntArray]]], list[Tables]],
    with_sums: bool,
) -> ContextTables:
    """The Apriori scan, level by level, with the counting left to ``count``.

    Each level asks ``count`` once for the tables of every conjunction that
    passed the bound (see :func:`count_level` for the requests), so rows held
    elsewhere (partitions on a cluster) cost one pass per level; the tables
    must be exact for the pruning to be the same.

    Parameters
    ----------
    cardinalities : sequence of int
        The number of codes of each attribute.
    excluded : sequence of int
        Per attribute, a code that never forms a condition, or -1.
    max_depth : int
        The most conditions in a context.
    min_support : float
        The fewest rows a counted context may have.
    count : callable
        Answers a level's requests with their tables, as :func:`count_level`.
    with_sums : bool
        Whether the tables carry sums (continuous outcomes).

    Returns
    -------
    ContextTables
        As :func:`scan_contexts` returns them.
    """
    k = len(cardinalities)
    ((root_counts, root_sums),) = count([((), np.zeros(1, dtype=np.intp))])
    attrs_out: list[IntArray] = [np.full((1, max_depth), -1, dtype=np.intp)]
    values_out: list[IntArray] = [np.full((1, max_depth), -1, dtype=np.intp)]
    counts_out: list[FloatArray] = [root_counts]
    sums_out: list[FloatArray] = [root_sums] if with_sums and root_sums is not None else []
    valid: dict[tuple[int, ...], BoolArray] = {}
    n_evaluated = n_pruned = 0

    def emit(
        attrs: tuple[int, ...],
        shape: tuple[int, ...],
        flat: IntArray,
        counts: FloatArray,
        sums: FloatArray | None,
    ) -> None:
        if flat.size == 0:
            return
        cells = np.unravel_index(flat, shape)
        a = np.full((flat.size, max_depth), -1, dtype=np.intp)
        v = np.full((flat.size, max_depth), -1, dtype=np.intp)
        for j, attr in enumerate(attrs):
            a[:, j] = attr
            v[:, j] = cells[j]
        attrs_out.append(a)
        values_out.append(v)
        counts_out.append(counts)
        if sums is not None:
            sums_out.append(sums)

    for depth in range(1, max_depth + 1):
        requests: list[tuple[tuple[int, ...], IntArray]] = []
        shapes: list[tuple[int, ...]] = []
        for attrs in combinations(range(k), depth):
            shape = tuple(int(cardinalities[a]) for a in attrs)
            allowed = np.ones(shape, dtype=bool)
            for j, a in enumerate(attrs):
                if excluded[a] >= 0:
                    idx: list[slice | int] = [slice(None)] * depth
                    idx[j] = int(excluded[a])
                    allowed[tuple(idx)] = False
            if depth > 1:
                # Apriori: every sub-context with one condition fewer must be valid.
                for j in range(depth):
                    sub = attrs[:j] + attrs[j + 1 :]
                    parent = valid.get(sub)
                    if parent is None:
                        allowed[...] = False
                        break
                    allowed &= np.expand_dims(parent, axis=j)
            n_candidates = int(allowed.sum())
            n_pruned += int(np.prod(shape)) - n_candidates
            if n_candidates == 0:
                continue
            n_evaluated += n_candidates
            requests.append((attrs, np.flatnonzero(allowed.ravel())))
            shapes.append(shape)
        if not requests:
            continue
        for (attrs, flat), shape, (counts, sums) in zip(
            requests, shapes, count(requests), strict=True
        ):
            passed = counts.sum(axis=1) >= min_support
            keep = np.zeros(int(np.prod(shape)), dtype=bool)
            keep[flat[passed]] = True
            valid[attrs] = keep.reshape(shape)
            emit(attrs, shape, flat[passed], counts[passed], None if sums is None else sums[passed])
    return ContextTables(
        np.concatenate(attrs_out),
        np.concatenate(values_out),
        np.concatenate(counts_out),
        np.concatenate(sums_out) if sums_out else None,
        n_evaluated,
        n_pruned,
    )


def count_given(
    codes: Sequence[IntArray],
    cardinalities: Sequence[int],
    row_cell: IntArray,
    n_cells: int,
    attributes: IntArray,
    values: IntArray,
    *,
    row_values: FloatArray | None = None,
) -> tuple[FloatArray, FloatArray | None]:
    """Count tables of the given contexts over the given rows.

    One ``np.bincount`` per distinct attribute set serves all the contexts on
    it, as in :func:`scan_contexts`. Assumes valid input.

    Parameters
    ----------
    codes : sequence of ndarray of intp, each of shape (n,)
        One array per context attribute, over the rows to count.
    cardinalities : sequence of int
        The number of codes of each attribute.
    row_cell : ndarray of intp, shape (n,)
        Each row's cell.
    n_cells : int
        The number of cells.
    attributes, values : ndarray of intp, shape (m, max_depth)
        The contexts, as in :class:`ContextTables` (-1 pads).
    row_values : ndarray of float64, shape (n,), optional
        Row values whose per-cell sums and sums of squares are wanted.

    Returns
    -------
    counts : ndarray of float64, shape (m, n_cells)
        Rows per context and cell.
    sums : ndarray of float64, shape (m, n_cells, 2) or None
        Sums and sums of squares, with ``row_values``.

    Examples
    --------
    >>> a = np.array([0, 0, 1, 1]); b = np.array([0, 1, 0, 1]); cell = np.array([0, 1, 1, 1])
    >>> counts, _ = count_given([a, b], [2, 2], cell, 2, np.array([[1, -1], [0, 1]]),
    ...                         np.array([[1, -1], [1, 1]]))
    >>> counts.tolist()  # b = 1; a = 1 and b = 1
    [[0.0, 2.0], [0.0, 1.0]]
    """
    m = attributes.shape[0]
    counts = np.zeros((m, n_cells))
    sums = None if row_values is None else np.zeros((m, n_cells, 2))
    if m == 0 or row_cell.shape[0] == 0:
        return counts, sums
    keys = [tuple(int(a) for a in row if a >= 0) for row in attributes]
    by_set: dict[tuple[int, ...], list[int]] = {}
    for i, key in enumerate(keys):
        by_set.setdefault(key, []).append(i)
    for attrs, members in by_set.items():
        idx = np.asarray(members, dtype=np.intp)
        code = np.zeros(row_cell.shape[0], dtype=np.intp)
        flat = np.zeros(idx.size, dtype=np.intp)
        for j, a in enumerate(attrs):
            card = int(cardinalities[a])
            code = code * card + codes[a]
            flat = flat * card + values[idx, j]
        n_values = int(np.prod([cardinalities[a] for a in attrs])) if attrs else 1
        table, table_sums = _tables(code, n_values, row_cell, n_cells, row_values)
        counts[idx] = table[flat]
        if sums is not None and table_sums is not None:
            sums[idx] = table_sums[flat]
    return counts, sums
