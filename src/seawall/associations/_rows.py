"""The rows a selection counts: every question it asks of them returns count tables.

The search and the confirmation never look at a row directly: they ask for the
count tables of contexts (optionally within a *region*, the rows inside some
contexts and outside others), of regions, or of the membership patterns of a
few contexts, and for the scan's tables level by level. Each answer is a sum
over rows, so the answer for a set of partitions is the sum of the partitions'
answers: :class:`RowView` answers for rows in memory, and a distributed
implementation adds up the answers of its partitions' views.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import numpy.typing as npt

from seawall.associations._scan import (
    ContextTables,
    Tables,
    count_given,
    count_level,
    scan_contexts,
)

__all__ = [
    "Context",
    "Region",
    "Rows",
    "RowView",
    "Tables",
    "context_of",
    "pattern_overlap",
]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.intp]
BoolArray = npt.NDArray[np.bool_]

#: A context as its ``(attribute, value)`` conditions (empty: everyone).
Context = tuple[tuple[int, int], ...]


def context_of(attributes: IntArray, values: IntArray) -> Context:
    """A context's conditions from its padded attribute and value codes (-1 pads).

    Examples
    --------
    >>> context_of(np.array([0, 2, -1]), np.array([1, 0, -1]))
    ((0, 1), (2, 0))
    """
    return tuple(
        (int(a), int(v))
        for a, v in zip(attributes.tolist(), values.tolist(), strict=True)
        if a >= 0
    )


@dataclass(frozen=True, slots=True)
class Region:
    """The rows inside every context of ``within`` and outside every one of ``without``."""

    within: tuple[Context, ...] = ()
    without: tuple[Context, ...] = ()


class Rows(Protocol):
    """What a selection asks of a set of rows (in memory or spread over partitions)."""

    @property
    def size(self) -> int:
        """The number of rows."""
        ...

    def scan(self, excluded: Sequence[int], max_depth: int, min_support: float) -> ContextTables:
        """The tables of every context with enough rows (see :func:`scan_contexts`)."""
        ...

    def tables(
        self, attributes: IntArray, values: IntArray, region: Region | None = None
    ) -> Tables:
        """Tables of the contexts ``(attributes, values)`` over the rows in ``region``."""
        ...

    def region_tables(self, regions: Sequence[Region]) -> Tables:
        """The table of each region's rows."""
        ...

    def pattern_tables(
        self, contexts: Sequence[Context]
    ) -> tuple[npt.NDArray[np.int64], FloatArray, FloatArray | None]:
        """Tables per membership pattern of ``contexts`` (bit ``j``: inside context ``j``)."""
        ...


