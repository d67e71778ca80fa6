"""Rows spread over a cluster: every question of the selection, answered by all partitions.

Each worker keeps its partitions' coded rows in memory (a :class:`RowView` per
analysis and split, as Dask futures), so the selection's few dozen questions
(one per scan level, one per kept candidate, ...) cost one light task per
partition each, never a re-read. Every answer is a table of counts (and of
sums for a continuous outcome) whose sum over the partitions is the answer for
all the rows: the merge adds them, or for membership patterns adds them by
pattern. Counts are exact; sums differ from one pass over all the rows only by
the order of floating-point additions.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from seawall.associations._rows import Context, Region, RowView, Tables
from seawall.associations._scan import ContextTables, scan_levels
from seawall.distributed._reduce import map_reduce

if TYPE_CHECKING:
    from distributed import Client, Future

__all__ = ["ClusterRows", "PartViews"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.intp]
Patterns = tuple[npt.NDArray[np.int64], FloatArray, FloatArray | None]
#: One partition's rows: per analysis, its (search, confirm) views.
PartViews = tuple[tuple[RowView, RowView], ...]


def _ask(views: PartViews, which: tuple[int, int], method: str, *args: Any) -> Any:
    """Call ``method`` of one partition's view (run on the worker that holds it)."""
    return getattr(views[which[0]][which[1]], method)(*args)


def _add(*parts: Tables) -> Tables:
    counts: FloatArray = np.sum([c for c, _ in parts], axis=0)
    if parts[0][1] is None:
        return counts, None
    sums: FloatArray = np.sum([s for _, s in parts if s is not None], axis=0)
    return counts, sums


def _add_lists(*parts: list[Tables]) -> list[Tables]:
    return [_add(*tables) for tables in zip(*parts, strict=True)]


def _add_patterns(n_cells: int, *parts: Patterns) -> Patterns:
    patterns, inverse = np.unique(np.concatenate([p for p, _, _ in parts]), return_inverse=True)
    counts = np.zeros((patterns.size, n_cells))
    np.add.at(counts, inverse, np.concatenate([c for _, c, _ in parts]))
    sums = None
    if parts[0][2] is not None:
        sums = np.zeros((patterns.size, n_cells, 2))
        np.add.at(sums, inverse, np.concatenate([s for _, _, s in parts if s is not None]))
    return patterns.astype(np.int64), counts, sums


@dataclass(frozen=True, slots=True)
class ClusterRows:
    """One split of one analysis, over every partition held by the cluster.

    Implements the selection's :class:`~seawall.associations._rows.Rows`.

    Attributes
    ----------
    client : distributed.Client
        The cluster.
    parts : tuple of Future
        Each partition's :data:`PartViews`, held by a worker.
    which : tuple of (int, int)
        The analysis and the split (0 search, 1 confirm).
    n_rows : int
        The rows of the split over all partitions.
    cardinalities : tuple of int
        The context attributes' numbers of codes.
    n_cells : int
        The number of cells.
    continuous : bool
        Whether tables carry sums.
    """

    client: Client
    parts: tuple[Future[PartViews], ...]
    which: tuple[int, int]
    n_rows: int
    cardinalities: tuple[int, ...]
    n_cells: int
    continuous: bool

    @property
    def size(self) -> int:
        """The number of rows."""
        return self.n_rows

    def _reduce(self, method: str, merge: Any, *args: Any) -> Any:
        return map_reduce(
            self.client,
            _ask,
            self.parts,
            merge,
            self.which,
            method,
            *args,
            key=f"seawall-scan-{method.replace('_', '-')}",
        )

    def scan(self, excluded: Sequence[int], max_depth: int, min_support: float) -> ContextTables:
        """The Apriori scan, one pass over the partitions per level."""

        def count(requests: Sequence[tuple[tuple[int, ...], IntArray]]) -> list[Tables]:
            tables: list[Tables] = self._reduce("count_level", _add_lists, list(requests))
            return tables

        return scan_levels(
            self.cardinalities,
            excluded,
            max_depth=max_depth,
            min_support=min_support,
            count=count,
            with_sums=self.continuous,
        )

    def tables(
        self, attributes: IntArray, values: IntArray, region: Region | None = None
    ) -> Tables:
        """Tables of the contexts over the rows in ``region``, summed over the partitions."""
        if attributes.shape[0] == 0:
            counts = np.zeros((0, self.n_cells))
            return counts, (np.zeros((0, self.n_cells, 2)) if self.continuous else None)
        tables: Tables = self._reduce("tables", _add, attributes, values, region)
        return tables

    def region_tables(self, regions: Sequence[Region]) -> Tables:
        """The table of each region's rows, summed over the partitions."""
        tables: Tables = self._reduce("region_tables", _add, list(regions))
        return tables

    def pattern_tables(self, contexts: Sequence[Context]) -> Patterns:
        """Tables per membership pattern, added up by pattern over the partitions."""
        patterns: Patterns = self._reduce(
            "pattern_tables", partial(_add_patterns, self.n_cells), list(contexts)
        )
        return patterns
