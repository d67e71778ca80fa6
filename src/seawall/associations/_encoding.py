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

__all__ = ["OTHER_LABEL", "ContextColumn", "describe_context", "encode_contexts"]

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


def _bin_numeric(values: npt.NDArray[np.float64], n_bins: int, name: str) -> ContextColumn:
    finite = values[np.isfinite(values)]
    inner = np.unique(np.quantile(finite, np.linspace(0.0, 1.0, n_bins + 1)[1:-1]))
    codes = np.searchsorted(inner, values, side="right").astype(np.intp)
    edges = [float(finite.min()), *inner.tolist(), float(finite.max())]
    labels = [
        f"[{_format_edge(lo)}, {_format_edge(hi)}{']' if k == len(edges) - 2 else ')'}"
        for k, (lo, hi) in enumerate(zip(edges[:-1], edges[1:], strict=True))
    ]
    missing = ~np.isfinite(values)
    if missing.any():
        codes = np.where(missing, len(labels), codes)
        labels.append(MISSING_LABEL)
    return ContextColumn(name, codes, tuple(labels), -1, True)


def _cap(codes: IntArray, labels: tuple[str, ...], max_values: int, name: str) -> ContextColumn:
    counts = np.bincount(codes, minlength=len(labels))
    if len(labels) <= max_values:
        return ContextColumn(name, codes, labels, -1, False)
    # Keep the most frequent max_values - 1 values (ties by code: deterministic).
    order = np.argsort(-counts, kind="stable")
    kept = np.sort(order[: max_values - 1])
    remap = np.full(len(labels), max_values - 1, dtype=np.intp)
    remap[kept] = np.arange(kept.size)
    new_labels = (*(labels[k] for k in kept), OTHER_LABEL)
    return ContextColumn(name, remap[codes], new_labels, max_values - 1, False)


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
