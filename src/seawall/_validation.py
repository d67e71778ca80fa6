"""Every check of user input, and its message.

Inputs arrive as lists, numpy arrays, pandas or polars Series/DataFrames and
pyarrow arrays/tables; they leave as numpy arrays of a known dtype. Kernels
downstream assume what these functions guarantee and check nothing again.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from seawall.exceptions import DataValidationError, InvalidParameterError

__all__ = [
    "check_choice",
    "check_lengths",
    "check_real",
    "check_seed",
    "module_of",
    "param_error",
    "to_1d",
    "to_binary",
    "to_float",
    "to_weights",
]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.intp]


def param_error(name: str, caller: str, expected: str, got: object) -> InvalidParameterError:
    """Build the one message for a bad parameter.

    Parameters
    ----------
    name : str
        The parameter's name.
    caller : str
        The function or class that received it.
    expected : str
        What it must be, e.g. ``"a float in (0, 1)"``.
    got : object
        What was received; shown with ``repr``.

    Returns
    -------
    InvalidParameterError
        The error to raise.

    Examples
    --------
    >>> str(param_error("window", "EWMADetector", "an int in [2, inf)", 1))
    "The 'window' parameter of EWMADetector must be an int in [2, inf). Got 1 instead."
    """
    if isinstance(got, np.generic):
        got = got.item()  # show 1.5, not np.float64(1.5)
    return InvalidParameterError(
        f"The {name!r} parameter of {caller} must be {expected}. Got {got!r} instead."
    )


def check_real(
    value: object,
    name: str,
    caller: str,
    *,
    low: float = -math.inf,
    high: float = math.inf,
    low_open: bool = False,
    high_open: bool = False,
    integer: bool = False,
) -> float:
    """Check that a parameter is a real (or integer) number inside an interval.

    Parameters
    ----------
    value : object
        The value received.
    name, caller : str
        Used in the message.
    low, high : float, default=-inf, inf
        The bounds.
    low_open, high_open : bool, default=False
        Whether each bound is excluded.
    integer : bool, default=False
        Whether the value must be an integer.

    Returns
    -------
    float
        The value as a float (an int when ``integer``).

    Raises
    ------
    InvalidParameterError
        When the value is of the wrong type or outside the interval.

    Examples
    --------
    >>> check_real(0.95, "confidence_level", "group_metrics", low=0, high=1,
    ...            low_open=True, high_open=True)
    0.95
    """
    lo = "(" if low_open or not math.isfinite(low) else "["
    hi = ")" if high_open or not math.isfinite(high) else "]"
    kind = "an int" if integer else "a float"
    fmt = (lambda v: str(int(v))) if integer and math.isfinite(low) else str
    expected = f"{kind} in {lo}{fmt(low) if math.isfinite(low) else '-inf'}, "
    expected += f"{fmt(high) if math.isfinite(high) else 'inf'}{hi}"
    ok_type = isinstance(value, numbers.Integral) if integer else isinstance(value, numbers.Real)
    if isinstance(value, bool) or not ok_type:
        raise param_error(name, caller, expected, value)
    v = float(value)  # type: ignore[arg-type]
    if math.isnan(v):
        raise param_error(name, caller, expected, value)
    below = v <= low if low_open else v < low
    above = v >= high if high_open else v > high
    if below or above:
        raise param_error(name, caller, expected, value)
    return int(v) if integer else v


def check_choice(value: object, name: str, caller: str, choices: Sequence[str]) -> str:
    """Check that a parameter is one of a fixed set of strings.

    Parameters
    ----------
    value : object
        The value received.
    name, caller : str
        Used in the message.
    choices : sequence of str
        The accepted values.

    Returns
    -------
    str
        The value.

    Raises
    ------
    InvalidParameterError
        When the value is not one of ``choices``.

    Examples
    --------
    >>> check_choice("holm", "correction", "group_metrics", ["holm", "bh"])
    'holm'
    """
    if not isinstance(value, str) or value not in choices:
        options = ", ".join(repr(c) for c in choices)
        raise param_error(name, caller, f"one of {options}", value)
    return value


def check_seed(value: object, name: str, caller: str) -> int:
    """Check a random seed: a non-negative int (``None`` is refused: seeds are explicit).

    Parameters
    ----------
    value : object
        The value received.
    name, caller : str
        Used in the message.

    Returns
    -------
    int
        The seed.

    Raises
    ------
    InvalidParameterError
        When the value is not a non-negative int.

    Examples
    --------
    >>> check_seed(7, "random_state", "group_metrics")
    7
    """
    return int(check_real(value, name, caller, low=0, integer=True))


# --------------------------------------------------------------------------- #
# arrays
# --------------------------------------------------------------------------- #


def module_of(x: object) -> str:
    """The top-level package that defines ``x``'s type (``"pandas"``, ``"polars"``...)."""
    return type(x).__module__.split(".", 1)[0]