@dataclass(frozen=True, slots=True)
class RowView:
    """Rows in memory with their context codes, cells and outcome gathered once.

    Attributes
    ----------
    index : ndarray of intp, shape (n,)
        The rows' positions in the investigated data.
    codes : list of ndarray of intp, each of shape (n,)
        Each context attribute's code per row.
    cell : ndarray of intp, shape (n,)
        Each row's cell (stratum, group and class).
    y : ndarray of float64, shape (n,)
        The outcome.
    cardinalities : tuple of int
        The number of codes of each context attribute.
    n_cells : int
        The number of cells.
    continuous : bool
        Whether tables carry sums and sums of squares of ``y``.
    """

    index: IntArray
    codes: list[IntArray]
    cell: IntArray
    y: FloatArray
    cardinalities: tuple[int, ...]
    n_cells: int
    continuous: bool

    @property
    def size(self) -> int:
        """The number of rows."""
        return int(self.index.shape[0])

    @property
    def values(self) -> FloatArray | None:
        """Row values whose sums the tables need (continuous outcomes only)."""
        return self.y if self.continuous else None

    def subset(self, mask: BoolArray) -> RowView:
        """The rows where ``mask`` holds."""
        return RowView(
            self.index[mask],
            [c[mask] for c in self.codes],
            self.cell[mask],
            self.y[mask],
            self.cardinalities,
            self.n_cells,
            self.continuous,
        )

    def mask(self, context: Context) -> BoolArray:
        """Which rows satisfy every condition of ``context``."""
        mask = np.ones(self.size, dtype=bool)
        for a, v in context:
            mask &= self.codes[a] == v
        return mask

    def region_mask(self, region: Region) -> BoolArray:
        """Which rows lie in ``region``."""
        mask = np.ones(self.size, dtype=bool)
        for ctx in region.within:
            mask &= self.mask(ctx)
        if region.without:
            covered = np.zeros(self.size, dtype=bool)
            for ctx in region.without:
                covered |= self.mask(ctx)
            mask &= ~covered
        return mask

    def scan(self, excluded: Sequence[int], max_depth: int, min_support: float) -> ContextTables:
        """The tables of every context with enough rows (see :func:`scan_contexts`)."""
        return scan_contexts(
            self.codes,
            self.cardinalities,
            excluded,
            self.cell,
            self.n_cells,
            max_depth=max_depth,
            min_support=min_support,
            values=self.values,
        )

    def count_level(self, requests: Sequence[tuple[tuple[int, ...], IntArray]]) -> list[Tables]:
        """The tables of the requested conjunctions, one scan level (see :func:`count_level`)."""
        return count_level(
            self.codes, self.cardinalities, self.cell, self.n_cells, requests, self.values
        )

    def tables(
        self, attributes: IntArray, values: IntArray, region: Region | None = None
    ) -> Tables:
        """Tables of the contexts (m, max_depth) over the rows in ``region`` (all by default).

        Returns counts (m, n_cells) and, for continuous outcomes, sums (m, n_cells, 2).
        """
        rows = self if region is None else self.subset(self.region_mask(region))
        return count_given(
            rows.codes,
            self.cardinalities,
            rows.cell,
            self.n_cells,
            attributes,
            values,
            row_values=rows.values,
        )

    def region_tables(self, regions: Sequence[Region]) -> Tables:
        """The table of each region's rows: counts (k, n_cells) and sums (k, n_cells, 2)."""
        masks = np.stack([self.region_mask(r) for r in regions])
        k = masks.shape[0]
        which, pos = np.nonzero(masks)
        index = which * self.n_cells + self.cell[pos]
        size = k * self.n_cells
        counts = np.bincount(index, minlength=size).astype(np.float64).reshape(k, self.n_cells)
        if not self.continuous:
            return counts, None
        v = self.y[pos]
        s1 = np.bincount(index, v, size).reshape(k, self.n_cells)
        s2 = np.bincount(index, v * v, size).reshape(k, self.n_cells)
        return counts, np.stack([s1, s2], axis=-1)

    def pattern_tables(
        self, contexts: Sequence[Context]
    ) -> tuple[npt.NDArray[np.int64], FloatArray, FloatArray | None]:
        """Tables per membership pattern of up to 62 contexts, patterns ascending.

        Returns the patterns (bit ``j`` set: inside context ``j``), counts
        (n_patterns, n_cells) and, for continuous outcomes, sums (n_patterns, n_cells, 2).
        """
        k = len(contexts)
        masks = np.stack([self.mask(c) for c in contexts])
        bits = (masks.T.astype(np.int64) << np.arange(k, dtype=np.int64)).sum(axis=1)
        patterns, inverse = np.unique(bits, return_inverse=True)
        n_pat = patterns.size
        index = inverse * self.n_cells + self.cell
        size = n_pat * self.n_cells
        counts = np.bincount(index, minlength=size).astype(np.float64).reshape(n_pat, self.n_cells)
        sums: FloatArray | None = None
        if self.continuous:
            v = self.y
            sums = (
                np.stack([np.bincount(index, v, size), np.bincount(index, v * v, size)], axis=-1)
                .reshape(n_pat, self.n_cells, 2)
                .astype(np.float64, copy=False)
            )
        return patterns.astype(np.int64), counts, sums


def pattern_overlap(patterns: npt.NDArray[np.int64], counts: FloatArray, i: int, j: int) -> int:
    """Rows inside both context ``i`` and context ``j``, from pattern tables."""
    both = ((patterns >> i) & 1).astype(bool) & ((patterns >> j) & 1).astype(bool)
    return int(counts[both].sum())
