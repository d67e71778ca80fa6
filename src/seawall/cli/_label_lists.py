"""A column of label lists (a multi-label model's output) as a sparse item-by-label matrix.

A Parquet file holds the lists natively (a ``list<string>`` column); a CSV file
holds each item's labels in one cell, separated by ``|`` (``cat|outdoor|dog``).
An empty or missing cell is an item without labels.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from seawall.exceptions import DataValidationError

__all__ = ["LABEL_SEP", "label_matrix"]

#: What separates the labels of one item in a CSV cell.
LABEL_SEP = "|"

_LISTS = (list, tuple, np.ndarray)
# Not labels inside a list: nested containers, and floats (1.0 and 1 would be two labels).
_NOT_LABELS = (*_LISTS, dict, set, float)


def _missing(value: object) -> bool:
    if value is None or value is pd.NA:
        return True
    return isinstance(value, float) and math.isnan(value)


def _not_lists(column: str, what: str, row: int | None = None) -> DataValidationError:
    where = "" if row is None else f" (row {row})"
    return DataValidationError(
        f"the --labels column {column!r} must hold a list of labels per row: a Parquet list "
        f"column, or in CSV the labels separated by {LABEL_SEP!r} (e.g. 'cat{LABEL_SEP}dog'); "
        f"it holds {what}{where}."
    )


def _items(value: object, column: str, row: int) -> list[str]:
    """One cell's labels, stripped, without empty ones."""
    if _missing(value):
        return []
    if isinstance(value, str):
        parts: list[object] = list(value.split(LABEL_SEP))
    elif isinstance(value, _LISTS):
        parts = list(value)
    else:
        raise _not_lists(column, f"a {type(value).__name__} value {value!r}", row)
    out = []
    for part in parts:
        if _missing(part):
            continue
        if isinstance(part, _NOT_LABELS):
            raise _not_lists(column, f"a list whose entry {part!r} is not a label", row)
        text = str(part).strip()
        if text:
            out.append(text)
    return out


def label_matrix(values: pd.Series, column: str) -> tuple[Any, tuple[str, ...]]:
    """Turn a column of label lists into a CSR matrix and the label names.

    Parameters
    ----------
    values : pandas.Series of shape (n_items,)
        Per item a list (or array) of labels, a string of labels separated by
        ``"|"``, or a missing value (no labels).
    column : str
        The column's name, for error messages.

    Returns
    -------
    labels : scipy.sparse.csr_array of bool, shape (n_items, n_labels)
        True where the item carries the label; a label repeated in one item
        counts once.
    names : tuple of str
        The label of each column, sorted.

    Raises
    ------
    DataValidationError
        When the column holds numbers, booleans or dates, a cell is neither a
        list nor a string, or no item has any label.

    Examples
    --------
    >>> m, names = label_matrix(pd.Series(["cat|dog", "", None, "dog | dog"]), "tags")
    >>> names
    ('cat', 'dog')
    >>> m.toarray().astype(int).tolist()
    [[1, 1], [0, 0], [0, 0], [0, 1]]
    >>> label_matrix(pd.Series([1, 2]), "n")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    seawall.exceptions.DataValidationError: the --labels column 'n' must hold a list ...
    """
    import scipy.sparse as sp

    if (
        pd.api.types.is_numeric_dtype(values)
        or pd.api.types.is_bool_dtype(values)
        or pd.api.types.is_datetime64_any_dtype(values)
    ):
        raise _not_lists(column, f"{values.dtype} values")
    per_item = [_items(v, column, i) for i, v in enumerate(values.to_numpy(dtype=object))]
    flat = [label for item in per_item for label in item]
    if not flat:
        raise DataValidationError(
            f"the --labels column {column!r} has no labels at all; in CSV separate an item's "
            f"labels with {LABEL_SEP!r}, e.g. 'cat{LABEL_SEP}dog'."
        )
    names, codes = np.unique(np.asarray(flat, dtype=object), return_inverse=True)
    rows = np.repeat(np.arange(len(per_item)), [len(item) for item in per_item])
    matrix = sp.csr_array(
        (np.ones(len(flat), dtype=bool), (rows, codes.ravel())),
        shape=(len(per_item), len(names)),
    )
    matrix.sum_duplicates()  # a label given twice to one item is one label
    return matrix, tuple(str(n) for n in names)
