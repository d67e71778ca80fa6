"""One code space for every partition: a first pass counts each column's values.

A partition sees only some values of a column, and its own dictionary of them,
so its local codes mean nothing elsewhere. The first pass counts, per
partition, the values of each context column, the combinations of the
protected (and of the explanatory) columns and, for a categorical output, its
classes; the counts merge exactly by value. From the merged counts the client
derives what the in-memory encoding derives from the whole column: the sorted
labels, the ``"(other)"`` pool of rare values, the quantile bins of a numeric
column (exact, from its value counts), the protected groups and the strata.
The result, a :class:`Codebook`, travels to every task of the second pass,
which codes its rows in that one space.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

from seawall._groups import GroupColumn, _codes, combine_groups
from seawall._validation import to_1d
from seawall.associations._encoding import bin_codes, bin_labels, cap_values
from seawall.metrics._assembly import sensitive_columns

__all__ = ["Codebook", "ColumnCode", "ComboCode", "column_code", "combo_code", "value_counts"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.intp]
ROWS = "__seawall_rows"
ANALYSED = "__seawall_analysed"


def value_counts(values: Any) -> tuple[np.ndarray[Any, Any], FloatArray]:
    """The distinct values of a column (a missing value once) and their rows.

    ``values`` is an array or a pandas categorical; values without rows (unused
    categories) are left out.

    Examples
    --------
    >>> v, c = value_counts(np.array(["b", "a", "b", None], dtype=object))
    >>> sorted(zip(v.tolist(), c.tolist()), key=str)
    [('a', 1.0), ('b', 2.0), (nan, 1.0)]
    """
    counted = pd.Series(values, copy=False).value_counts(dropna=False, sort=False)
    counted = counted[counted.to_numpy() > 0]
    counts = np.asarray(counted.to_numpy(), dtype=np.float64)
    return np.asarray(counted.index.to_numpy()), counts


def merge_value_counts(
    *parts: tuple[np.ndarray[Any, Any], FloatArray],
) -> tuple[np.ndarray[Any, Any], FloatArray]:
    """Add up value counts by value (the exact merge of :func:`value_counts`)."""
    values = np.concatenate([v for v, _ in parts])
    counts = np.concatenate([c for _, c in parts])
    summed = pd.Series(counts).groupby(values, dropna=False, sort=False).sum()
    return summed.index.to_numpy(), summed.to_numpy(dtype=np.float64)


def merge_combos(*frames: pd.DataFrame) -> pd.DataFrame:
    """Add up tables of value combinations (keys, then count columns) by combination."""
    both = pd.concat(frames, ignore_index=True)
    keys = [c for c in both.columns if c not in (ROWS, ANALYSED)]
    return both.groupby(keys, dropna=False, sort=False, as_index=False).sum()


def _exact_quantiles(values: FloatArray, counts: FloatArray, n_bins: int) -> FloatArray:
    """``np.quantile`` (linear) of the rows behind distinct sorted ``values`` and ``counts``.

    The same virtual indices, neighbours and interpolation as numpy's, so the
    edges equal those of the rows themselves.
    """
    n = int(counts.sum())
    cum = np.cumsum(counts)
    q = np.linspace(0.0, 1.0, n_bins + 1)[1:-1]
    virtual = (n - 1) * q
    prev = np.floor(virtual)
    gamma = virtual - prev
    lo = np.minimum(prev.astype(np.intp), n - 1)
    hi = np.minimum(lo + 1, n - 1)
    a = values[np.searchsorted(cum, lo, side="right")]
    b = values[np.searchsorted(cum, hi, side="right")]
    diff = b - a
    out: FloatArray = np.where(gamma >= 0.5, b - diff * (1 - gamma), a + diff * gamma)
    return out


@dataclass(frozen=True, slots=True)
class ColumnCode:
    """How a partition codes one context attribute.

    Attributes
    ----------
    name : str
        The column.
    labels : tuple of str
        The final codes' labels (as the in-memory encoding gives them).
    other : int
        The ``"(other)"`` code, or -1.
    inner : ndarray of float64 or None
        The inner bin edges of a binned numeric column.
    lookup : mapping of str to int or None
        A categorical column's value label to its code before pooling.
    remap : ndarray of intp or None
        The pooling of rare values (code before pooling to final code).
    """

    name: str
    labels: tuple[str, ...]
    other: int
    inner: FloatArray | None
    lookup: Mapping[str, int] | None
    remap: IntArray | None

    @property
    def binned(self) -> bool:
        """Whether the column is cut into quantile bins."""
        return self.inner is not None

    def encode(self, values: Any) -> IntArray:
        """One partition's values (an array or a categorical) as codes of the whole data's space."""
        if self.inner is not None:
            return bin_codes(to_1d(values, self.name).astype(np.float64), self.inner)
        assert self.lookup is not None
        local = _codes(values, self.name)
        lut = np.array([self.lookup.get(lab, -1) for lab in local.labels], dtype=np.intp)
        codes = lut[np.asarray(local.codes, dtype=np.intp)] if lut.size else local.codes
        codes = np.asarray(codes, dtype=np.intp)
        return codes if self.remap is None else self.remap[codes]


def column_code(
    name: str, values: np.ndarray[Any, Any], counts: FloatArray, n_bins: int, max_values: int
) -> ColumnCode:
    """A context attribute's code space from its merged value counts.

    The same decisions as :func:`seawall.associations._encoding.encode_contexts`
    on the whole column: a numeric column with more than ``max_values``
    distinct values is cut at its quantiles, others keep their sorted values
    with the rare ones pooled.

    Examples
    --------
    >>> cities = np.array(["y", "x", "z"], dtype=object)
    >>> c = column_code("city", cities, np.array([5.0, 1.0, 9.0]), n_bins=5, max_values=2)
    >>> c.labels, c.other, c.encode(np.array(["x", "z"], dtype=object)).tolist()
    (('z', '(other)'), 1, [1, 0])
    """
    if values.dtype.kind in "fiu" and values.size > max_values:
        v = values.astype(np.float64)
        finite = np.isfinite(v)
        order = np.argsort(v[finite], kind="stable")
        fv, fc = v[finite][order], counts[finite][order]
        inner = np.unique(_exact_quantiles(fv, fc, n_bins))
        labels = bin_labels(inner, float(fv[0]), float(fv[-1]), bool((~finite).any()))
        return ColumnCode(name, labels, -1, inner, None, None)
    local = _codes(values, name)
    per_label = np.bincount(
        np.asarray(local.codes, dtype=np.intp), weights=counts, minlength=len(local.labels)
    )
    remap, labels, other = cap_values(per_label, local.labels, max_values)
    lookup = {lab: i for i, lab in enumerate(local.labels)}
    return ColumnCode(name, labels, other, None, lookup, remap)


@dataclass(frozen=True, slots=True)
class ComboCode:
    """How a partition codes a combination of columns (protected groups, strata).

    Attributes
    ----------
    columns : tuple of str
        The columns.
    lookups : tuple of mapping of str to int
        Per column, a value's label to its code.
    radices : tuple of int
        Per column, its number of values.
    keys : ndarray of int64
        The observed combinations' mixed-radix keys, ascending (a combination's
        code is its position).
    labels : tuple of str
        Each combination's label (values joined by ``" & "``).
    counts : ndarray of float64
        Rows per combination (the analysed rows, for tested groups).
    """

    columns: tuple[str, ...]
    lookups: tuple[Mapping[str, int], ...]
    radices: tuple[int, ...]
    keys: npt.NDArray[np.int64]
    labels: tuple[str, ...]
    counts: FloatArray

    def encode(self, columns: Sequence[Any]) -> IntArray:
        """One partition's combinations as codes of the whole data's space."""
        key = np.zeros(len(columns[0]), dtype=np.int64)
        for name, values, lookup, radix in zip(
            self.columns, columns, self.lookups, self.radices, strict=True
        ):
            local = _codes(values, name)
            lut = np.array([lookup.get(lab, -1) for lab in local.labels], dtype=np.int64)
            key = key * radix + lut[np.asarray(local.codes, dtype=np.intp)]
        return np.searchsorted(self.keys, key).astype(np.intp)


def combo_code(frame: pd.DataFrame, columns: Sequence[str], *, protected: bool) -> ComboCode:
    """The combinations' code space from a merged table of them (see :func:`merge_combos`).

    ``protected`` validates the columns as sensitive features (two groups or
    more each), as the in-memory investigation does.
    """
    table = frame[list(columns)]
    groups: list[GroupColumn] = (
        sensitive_columns(table, len(frame))
        if protected
        else [_codes(table[c].to_numpy(), c) for c in columns]
    )
    _, labels = combine_groups(groups)
    key = np.zeros(len(frame), dtype=np.int64)
    for g in groups:
        key = key * len(g.labels) + np.asarray(g.codes, dtype=np.int64)
    keys, inverse = np.unique(key, return_inverse=True)
    weight = frame[ANALYSED if ANALYSED in frame else ROWS].to_numpy(dtype=np.float64)
    return ComboCode(
        tuple(columns),
        tuple({lab: i for i, lab in enumerate(g.labels)} for g in groups),
        tuple(len(g.labels) for g in groups),
        keys.astype(np.int64),
        labels,
        np.bincount(inverse, weights=weight, minlength=keys.size).astype(np.float64),
    )


@dataclass(frozen=True, slots=True)
class Codebook:
    """Everything a partition needs to code its rows as the whole data's.

    Attributes
    ----------
    outcome : {"binary", "continuous", "categorical"}
        The kind of the investigated outcome.
    classes : mapping of str to int or None
        A categorical output's class label to its index.
    class_labels : tuple of str
        The classes.
    contexts : tuple of ColumnCode
        The context attributes.
    groups : ComboCode or None
        The protected groups (None: weak slices only).
    strata : ComboCode or None
        The explanatory strata (None: one stratum).
    tested : tuple of int
        The groups compared with the rest.
    """

    outcome: Literal["binary", "continuous", "categorical"]
    classes: Mapping[str, int] | None
    class_labels: tuple[str, ...]
    contexts: tuple[ColumnCode, ...]
    groups: ComboCode | None
    strata: ComboCode | None
    tested: tuple[int, ...]
