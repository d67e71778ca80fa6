"""Sensitive features as dense integer codes, whatever form they arrive in.

One column or many (pandas/polars DataFrame, pyarrow Table, dict of columns,
2-D array) become ``GroupColumn`` objects; a missing value is a group of its own.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from seawall._validation import check_lengths, module_of, to_1d
from seawall.exceptions import DataValidationError

__all__ = [
    "MISSING_LABEL",
    "VALUE_SEP",
    "GroupColumn",
    "combine_groups",
    "named_columns",
    "to_group_columns",
]

#: Joins the values of an intersectional group ("Female & Black").
VALUE_SEP = " & "


@dataclass(frozen=True, slots=True)
class GroupColumn:
    """One sensitive feature as dense integer codes.

    Attributes
    ----------
    name : str
        The column's name.
    codes : ndarray of int, shape (n,)
        Each row's group, in ``range(len(labels))`` (any integer dtype).
    labels : tuple of str
        Each code's value, as text; a missing value is its own group ``"<missing>"``.
        A label may have no rows (an unused category); counting drops it.
    """

    name: str
    codes: npt.NDArray[np.integer[Any]]
    labels: tuple[str, ...]


MISSING_LABEL = "<missing>"


def _label(v: object) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)) or v is pd.NA or v is pd.NaT:
        return MISSING_LABEL
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def _codes(values: object, name: str) -> GroupColumn:
    if isinstance(values, pd.Series) and isinstance(values.dtype, pd.CategoricalDtype):
        # Codes as they are (int8 for few categories); unused categories are dropped
        # after counting, which is cheaper than a pass over the rows here.
        raw = values.cat.codes.to_numpy()
        cats = [_label(c) for c in values.cat.categories]
        if (raw < 0).any():
            raw = np.where(raw < 0, len(cats), raw)
            cats.append(MISSING_LABEL)
        return GroupColumn(name, raw, tuple(cats))
    arr = to_1d(values, name)
    if arr.dtype.kind in "iub" and arr.size:
        iarr = arr.astype(np.int64, copy=False)
        lo, hi = int(iarr.min()), int(iarr.max())
        if hi - lo < 1_000_000:
            # Dense small-range integers: a bincount beats hashing.
            shifted = (iarr - lo).astype(np.intp, copy=False)
            present = np.bincount(shifted, minlength=hi - lo + 1) > 0
            remap = np.cumsum(present) - 1
            codes = remap[shifted] if not present.all() else shifted
            values_present = np.flatnonzero(present) + lo
            is_bool = arr.dtype.kind == "b"
            int_labels = tuple(str(bool(v)) if is_bool else str(int(v)) for v in values_present)
            return GroupColumn(name, codes.astype(np.intp, copy=False), int_labels)
    codes_, uniques = pd.factorize(arr, sort=True, use_na_sentinel=True)
    codes = codes_.astype(np.intp, copy=False)
    labels_list = [_label(u) for u in uniques]
    if (codes < 0).any():
        codes = np.where(codes < 0, len(labels_list), codes)
        labels_list.append(MISSING_LABEL)
    return GroupColumn(name, codes, tuple(labels_list))


def _split_columns(x: Any, name: str) -> list[tuple[str, object]]:
    """Split sensitive features into named one-dimensional columns."""
    mod = module_of(x)
    if isinstance(x, pd.DataFrame):
        # By position: a repeated name must reach the duplicate check as two columns.
        return [(str(c), x.iloc[:, j]) for j, c in enumerate(x.columns)]
    if mod == "polars" and hasattr(x, "columns") and hasattr(x, "get_column"):
        return [(str(c), x.get_column(c)) for c in x.columns]
    if mod == "pyarrow" and hasattr(x, "column_names"):
        return [(str(c), x.column(c)) for c in x.column_names]
    if isinstance(x, Mapping):
        return [(str(k), v) for k, v in x.items()]
    if isinstance(x, pd.Series):
        return [(str(x.name) if x.name is not None else name, x)]
    if mod == "polars" and hasattr(x, "name"):
        return [(str(x.name) or name, x)]
    if isinstance(x, np.ndarray) and x.ndim == 2:
        return [(f"{name}{j}", x[:, j]) for j in range(x.shape[1])]
    return [(name, x)]


def to_group_columns(x: object, n: int, name: str = "sensitive_features") -> list[GroupColumn]:
    """Convert one or more sensitive features to dense integer codes.

    Parameters
    ----------
    x : array-like of shape (n,) or table of shape (n, k)
        One feature (list, ndarray, Series, Arrow array) or several (pandas/polars
        DataFrame, pyarrow Table, dict of columns, 2-D ndarray).
    n : int
        The number of rows the features must have.
    name : str, default="sensitive_features"
        The input's name, used for unnamed columns and in messages.

    Returns
    -------
    list of GroupColumn
        One per feature, in input order.

    Raises
    ------
    DataValidationError
        On misaligned lengths, no columns, or duplicate column names.

    Examples
    --------
    >>> [c.labels for c in to_group_columns(["a", "b", "a"], 3)]
    [('a', 'b')]
    """
    out = []
    for col_name, values in named_columns(x, name, "sensitive feature"):
        col = _codes(values, col_name)
        check_lengths({"y_true": n, f"{name}[{col_name!r}]": col.codes.size})
        out.append(col)
    return out


def named_columns(x: object, name: str, what: str) -> list[tuple[str, object]]:
    """Split a table-like input into named columns, at least one, names unique.

    Parameters
    ----------
    x : array-like or table
        One column or several (see :func:`to_group_columns`).
    name : str
        The input's name, for unnamed columns and messages.
    what : str
        What a column is, for the message (e.g. ``"sensitive feature"``).

    Returns
    -------
    list of (str, object)
        Each column's name and values.

    Raises
    ------
    DataValidationError
        With no columns or a repeated name.

    Examples
    --------
    >>> [n for n, _ in named_columns({"a": [1], "b": [2]}, "context", "attribute")]
    ['a', 'b']
    """
    columns = _split_columns(x, name)
    if not columns:
        raise DataValidationError(f"{name} has no columns; pass at least one {what}.")
    seen: set[str] = set()
    for col_name, _ in columns:
        if col_name in seen:
            raise DataValidationError(f"{name} has two columns named {col_name!r}; rename one.")
        seen.add(col_name)
    return columns


def combine_groups(columns: list[GroupColumn]) -> tuple[npt.NDArray[np.intp], tuple[str, ...]]:
    """Intersect columns into one code per observed combination (labels joined by ' & ').

    Examples
    --------
    >>> cols = to_group_columns({"sex": ["F", "M", "F"], "race": ["a", "a", "b"]}, 3)
    >>> codes, labels = combine_groups(cols)
    >>> codes.tolist(), labels
    ([0, 2, 1], ('F & a', 'F & b', 'M & a'))
    """
    code = np.zeros(columns[0].codes.shape[0], dtype=np.int64)
    for col in columns:
        code = code * len(col.labels) + np.asarray(col.codes, dtype=np.int64)
    uniq, inverse = np.unique(code, return_inverse=True)
    labels = []
    for u in uniq.tolist():
        parts = []
        for col in reversed(columns):
            parts.append(col.labels[u % len(col.labels)])
            u //= len(col.labels)
        labels.append(VALUE_SEP.join(reversed(parts)))
    return inverse.astype(np.intp), tuple(labels)