def to_1d(x: object, name: str) -> np.ndarray[Any, Any]:
    """Convert a one-dimensional input to a numpy array without losing its values.

    Accepts lists and tuples, numpy arrays, pandas Series/Index/Categorical,
    polars Series and pyarrow Array/ChunkedArray. Missing values come back as
    ``None``/``NaN`` in an object or float array.

    Parameters
    ----------
    x : array-like
        The input.
    name : str
        Its name, used in error messages.

    Returns
    -------
    ndarray of shape (n,)
        The values.

    Raises
    ------
    DataValidationError
        When ``x`` is not one-dimensional or is a scalar.

    Examples
    --------
    >>> to_1d([1, 0, 1], "y_true")
    array([1, 0, 1])
    """
    mod = module_of(x)
    if isinstance(x, pd.Series | pd.Index):
        if isinstance(x.dtype, pd.CategoricalDtype):
            arr = np.asarray(x.astype(object))
        elif x.dtype.kind in "biuf":
            arr = x.to_numpy()
        elif pd.api.types.is_bool_dtype(x.dtype) or pd.api.types.is_numeric_dtype(x.dtype):
            # Nullable Int64/Float64/boolean (masked or Arrow-backed): their own numpy
            # dtype, or floats with NaN where values are missing.
            if x.hasnans:
                arr = x.to_numpy(dtype=np.float64, na_value=np.nan)
            else:
                arr = x.to_numpy(dtype=getattr(x.dtype, "numpy_dtype", None))
        else:
            arr = x.to_numpy(dtype=object)
    elif isinstance(x, pd.Categorical):
        arr = np.asarray(x.astype(object))
    elif mod == "polars":
        arr = x.to_numpy()  # type: ignore[attr-defined]
    elif mod == "pyarrow":
        import pyarrow as pa

        ax: Any = x
        if isinstance(ax, pa.ChunkedArray):
            ax = ax.combine_chunks()
        if isinstance(ax, pa.Table | pa.RecordBatch):
            raise DataValidationError(
                f"{name} must be one-dimensional (a column), but a pyarrow table with "
                f"{ax.num_columns} columns was given; pass one column, e.g. table[{name!r}]."
            )
        if pa.types.is_dictionary(ax.type):
            ax = ax.dictionary_decode()
        arr = ax.to_numpy(zero_copy_only=False)
    elif isinstance(x, np.ndarray):
        arr = x
    elif isinstance(x, str | bytes) or not isinstance(x, Iterable):
        raise DataValidationError(
            f"{name} must be a one-dimensional array-like (list, ndarray, Series, Arrow array); "
            f"got a scalar {type(x).__name__} {x!r}."
        )
    else:
        arr = np.asarray(list(x))
        if arr.dtype.kind in "US":
            # Mixed text and missing values would become the text 'nan'/'None'.
            arr = np.asarray(list(x), dtype=object)
    if arr.ndim == 2 and 1 in arr.shape:
        arr = arr.reshape(-1)
    if arr.ndim != 1:
        raise DataValidationError(
            f"{name} must be one-dimensional; got an array of shape {arr.shape}."
        )
    return arr


def _describe_values(values: np.ndarray[Any, Any], limit: int = 5) -> str:
    uniq = pd.unique(pd.Series(values, dtype=object if values.dtype == object else None))
    shown = ", ".join(repr(v.item() if isinstance(v, np.generic) else v) for v in uniq[:limit])
    more = f" and {len(uniq) - limit} more" if len(uniq) > limit else ""
    return f"{{{shown}{more}}}"


def _first_missing(arr: np.ndarray[Any, Any]) -> tuple[int, int]:
    mask = pd.isna(arr)
    idx = np.flatnonzero(mask)
    return int(idx.size), int(idx[0]) if idx.size else -1


