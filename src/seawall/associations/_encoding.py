"""Context attributes as small integer codes: numeric columns binned, rare values pooled.

A context is a conjunction of ``attribute == value`` conditions, so every context
attribute must take few values. Categorical columns keep their values (a missing
value is a value of its own); a numeric column with more distinct values than
``max_values`` is cut at its quantiles; values beyond the ``max_values - 1`` most
frequent go to an ``"(other)"`` bucket, which never forms a context: a finding
must name the rows it is about.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from seawall._groups import MISSING_LABEL, _codes, named_columns
from seawall._validation import check_lengths, to_1d
from seawall.exceptions import DataValidationError

__all__ = [
    "OTHER_LABEL",
    "ContextColumn",
    "bin_codes",
    "bin_labels",
    "cap_values",
    "describe_context",
    "encode_contexts",
    "quantile_edges",
]

IntArray = npt.NDArray[np.intp]

#: The bucket of values beyond the cap; never reported as (part of) a context.
OTHER_LABEL = "(other)"


@dataclass(frozen=True, slots=True)
class ContextColumn:
    """One context attribute as dense integer codes.

    Attributes
    ----------
    name : str
        The column's name.
    codes : ndarray of intp, shape (n,)
        Each row's value, in ``range(len(labels))``.
    labels : tuple of str
        Each code's value as text: a category, a bin such as ``"[18, 35)"``,
        ``"<missing>"`` or ``"(other)"``.
    other : int
        The code of the ``"(other)"`` bucket, or -1 when there is none.
    binned : bool
        Whether the column was numeric and cut into quantile bins.
    """

    name: str
    codes: IntArray
    labels: tuple[str, ...]
    other: int
    binned: bool

    @property
    def cardinality(self) -> int:
        """The number of codes."""
        return len(self.labels)


def _format_edge(v: float) -> str:
    return f"{v:.4g}"


def quantile_edges(finite: npt.NDArray[np.float64], n_bins: int) -> npt.NDArray[np.float64]:
    """The inner edges of ``n_bins`` quantile bins of finite values (ties merged)."""
    return np.unique(np.quantile(finite, np.linspace(0.0, 1.0, n_bins + 1)[1:-1]))


def bin_labels(
    inner: npt.NDArray[np.float64], low: float, high: float, missing: bool
) -> tuple[str, ...]:
    """The labels of the bins cut at ``inner`` between ``low`` and ``high``.

    Examples
    --------
    >>> bin_labels(np.array([49.5]), 0.0, 99.0, True)
    ('[0, 49.5)', '[49.5, 99]', '<missing>')
    """
    edges = [low, *inner.tolist(), high]
    labels = [
        f"[{_format_edge(lo)}, {_format_edge(hi)}{']' if k == len(edges) - 2 else ')'}"
        for k, (lo, hi) in enumerate(zip(edges[:-1], edges[1:], strict=True))
    ]
    if missing:
        labels.append(MISSING_LABEL)
    return tuple(labels)


def bin_codes(values: npt.NDArray[np.float64], inner: npt.NDArray[np.float64]) -> IntArray:
    """Each value's bin; a missing (non-finite) value gets the code after the last bin."""
    codes = np.searchsorted(inner, values, side="right").astype(np.intp)
    missing = ~np.isfinite(values)
    if missing.any():
        codes = np.where(missing, inner.size + 1, codes)
    return codes


def _bin_numeric(values: npt.NDArray[np.float64], n_bins: int, name: str) -> ContextColumn:
    finite = values[np.isfinite(values)]
    inner = quantile_edges(finite, n_bins)
    missing = bool((~np.isfinite(values)).any())
    labels = bin_labels(inner, float(finite.min()), float(finite.max()), missing)
    return ContextColumn(name, bin_codes(values, inner), labels, -1, True)


