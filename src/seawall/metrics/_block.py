"""Every grouping's groups stacked into one block, so comparisons run in one pass.

Group ``g`` of the block belongs to grouping ``grouping[g]``; its reference is
``ref[g]`` (an index into the same block). Pairs are only ever formed inside a
grouping. Grouped reductions (a maximum or a sum per grouping) replace loops.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy import special

from seawall.metrics._definitions import DISPARITY_NAMES, Rows
from seawall.metrics._spread import pairs

__all__ = ["Block", "grouped_extreme", "grouped_sum", "z_value"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.intp]
BoolArray = npt.NDArray[np.bool_]


@functools.lru_cache(maxsize=256)
def z_value(alpha: float) -> float:
    """The two-sided normal quantile for error rate ``alpha``.

    Parameters
    ----------
    alpha : float
        In (0, 1).

    Returns
    -------
    float
        ``Phi^-1(1 - alpha / 2)``.

    Examples
    --------
    >>> round(z_value(0.05), 3)
    1.96
    """
    return float(special.ndtri(1.0 - alpha / 2.0))


def grouped_sum(values: FloatArray, group: IntArray, n_groups: int) -> FloatArray:
    """Sum rows of ``values`` (shape (k, m)) per group; returns (n_groups, m).

    Examples
    --------
    >>> grouped_sum(np.array([[1.0], [2.0], [3.0]]), np.array([0, 1, 0]), 2).tolist()
    [[4.0], [2.0]]
    """
    out = np.zeros((n_groups, *values.shape[1:]))
    np.add.at(out, group, values)
    return out


def grouped_extreme(
    values: FloatArray, group: IntArray, n_groups: int, *, smallest: bool = False
) -> FloatArray:
    """Largest (or smallest) finite row of ``values`` (shape (k, m)) per group.

    Returns (n_groups, m); NaN where a group has no finite value.

    Examples
    --------
    >>> v = np.array([[1.0], [np.nan], [3.0]])
    >>> grouped_extreme(v, np.array([0, 1, 0]), 2).tolist()
    [[3.0], [nan]]
    """
    fill = np.inf if smallest else -np.inf
    out = np.full((n_groups, *values.shape[1:]), fill)
    (np.minimum if smallest else np.maximum).at(
        out, group, np.where(np.isfinite(values), values, fill)
    )
    return np.where(np.isfinite(out), out, np.nan)


@dataclass(frozen=True, slots=True)
class Block:
    """The groups of every grouping, stacked.

    Attributes
    ----------
    names : tuple of str
        The groupings' names, shape (n_groupings,).
    grouping : IntArray
        Each group's grouping, shape (n,).
    labels : tuple of str
        Each group's label.
    rows : FloatArray
        Each group's number of rows.
    ref : IntArray
        The block index of each group's reference group.
    alpha : float
        ``1 - confidence_level``.
    min_size : int
        Groups with fewer rows are too small to judge.
    """

    names: tuple[str, ...]
    grouping: IntArray
    labels: tuple[str, ...]
    rows: FloatArray
    ref: IntArray
    alpha: float
    min_size: int

    @property
    def n_groupings(self) -> int:
        """The number of groupings."""
        return len(self.names)

    @property
    def small(self) -> BoolArray:
        """Whether each group is too small to judge."""
        return self.rows < self.min_size

    @property
    def others(self) -> IntArray:
        """Every group that is not its grouping's reference."""
        return np.flatnonzero(self.ref != np.arange(self.ref.size))

    def notes(self, groups: IntArray) -> list[str]:
        """Why each of ``groups`` is not judged (empty string when it is)."""
        small = self.small
        return [
            f"too small to judge: {int(self.rows[g])} rows < min_group_size={self.min_size}"
            if small[g]
            else ""
            for g in groups
        ]

    def judged_pairs(self) -> tuple[IntArray, IntArray, IntArray, IntArray]:
        """Every pair of judged groups inside a grouping.

        Returns
        -------
        first, second : IntArray
            The pairs' groups.
        pair_grouping : IntArray
            Each pair's grouping.
        n_pairs : IntArray
            The number of pairs of each grouping (at least 1, for Bonferroni).
        """
        judged = ~self.small
        firsts, seconds, owner = [], [], []
        counts = np.ones(self.n_groupings, dtype=np.intp)
        for j in range(self.n_groupings):
            a, b = pairs(np.flatnonzero(judged & (self.grouping == j)))
            firsts.append(a)
            seconds.append(b)
            owner.append(np.full(a.size, j, dtype=np.intp))
            counts[j] = max(a.size, 1)
        return np.concatenate(firsts), np.concatenate(seconds), np.concatenate(owner), counts

    def extremes(self, values: FloatArray) -> tuple[IntArray, IntArray, BoolArray]:
        """Per grouping and column, the judged groups with the lowest and highest value.

        Parameters
        ----------
        values : ndarray of float64, shape (n, m)
            A value per group and column.

        Returns
        -------
        lowest, highest : IntArray, shape (n_groupings, m)
            Block indices (meaningless where not ``defined``).
        defined : BoolArray, shape (n_groupings, m)
            Where two or more judged groups have a finite value.
        """
        m = values.shape[1]
        lowest = np.zeros((self.n_groupings, m), dtype=np.intp)
        highest = np.zeros((self.n_groupings, m), dtype=np.intp)
        defined = np.zeros((self.n_groupings, m), dtype=bool)
        judged = ~self.small
        for j in range(self.n_groupings):
            keep = np.flatnonzero(judged & (self.grouping == j))
            if keep.size == 0:
                continue
            v = values[keep]
            finite = np.isfinite(v)
            lowest[j] = keep[np.argmin(np.where(finite, v, np.inf), axis=0)]
            highest[j] = keep[np.argmax(np.where(finite, v, -np.inf), axis=0)]
            defined[j] = finite.sum(axis=0) >= 2
        return lowest, highest, defined

    def extend_groups(self, out: Rows, weight: FloatArray, positives: FloatArray) -> None:
        """Append one row per group to ``out.groups``.

        Parameters
        ----------
        out : Rows
            The accumulator.
        weight, positives : ndarray of float64, shape (n,)
            Each group's total weight and weighted positives (NaN when not defined).
        """
        g = len(self.labels)
        out.extend(
            out.groups,
            g,
            grouping=np.asarray(self.names, dtype=object)[self.grouping].tolist(),
            group=list(self.labels),
            n=self.rows,
            weight=weight,
            positives=positives,
            small=self.small.tolist(),
            reference=(self.ref == np.arange(g)).tolist(),
        )

    def extend_metrics(
        self,
        out: Rows,
        metrics: Sequence[str],
        value: FloatArray,
        lower: FloatArray,
        upper: FloatArray,
        denominator: FloatArray,
        method: str,
    ) -> None:
        """Append one row per group and metric to ``out.metrics``.

        Parameters
        ----------
        out : Rows
            The accumulator.
        metrics : sequence of str, length m
            The metrics (columns).
        value, lower, upper, denominator : ndarray of float64, shape (n, m)
            Each group's metrics, intervals and the (effective) rows they are over.
        method : str
            How the intervals were computed.
        """
        g, m = len(self.labels), len(metrics)
        names = np.asarray(self.names, dtype=object)[self.grouping]
        out.extend(
            out.metrics,
            g * m,
            grouping=np.repeat(names, m).tolist(),
            group=np.repeat(np.asarray(self.labels, dtype=object), m).tolist(),
            metric=list(metrics) * g,
            value=value.ravel(),
            lower=lower.ravel(),
            upper=upper.ravel(),
            denominator=np.broadcast_to(denominator, value.shape).ravel(),
            method=method,
            small=np.repeat(self.small, m).tolist(),
        )

    def extend_disparities(
        self,
        out: Rows,
        groups: IntArray,
        metrics: Sequence[str],
        kinds: Sequence[str],
        value: FloatArray,
        lower: FloatArray,
        upper: FloatArray,
        p_value: FloatArray,
        test: Any,
    ) -> None:
        """Append a (groups x columns) block of comparisons with the reference.

        Parameters
        ----------
        out : Rows
            The accumulator.
        groups : IntArray, shape (k,)
            The compared groups (rows of the block).
        metrics, kinds : sequence of str, length m
            Each column's metric and form.
        value, lower, upper, p_value : ndarray of float64, shape (k, m)
            The comparisons; p-values of groups too small to judge become NaN.
        test : array of str of shape (k, m), or sequence of str of length m
            The test behind each p-value.
        """
        k, m = len(groups), len(metrics)
        if k == 0:
            return
        labels = np.asarray(self.labels, dtype=object)
        p = np.where(self.small[groups][:, None], np.nan, p_value)
        out.extend(
            out.disparities,
            k * m,
            grouping=np.repeat(
                np.asarray(self.names, dtype=object)[self.grouping[groups]], m
            ).tolist(),
            group=np.repeat(labels[groups], m).tolist(),
            reference=np.repeat(labels[self.ref[groups]], m).tolist(),
            metric=list(metrics) * k,
            kind=list(kinds) * k,
            name=[DISPARITY_NAMES[(mt, kd)] for mt, kd in zip(metrics, kinds, strict=True)] * k,
            value=value.ravel(),
            lower=lower.ravel(),
            upper=upper.ravel(),
            p_value=p.ravel(),
            test=np.broadcast_to(np.asarray(test, dtype=object), (k, m)).ravel().tolist(),
            note=np.repeat(np.asarray(self.notes(groups), dtype=object), m).tolist(),
        )

    def extend_summary(
        self,
        out: Rows,
        metrics: Sequence[str],
        kinds: Sequence[str],
        value: FloatArray,
        lower: FloatArray,
        upper: FloatArray,
        lowest: IntArray,
        highest: IntArray,
        defined: BoolArray,
        p_value: FloatArray,
        test: Sequence[str],
    ) -> None:
        """Append every grouping's spreads: one row per grouping, metric and form.

        Parameters
        ----------
        out : Rows
            The accumulator.
        metrics, kinds : sequence of str, length m
            Each column's metric and form.
        value, lower, upper, p_value : ndarray of float64, shape (n_groupings, m)
            The spreads, their intervals and homogeneity p-values.
        lowest, highest : IntArray, shape (n_groupings, m)
            The groups at either end.
        defined : BoolArray, shape (n_groupings, m)
            Where two or more judged groups have a value (elsewhere the row is empty).
        test : sequence of str, length m
            The test behind each p-value.
        """
        j, m = self.n_groupings, len(metrics)
        labels = np.asarray(self.labels, dtype=object)
        nan = np.nan
        out.extend(
            out.summary,
            j * m,
            grouping=np.repeat(np.asarray(self.names, dtype=object), m).tolist(),
            metric=list(metrics) * j,
            kind=list(kinds) * j,
            name=[DISPARITY_NAMES[(mt, kd)] for mt, kd in zip(metrics, kinds, strict=True)] * j,
            value=np.where(defined, value, nan).ravel(),
            lower=np.where(defined, lower, nan).ravel(),
            upper=np.where(defined, upper, nan).ravel(),
            lowest_group=np.where(defined, labels[lowest], "").ravel().tolist(),
            highest_group=np.where(defined, labels[highest], "").ravel().tolist(),
            p_value=np.asarray(p_value, dtype=np.float64).ravel(),
            test=list(test) * j,
        )