def to_binary(x: object, name: str) -> npt.NDArray[np.int8]:
    """Convert binary labels or decisions to an ``int8`` array of 0 and 1.

    Booleans, the integers 0/1 and the floats 0.0/1.0 are accepted; anything else,
    and any missing value, is an error.

    Parameters
    ----------
    x : array-like of shape (n,)
        The labels.
    name : str
        Its name, used in error messages.

    Returns
    -------
    ndarray of int8, shape (n,)
        The labels as 0 and 1.

    Raises
    ------
    DataValidationError
        On missing or non-binary values.

    Examples
    --------
    >>> to_binary([True, False, True], "y_pred")
    array([1, 0, 1], dtype=int8)
    """
    arr = to_1d(x, name)
    if arr.dtype == np.bool_:
        return arr.view(np.int8)
    if arr.dtype.kind in "iu":
        if arr.dtype.itemsize == 1:
            bad = (arr.view(np.uint8) > 1).any()
        else:
            bad = ((arr != 0) & (arr != 1)).any()
        if not bad:
            return arr.astype(np.int8, copy=False)
    elif arr.dtype.kind == "f":
        n_missing, first = _first_missing(arr)
        if n_missing:
            raise DataValidationError(
                f"{name} has {n_missing} missing value(s) (NaN), the first at row {first}; "
                f"binary labels must be 0 or 1 in every row. Drop or fill those rows first."
            )
        if not ((arr != 0) & (arr != 1)).any():
            return arr.astype(np.int8)
    else:
        n_missing, first = _first_missing(arr)
        if n_missing:
            raise DataValidationError(
                f"{name} has {n_missing} missing value(s), the first at row {first}; "
                f"binary labels must be 0 or 1 in every row. Drop or fill those rows first."
            )
        try:
            as_num = arr.astype(np.float64)
        except (TypeError, ValueError):
            as_num = None
        if as_num is not None and not ((as_num != 0) & (as_num != 1)).any():
            return as_num.astype(np.int8)
    raise DataValidationError(
        f"{name} must hold binary values 0/1 (or True/False); got the values "
        f"{_describe_values(arr)}. Map the positive class to 1 and the other to 0 first."
    )


def to_float(x: object, name: str, *, allow_nan: bool = False) -> npt.NDArray[np.float64]:
    """Convert numbers to a float64 array, refusing infinities and (by default) NaN.

    Parameters
    ----------
    x : array-like of shape (n,)
        The values.
    name : str
        Its name, used in error messages.
    allow_nan : bool, default=False
        Whether missing values (NaN) are allowed.

    Returns
    -------
    ndarray of float64, shape (n,)
        The values.

    Raises
    ------
    DataValidationError
        On non-numeric, infinite or missing values.

    Examples
    --------
    >>> to_float([0.2, 0.9], "y_score")
    array([0.2, 0.9])
    """
    arr = to_1d(x, name)
    try:
        out = np.asarray(arr, dtype=np.float64)
    except (TypeError, ValueError) as e:
        raise DataValidationError(
            f"{name} must be numeric; got the values {_describe_values(arr)}."
        ) from e
    finite = np.isfinite(out)
    if not finite.all():
        nan = np.isnan(out)
        if nan.any() and not allow_nan:
            idx = np.flatnonzero(nan)
            raise DataValidationError(
                f"{name} has {idx.size} missing value(s) (NaN), the first at row {idx[0]}; "
                f"drop or fill those rows first."
            )
        inf = ~finite & ~nan
        if inf.any():
            idx = np.flatnonzero(inf)
            raise DataValidationError(
                f"{name} has {idx.size} infinite value(s), the first at row {idx[0]}; "
                f"values must be finite."
            )
    return out


def to_weights(x: object | None, n: int, name: str = "sample_weight") -> FloatArray | None:
    """Convert sample weights: finite, non-negative, not all zero, one per row.

    Parameters
    ----------
    x : array-like of shape (n,) or None
        The weights; ``None`` means every row weighs 1.
    n : int
        The number of rows.
    name : str, default="sample_weight"
        Its name, used in error messages.

    Returns
    -------
    ndarray of float64 or None
        The weights, or ``None`` when none were given.

    Raises
    ------
    DataValidationError
        On negative, missing or misaligned weights.

    Examples
    --------
    >>> to_weights([1, 2], 2)
    array([1., 2.])
    """
    if x is None:
        return None
    w = to_float(x, name)
    check_lengths({name: w.size, "y_true": n})
    if (w < 0).any():
        idx = np.flatnonzero(w < 0)
        raise DataValidationError(
            f"{name} must be non-negative; {idx.size} value(s) are negative, the first "
            f"{float(w[idx[0]])!r} at row {idx[0]}."
        )
    if w.sum() <= 0:
        raise DataValidationError(f"{name} sums to zero; at least one row needs a positive weight.")
    return w


def check_lengths(lengths: Mapping[str, int]) -> int:
    """Check that named inputs have the same number of rows.

    Parameters
    ----------
    lengths : mapping of str to int
        Each input's name and length; the first is the one the others must match.

    Returns
    -------
    int
        The common length.

    Raises
    ------
    DataValidationError
        When two lengths differ.

    Examples
    --------
    >>> check_lengths({"y_true": 3, "y_pred": 3})
    3
    """
    items = list(lengths.items())
    first_name, first_n = items[0]
    for other_name, other_n in items[1:]:
        if other_n != first_n:
            raise DataValidationError(
                f"{other_name} has {other_n} rows but {first_name} has {first_n}; "
                f"they must align row for row."
            )
    return first_n
