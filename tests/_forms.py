"""Converters that hand the same data to Seawall in every form users have.

A *column* is a 1-D numpy array; a *table* is a dict of column name to 1-D
numpy array. Each converter returns the same values in another container, so a
test parametrised over them checks that results never depend on the form.

Examples
--------
>>> import numpy as np
>>> to_list(np.array([1, 0]))
[1, 0]
>>> sorted(TABLE_FORMS)
['arrow', 'dict', 'pandas', 'polars']
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa

__all__ = [
    "COLUMN_FORMS",
    "TABLE_FORMS",
    "to_arrow",
    "to_arrow_table",
    "to_dict_of_lists",
    "to_list",
    "to_ndarray",
    "to_pandas",
    "to_pandas_categorical",
    "to_pandas_frame",
    "to_pandas_nullable",
    "to_polars",
    "to_polars_frame",
]

Column = np.ndarray[Any, Any]
Table = Mapping[str, Column]


def to_list(col: Column) -> list[Any]:
    """A Python list of Python scalars."""
    return col.tolist()


def to_ndarray(col: Column) -> Column:
    """A numpy array (a copy, so the caller's array is never shared)."""
    return np.array(col)


def to_pandas(col: Column) -> pd.Series:
    """A pandas Series with the default dtype for the values."""
    return pd.Series(col)


def to_pandas_categorical(col: Column) -> pd.Series:
    """A pandas categorical Series whose categories are the sorted observed values."""
    return pd.Series(pd.Categorical(col, categories=sorted(set(col.tolist()))))


def to_pandas_nullable(col: Column) -> pd.Series:
    """A pandas Series with a nullable extension dtype (boolean, Int64, Float64 or string)."""
    kind = col.dtype.kind
    if kind == "b":
        return pd.Series(col, dtype="boolean")
    if kind in "iu":
        return pd.Series(col, dtype="Int64")
    if kind == "f":
        return pd.Series(col, dtype="Float64")
    return pd.Series(col, dtype="string")


def to_polars(col: Column) -> pl.Series:
    """A polars Series."""
    return pl.Series(col)


def to_arrow(col: Column) -> pa.Array:
    """A pyarrow Array."""
    return pa.array(col)


def to_pandas_frame(table: Table) -> pd.DataFrame:
    """A pandas DataFrame, one column per feature."""
    return pd.DataFrame(dict(table))


def to_polars_frame(table: Table) -> pl.DataFrame:
    """A polars DataFrame."""
    return pl.DataFrame({k: pl.Series(k, v) for k, v in table.items()})


def to_arrow_table(table: Table) -> pa.Table:
    """A pyarrow Table."""
    return pa.table({k: pa.array(v) for k, v in table.items()})


def to_dict_of_lists(table: Table) -> dict[str, list[Any]]:
    """A plain dict of Python lists."""
    return {k: v.tolist() for k, v in table.items()}


#: Every form of one column, by name.
COLUMN_FORMS: dict[str, Callable[[Column], object]] = {
    "list": to_list,
    "ndarray": to_ndarray,
    "pandas": to_pandas,
    "polars": to_polars,
    "arrow": to_arrow,
}

#: Every form of a table of sensitive features, by name.
TABLE_FORMS: dict[str, Callable[[Table], object]] = {
    "pandas": to_pandas_frame,
    "polars": to_polars_frame,
    "arrow": to_arrow_table,
    "dict": to_dict_of_lists,
}
