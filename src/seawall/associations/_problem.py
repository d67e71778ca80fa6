"""What an investigation compares: the outcome, the protected groups, the strata.

A :class:`Problem` holds the per-row arrays of one investigation, already
validated and encoded, gathers them into the :class:`~._rows.RowView` of a
split, and turns count tables (every answer the rows give, see :mod:`._rows`)
into the two sides of each hypothesis, stratum by stratum:

* ``weak_slice``: a context against the rest of the data (error or loss higher
  inside, one-sided);
* ``group``: one protected group against the rest of the context (the output
  or the error differs between groups, two-sided).

On a cluster the client's problem holds no rows (zero-length arrays): the rows
live in the workers' views, and the problem supplies only the groups, strata,
classes and context labels.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt

from seawall.associations._effects import Effect, mean_effect, proportion_effect
from seawall.associations._encoding import ContextColumn, describe_context
from seawall.associations._information import information_effect
from seawall.associations._rows import RowView
from seawall.associations._stratified import stratified_mean_effect, stratified_proportion_effect

__all__ = ["Problem", "Sides"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.intp]

Comparison = Literal["weak_slice", "group"]
Outcome = Literal["binary", "continuous", "categorical"]


@dataclass(frozen=True, slots=True)
class Sides:
    """The two sides of ``m`` hypotheses, per stratum (arrays of shape (m, n_strata)).

    For a binary outcome ``a`` holds the positives and ``n`` the rows; for a
    continuous one ``a`` holds the sum and ``q`` the sum of squares; for a
    categorical one ``k1`` and ``k2`` hold the class counts (m, n_strata, K).
    """

    n1: FloatArray
    a1: FloatArray
    q1: FloatArray
    n2: FloatArray
    a2: FloatArray
    q2: FloatArray
    k1: FloatArray | None = None
    k2: FloatArray | None = None

    def effect(
        self,
        outcome: Outcome,
        alternative: Literal["two-sided", "greater"],
        confidence_level: float | FloatArray,
        *,
        stratified: bool,
    ) -> Effect:
        """The effect of every hypothesis, crude (strata pooled) or stratified."""
        if outcome == "categorical":
            assert self.k1 is not None and self.k2 is not None
            k1, k2 = self.k1, self.k2
            if not stratified:
                k1, k2 = k1.sum(axis=1, keepdims=True), k2.sum(axis=1, keepdims=True)
            return information_effect(k1, k2, confidence_level=confidence_level)
        if stratified:
            if outcome == "binary":
                return stratified_proportion_effect(
                    self.a1,
                    self.n1,
                    self.a2,
                    self.n2,
                    confidence_level=confidence_level,
                    alternative=alternative,
                )
            return stratified_mean_effect(
                self.n1,
                self.a1,
                self.q1,
                self.n2,
                self.a2,
                self.q2,
                confidence_level=confidence_level,
                alternative=alternative,
            )
        n1, a1, q1, n2, a2, q2 = (
            v.sum(axis=1) for v in (self.n1, self.a1, self.q1, self.n2, self.a2, self.q2)
        )
        if outcome == "binary":
            return proportion_effect(
                a1, n1, a2, n2, confidence_level=confidence_level, alternative=alternative
            )
        with np.errstate(divide="ignore", invalid="ignore"):
            m1, m2 = a1 / n1, a2 / n2
            v1 = np.maximum(q1 - a1 * m1, 0.0) / (n1 - 1.0)
            v2 = np.maximum(q2 - a2 * m2, 0.0) / (n2 - 1.0)
        return mean_effect(
            m1, v1, n1, m2, v2, n2, confidence_level=confidence_level, alternative=alternative
        )


@dataclass(frozen=True, slots=True)
class Problem:
    """The validated per-row arrays of one investigation.

    Attributes
    ----------
    comparison : {"weak_slice", "group"}
        What each hypothesis compares.
    outcome : {"binary", "continuous", "categorical"}
        The kind of ``y``.
    y : ndarray of float64, shape (n,)
        The outcome: 0/1 (an output or an error indicator), real (output or
        loss) or a class index (categorical).
    group : ndarray of intp, shape (n,)
        The protected group (all 0 when there is none).
    group_labels : tuple of str
        Each group's label.
    tested_groups : tuple of int
        The groups compared with the rest (two groups: only the smaller one,
        as both comparisons are the same test).
    stratum : ndarray of intp, shape (n,)
        The stratum of the explanatory attributes (all 0 without them).
    n_strata : int
        The number of strata.
    contexts : list of ContextColumn
        The context attributes.
    classes : tuple of str
        The output's classes (categorical outcomes only).
    """

    comparison: Comparison
    outcome: Outcome
    y: FloatArray
    group: IntArray
    group_labels: tuple[str, ...]
    tested_groups: tuple[int, ...]
    stratum: IntArray
    n_strata: int
    contexts: list[ContextColumn]
    classes: tuple[str, ...] = ()

    @property
    def alternative(self) -> Literal["two-sided", "greater"]:
        """One-sided for weak slices (only higher error matters), two-sided otherwise."""
        return "greater" if self.comparison == "weak_slice" else "two-sided"

    @property
    def n_groups(self) -> int:
        """The number of protected groups."""
        return len(self.group_labels)

    @property
    def n_classes(self) -> int:
        """Outcome classes per cell: 2 (binary), K (categorical), 1 with sums (continuous)."""
        if self.outcome == "categorical":
            return len(self.classes)
        return 2 if self.outcome == "binary" else 1

    @property
    def n_cells(self) -> int:
        """Cells of a context's table: strata x groups x classes."""
        return self.n_strata * self.n_groups * self.n_classes

    def row_cells(self, rows: IntArray | slice) -> IntArray:
        """Each row's cell, ``(stratum * n_groups + group) * n_classes + class``."""
        cell = self.stratum[rows] * self.n_groups + self.group[rows]
        if self.outcome == "continuous":
            return cell
        return cell * self.n_classes + self.y[rows].astype(np.intp)

    def sides(
        self,
        counts: FloatArray,
        sums: FloatArray | None,
        outside_counts: FloatArray | None,
        outside_sums: FloatArray | None,
        group: IntArray,
    ) -> Sides:
        """The two sides of hypotheses from their contexts' tables.

        Parameters
        ----------
        counts : ndarray of float64, shape (m, n_cells), or (m, k * n_cells)
            Each hypothesis' context table; with ``k`` further strata crossed with
            the explanatory ones, its cells stratum after stratum.
        sums : ndarray of float64, shape (m, n_cells, 2) or None
            Its sums and sums of squares (continuous outcomes).
        outside_counts, outside_sums : ndarray or None
            The table of the rows outside the context (weak slices only).
        group : ndarray of intp, shape (m,)
            The tested group of each hypothesis (ignored for weak slices).

        Returns
        -------
        Sides
            Per hypothesis and stratum.
        """
        m = counts.shape[0]
        # Strata are whatever the tables were split by: the explanatory ones, or
        # those crossed with the membership patterns of other findings.
        per_stratum = self.n_groups * self.n_classes
        shape = (m, counts.shape[1] // per_stratum, self.n_groups, self.n_classes)
        c = counts.reshape(shape)
        s = None if sums is None else sums.reshape(*shape, 2)
        if self.comparison == "weak_slice":
            assert outside_counts is not None
            o = outside_counts.reshape(shape)
            so = None if outside_sums is None else outside_sums.reshape(*shape, 2)
            return self._pack(
                c.sum(axis=2),
                None if s is None else s.sum(axis=2),
                o.sum(axis=2),
                None if so is None else so.sum(axis=2),
            )
        onehot = np.zeros((m, 1, self.n_groups, 1), dtype=bool)
        onehot[np.arange(m), 0, group, 0] = True
        inside = np.where(onehot, c, 0.0).sum(axis=2)
        rest = np.where(onehot, 0.0, c).sum(axis=2)
        if s is None:
            return self._pack(inside, None, rest, None)
        oh = onehot[..., None]
        return self._pack(
            inside, np.where(oh, s, 0.0).sum(axis=2), rest, np.where(oh, 0.0, s).sum(axis=2)
        )

    def _pack(
        self,
        c1: FloatArray,
        s1: FloatArray | None,
        c2: FloatArray,
        s2: FloatArray | None,
    ) -> Sides:
        # c: (m, n_strata, n_classes); s: (m, n_strata, 1, 2)
        if self.outcome == "categorical":
            zero = np.zeros(c1.shape[:2])
            return Sides(c1.sum(axis=2), zero, zero, c2.sum(axis=2), zero, zero, c1, c2)
        if self.outcome == "binary":
            zero = np.zeros(c1.shape[:2])
            return Sides(c1.sum(axis=2), c1[..., 1], zero, c2.sum(axis=2), c2[..., 1], zero)
        assert s1 is not None and s2 is not None
        return Sides(
            c1[..., 0], s1[..., 0, 0], s1[..., 0, 1], c2[..., 0], s2[..., 0, 0], s2[..., 0, 1]
        )

    def view(self, rows: IntArray) -> RowView:
        """Gather the rows' codes, cells and outcome once."""
        return RowView(
            rows,
            [c.codes[rows] for c in self.contexts],
            self.row_cells(rows),
            self.y[rows],
            tuple(c.cardinality for c in self.contexts),
            self.n_cells,
            self.outcome == "continuous",
        )

    def describe(self, attributes: IntArray, values: IntArray) -> str:
        """The context in words, e.g. ``"region = north and age = [18, 30)"``."""
        return describe_context(self.contexts, attributes, values)