def cap_values(
    counts: npt.NDArray[np.float64] | IntArray, labels: tuple[str, ...], max_values: int
) -> tuple[IntArray | None, tuple[str, ...], int]:
    """Pool the values beyond the ``max_values - 1`` most frequent into ``"(other)"``.

    Parameters
    ----------
    counts : ndarray of shape (len(labels),)
        Rows per value.
    labels : tuple of str
        The values.
    max_values : int
        The most values kept.

    Returns
    -------
    remap : ndarray of intp or None
        Each value's new code (``None`` when nothing is pooled).
    labels : tuple of str
        The new codes' labels.
    other : int
        The code of ``"(other)"``, or -1.

    Examples
    --------
    >>> remap, labels, other = cap_values(np.array([5, 1, 9]), ("a", "b", "c"), 2)
    >>> remap.tolist(), labels, other
    ([1, 1, 0], ('c', '(other)'), 1)
    """
    if len(labels) <= max_values:
        return None, labels, -1
    # Keep the most frequent max_values - 1 values (ties by code: deterministic).
    order = np.argsort(-np.asarray(counts), kind="stable")
    kept = np.sort(order[: max_values - 1])
    remap = np.full(len(labels), max_values - 1, dtype=np.intp)
    remap[kept] = np.arange(kept.size)
    return remap, (*(labels[k] for k in kept), OTHER_LABEL), max_values - 1


def _cap(codes: IntArray, labels: tuple[str, ...], max_values: int, name: str) -> ContextColumn:
    remap, new_labels, other = cap_values(
        np.bincount(codes, minlength=len(labels)), labels, max_values
    )
    if remap is None:
        return ContextColumn(name, codes, labels, -1, False)
    return ContextColumn(name, remap[codes], new_labels, other, False)


def encode_contexts(
    x: object, n: int, *, n_bins: int = 5, max_values: int = 12, name: str = "context"
) -> list[ContextColumn]:
    """Encode context attributes as small integer codes.

    Parameters
    ----------
    x : array-like of shape (n,) or table of shape (n, k)
        One attribute or several (pandas/polars DataFrame, pyarrow Table, dict
        of columns, 2-D ndarray).
    n : int
        The number of rows.
    n_bins : int, default=5
        Quantile bins of a numeric column with more than ``max_values`` values.
    max_values : int, default=12
        The most values a column keeps; the rest pool into ``"(other)"``.
    name : str, default="context"
        The input's name, for unnamed columns and messages.

    Returns
    -------
    list of ContextColumn
        One per attribute, in input order.

    Raises
    ------
    DataValidationError
        On misaligned lengths, no columns, or duplicate column names.

    Examples
    --------
    >>> cols = encode_contexts({"age": np.arange(100.0), "city": ["x", "y"] * 50}, 100, n_bins=2)
    >>> [(c.name, c.labels) for c in cols]
    [('age', ('[0, 49.5)', '[49.5, 99]')), ('city', ('x', 'y'))]
    """
    columns = named_columns(x, name, "context attribute")
    out = []
    for col_name, values in columns:
        arr: Any = values
        if not (isinstance(values, pd.Series) and isinstance(values.dtype, pd.CategoricalDtype)):
            arr = to_1d(values, col_name)
            check_lengths({name if len(columns) == 1 else col_name: arr.shape[0], "rows": n})
            if arr.dtype.kind in "fiu" and np.unique(arr).size > max_values:
                out.append(_bin_numeric(arr.astype(np.float64), n_bins, col_name))
                continue
        else:
            check_lengths({col_name: len(values), "rows": n})
        try:
            gc = _codes(arr, col_name)
        except TypeError as e:  # lists, arrays or dicts as values: not hashable
            raise DataValidationError(
                f"{name} column {col_name!r} holds values such as {arr[0]!r} that are not "
                f"single categories or numbers; a context attribute needs one value per "
                f"row. Leave the column out of the context."
            ) from e
        codes = np.asarray(gc.codes, dtype=np.intp)
        out.append(_cap(codes, gc.labels, max_values, col_name))
    return out


def describe_context(columns: list[ContextColumn], attributes: IntArray, values: IntArray) -> str:
    """A context in words, e.g. ``"region = north and age = [18, 30)"`` (-1 pads).

    Examples
    --------
    >>> cols = encode_contexts({"city": ["x", "y"]}, 2)
    >>> describe_context(cols, np.array([0, -1]), np.array([1, -1]))
    'city = y'
    """
    parts = [
        f"{columns[a].name} = {columns[a].labels[v]}"
        for a, v in zip(attributes.tolist(), values.tolist(), strict=True)
        if a >= 0
    ]
    return " and ".join(parts) if parts else "everyone"
