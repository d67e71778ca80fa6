"""The edge of the drift functions: tables in, named numpy columns and their kinds out."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

from seawall._validation import module_of, param_error
from seawall.exceptions import DataValidationError, InsufficientDataError

__all__ = [
    "Kind",
    "Table",
    "category_counts",
    "check_categorical",
    "check_same_columns",
    "column_kind",
    "numeric_values",
    "to_table",
]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

#: What a column holds: numbers, categories, nothing known (all missing) or neither.
Kind = Literal["numeric", "categorical", "empty", "unsupported"]

_NUMERIC_INFERRED = frozenset({"integer", "floating", "mixed-integer-float", "decimal"})


@dataclass(frozen=True, slots=True)
class Table:
    """A window's columns by name, as they came (Series for a frame, arrays otherwise).

    Attributes
    ----------
    names : tuple of str
        The column names (``"x0"``, ``"x1"``... for an array).
    columns : tuple of pandas.Series or ndarray of float64
        One per name.
    n_rows : int
        The number of rows.
    is_frame : bool
        Whether the input was a table with named columns.
    """

    names: tuple[str, ...]
    columns: tuple[Any, ...]
    n_rows: int
    is_frame: bool


def to_table(X: object, name: str, caller: str) -> Table:
    """Split a pandas DataFrame (or a numeric 2-D array) into named columns.

    polars and pyarrow tables are converted with their ``to_pandas()``.

    Parameters
    ----------
    X : pandas.DataFrame or array-like of shape (n_rows, n_features)
        The window.
    name, caller : str
        Used in error messages.

    Returns
    -------
    Table
        The columns.

    Raises
    ------
    DataValidationError
        When ``X`` is not two-dimensional, has duplicate column names, no column,
        or (an array) non-numeric values.
    InsufficientDataError
        When ``X`` has no rows.

    Examples
    --------
    >>> to_table(np.zeros((3, 2)), "reference", "feature_drift").names
    ('x0', 'x1')
    """
    if module_of(X) in ("polars", "pyarrow") and hasattr(X, "to_pandas"):
        X = X.to_pandas()
    if isinstance(X, pd.DataFrame):
        names = tuple(str(c) for c in X.columns)
        if len(set(names)) < len(names):
            dup = sorted({n for n in names if names.count(n) > 1})
            raise DataValidationError(
                f"{name} passed to {caller} has duplicate column names {dup}; "
                f"each feature needs a unique name."
            )
        columns: tuple[Any, ...] = tuple(X.iloc[:, j] for j in range(X.shape[1]))
        table = Table(names, columns, len(X), True)
    else:
        if isinstance(X, pd.Series):
            raise DataValidationError(
                f"{name} passed to {caller} must be a table of features; got a Series. "
                f"Pass series.to_frame() for a single feature."
            )
        try:
            arr = np.asarray(X, dtype=np.float64)
        except (TypeError, ValueError) as e:
            raise DataValidationError(
                f"{name} passed to {caller} must be a pandas DataFrame or a numeric 2-D array "
                f"of shape (n_rows, n_features); got {type(X).__name__} that could not be "
                f"converted to floats ({e}). Pass a DataFrame for categorical features."
            ) from e
        if arr.ndim != 2:
            raise DataValidationError(
                f"{name} passed to {caller} must be two-dimensional (n_rows, n_features); "
                f"got an array of shape {arr.shape}."
            )
        arr_t = np.ascontiguousarray(arr.T)
        names = tuple(f"x{j}" for j in range(arr_t.shape[0]))
        table = Table(names, tuple(arr_t), arr.shape[0], False)
    if not table.names:
        raise DataValidationError(f"{name} passed to {caller} has no columns; it needs one.")
    if table.n_rows == 0:
        raise InsufficientDataError(
            f"{name} passed to {caller} has no rows; a window needs at least one row "
            f"to judge drift."
        )
    return table


def check_categorical(categorical: object, table: Table, caller: str) -> frozenset[str]:
    """Check the names declared categorical against the reference's columns.

    Parameters
    ----------
    categorical : str, iterable of str or None
        The declared names; a single string is one name.
    table : Table
        The reference window.
    caller : str
        Used in error messages.

    Returns
    -------
    frozenset of str
        The names.

    Raises
    ------
    InvalidParameterError
        When ``categorical`` is not a collection of names, or is given for arrays.
    DataValidationError
        When a declared name is not a column.

    Examples
    --------
    >>> t = to_table(pd.DataFrame({"a": [1], "b": ["x"]}), "reference", "f")
    >>> sorted(check_categorical("b", t, "f"))
    ['b']
    """
    if categorical is None:
        return frozenset()
    if isinstance(categorical, str):
        categorical = [categorical]
    if not isinstance(categorical, Iterable):
        raise param_error("categorical", caller, "None or a list of column names", categorical)
    declared = [str(c) for c in categorical]
    if declared and not table.is_frame:
        raise param_error(
            "categorical",
            caller,
            "None when the windows are arrays (pass DataFrames for categorical features)",
            categorical,
        )
    missing = [c for c in declared if c not in table.names]
    if missing:
        raise DataValidationError(
            f"categorical names {missing} passed to {caller}, which are not columns of "
            f"reference (columns: {list(table.names)}); fix the names or drop them."
        )
    return frozenset(declared)


def column_kind(column: Any) -> Kind:
    """What a column holds, from its dtype (object columns are inspected).

    Booleans, strings, pandas categoricals and objects that are not numbers are
    categorical; integers and floats (nullable ones too) are numeric; an object
    column with every value missing is ``"empty"``; dates and anything else are
    ``"unsupported"``.

    Parameters
    ----------
    column : pandas.Series or ndarray
        The column.

    Returns
    -------
    {"numeric", "categorical", "empty", "unsupported"}
        Its kind.

    Examples
    --------
    >>> column_kind(pd.Series([1.5, None])), column_kind(pd.Series(["a", None]))
    ('numeric', 'categorical')
    """
    if isinstance(column, np.ndarray):
        return "numeric"
    dtype = column.dtype
    if pd.api.types.is_bool_dtype(dtype):
        return "categorical"
    if isinstance(dtype, pd.CategoricalDtype) or pd.api.types.is_string_dtype(dtype):
        if dtype.kind == "O":
            inferred = pd.api.types.infer_dtype(column, skipna=True)
            if inferred == "empty":
                return "empty"
            if inferred in _NUMERIC_INFERRED:
                return "numeric"
        return "categorical"
    if pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_complex_dtype(dtype):
        return "numeric"
    return "unsupported"


def numeric_values(column: Any) -> FloatArray:
    """A numeric column as float64, NaN where missing.

    Parameters
    ----------
    column : pandas.Series or ndarray
        A column of kind ``"numeric"`` or ``"empty"``.

    Returns
    -------
    ndarray of float64, shape (n_rows,)
        The values.

    Examples
    --------
    >>> numeric_values(pd.Series([1, None], dtype="Int64")).tolist()
    [1.0, nan]
    """
    if isinstance(column, np.ndarray):
        return column
    return np.asarray(column.to_numpy(dtype=np.float64, na_value=np.nan), dtype=np.float64)


def category_counts(column: Any) -> tuple[tuple[Any, ...], IntArray, int]:
    """Count each category of a column, in order of first appearance.

    Parameters
    ----------
    column : pandas.Series or ndarray
        The column; missing values (None, NaN, NA) are not a category.

    Returns
    -------
    categories : tuple
        The distinct non-missing values (numpy scalars as Python ones).
    counts : ndarray of int64, shape (n_categories,)
        How many rows hold each.
    n_missing : int
        The number of missing values.

    Examples
    --------
    >>> category_counts(pd.Series(["b", "a", None, "b"]))
    (('b', 'a'), array([2, 1]), 1)
    """
    codes, uniques = pd.factorize(pd.Series(column).astype(object), use_na_sentinel=True)
    present = codes >= 0
    counts = np.bincount(codes[present], minlength=len(uniques)).astype(np.int64)
    categories = tuple(v.item() if isinstance(v, np.generic) else v for v in uniques)
    return categories, counts, int(codes.size - np.count_nonzero(present))


def check_same_columns(ref_names: tuple[str, ...], cur_names: tuple[str, ...], caller: str) -> None:
    """Check that a window has the reference's columns (in any order).

    Parameters
    ----------
    ref_names, cur_names : tuple of str
        The column names of the reference and of the current window.
    caller : str
        Used in the message.

    Raises
    ------
    DataValidationError
        When a column is missing from one of them.

    Examples
    --------
    >>> check_same_columns(("a", "b"), ("b", "a"), "feature_drift")
    """
    only_ref = [n for n in ref_names if n not in cur_names]
    only_cur = [n for n in cur_names if n not in ref_names]
    if only_ref or only_cur:
        raise DataValidationError(
            f"current passed to {caller} must have the reference's columns; missing from "
            f"current: {only_ref}, not in reference: {only_cur}. Select the same columns "
            f"in both, e.g. current[list(reference.columns)]."
        )
