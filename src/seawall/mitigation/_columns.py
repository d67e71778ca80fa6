"""The disparate impact remover's columns: their kind, their values, and the per-row draws.

Helpers of :class:`~seawall.mitigation.DisparateImpactRemover` shared with its
fit on a Dask cluster (:mod:`seawall.distributed._repair_fit`): which output
columns are numeric, a numeric column as floats, a categorical column's
categories and counts per group, the check that every group has values, and
the seeded per-row uniforms that can start at any row.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from seawall.exceptions import DataValidationError, InsufficientDataError
from seawall.mitigation._proportions import category_counts
from seawall.mitigation._sensitive import GroupEncoder

__all__ = ["Layout", "categories_of", "check_present", "floats", "is_numeric", "uniforms"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.intp]

_NUMERIC_INFERRED = {"integer", "floating", "mixed-integer-float", "decimal", "empty"}


def is_numeric(col: Any) -> bool:
    """Whether a column holds numbers (booleans and text are categorical).

    Examples
    --------
    >>> is_numeric(pd.Series([1, 2])), is_numeric(pd.Series([True])), is_numeric(pd.Series(["a"]))
    (True, False, False)
    """
    dtype = col.dtype
    if pd.api.types.is_bool_dtype(dtype):
        return False
    if isinstance(dtype, np.dtype) and dtype.kind == "O":
        return pd.api.types.infer_dtype(col, skipna=True) in _NUMERIC_INFERRED
    return bool(pd.api.types.is_numeric_dtype(dtype))


def floats(col: Any, name: str, caller: str) -> FloatArray:
    """A numeric column as float64 (missing values as NaN); infinities are refused.

    Raises
    ------
    DataValidationError
        On text in the column, or an infinite value; naming the feature.

    Examples
    --------
    >>> floats(pd.Series([1, None]), "age", "fit")
    array([ 1., nan])
    """
    try:
        if isinstance(col, pd.Series):
            x = col.to_numpy(dtype=np.float64, na_value=np.nan)
        else:
            x = np.asarray(col, dtype=np.float64)
    except (TypeError, ValueError) as e:
        raise DataValidationError(
            f"{caller}: feature {name!r} was numeric in fit but holds non-numeric values now; "
            "pass the same kind of data as in fit."
        ) from e
    if np.isinf(x).any():
        raise DataValidationError(
            f"{caller}: feature {name!r} has {int(np.isinf(x).sum())} infinite value(s); "
            "values must be finite (missing values, NaN, pass through unchanged)."
        )
    return x


@dataclass(frozen=True)
class Layout:
    """Which output columns a remover repairs by quantiles and which by proportions.

    Attributes
    ----------
    positions : ndarray of intp
        Positions in ``X`` (as passed) of the output columns.
    names : tuple of str
        The output columns' names.
    numeric, categorical : tuple of int
        Positions, among the output columns, of the numeric and categorical features.
    """

    positions: IntArray
    names: tuple[str, ...]
    numeric: tuple[int, ...]
    categorical: tuple[int, ...]


def uniforms(seed: list[int], n: int, width: int, offset: int) -> FloatArray:
    """Rows ``offset .. offset + n - 1`` of a seeded stream of ``width`` uniforms per row.

    Row ``i`` of ``default_rng(seed).random((m, width))`` for any ``m > i``: the
    stream is skipped ahead, not drawn, so a part of a table gets the draws its
    rows would get in the whole table.

    Examples
    --------
    >>> whole = uniforms([0, 1], 5, 2, 0)
    >>> bool((uniforms([0, 1], 2, 2, 3) == whole[3:]).all())
    True
    """
    bits = np.random.PCG64(seed)  # what default_rng(seed) uses
    bits.advance(offset * width)
    out: FloatArray = np.random.Generator(bits).random((n, width))
    return out


def categories_of(col: Any, codes: IntArray, n_groups: int) -> tuple[npt.NDArray[Any], FloatArray]:
    """A categorical column's categories in order of first appearance, and rows per group.

    Examples
    --------
    >>> cats, counts = categories_of(["b", "a", "b", None], np.array([0, 0, 1, 1]), 2)
    >>> cats.tolist(), counts.tolist()
    (['b', 'a'], [[1.0, 1.0], [1.0, 0.0]])
    """
    cat_codes, uniques = pd.factorize(np.asarray(col, dtype=object))
    counts = category_counts(codes, cat_codes, n_groups, uniques.size)
    return np.asarray(uniques, dtype=object), counts


def check_present(present: IntArray, encoder: GroupEncoder, name: str) -> None:
    """Refuse a numeric feature that some group has no value of.

    Raises
    ------
    InsufficientDataError
        Naming the first such group and the feature.
    """
    if not present.all():
        raise InsufficientDataError(
            f"DisparateImpactRemover.fit: group {encoder.labels[int(np.argmin(present))]!r} "
            f"has no non-missing value of feature {name!r}; its quantile function cannot "
            "be learned. Drop the feature or fill its missing values."
        )
