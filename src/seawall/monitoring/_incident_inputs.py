"""The flags and scores that ``group_incidents`` takes, dense or sparse, as flagged cells.

Whatever the input's form, grouping needs only the flagged cells (series and
step, row-major) and the score at each; a ``scipy.sparse`` input is read from its
stored entries and never made dense.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
from scipy import sparse

from seawall.exceptions import DataValidationError
from seawall.monitoring._inputs import to_matrix

__all__ = ["CALLER", "cell_scores", "flag_cells", "to_flags"]

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

CALLER = "group_incidents"


def to_flags(values: object, name: str, caller: str) -> BoolArray:
    """Convert a matrix of flags (bool or 0/1) to a boolean array.

    Parameters
    ----------
    values : array-like of shape (n_series, n_steps)
        The flags.
    name, caller : str
        Used in error messages.

    Returns
    -------
    ndarray of bool, shape (n_series, n_steps)
        The flags.

    Raises
    ------
    DataValidationError
        When the input is not a matrix of booleans or 0/1.

    Examples
    --------
    >>> to_flags([[0, 1], [1, 0]], "is_anomaly", "group_incidents").tolist()
    [[False, True], [True, False]]
    """
    arr = np.asarray(values)
    if arr.dtype == np.bool_ and arr.ndim == 2:
        return arr
    X = to_matrix(values, name, caller)
    bad = ~((X == 0) | (X == 1))
    if bad.any():
        i, t = np.argwhere(bad)[0]
        raise _not_a_flag(name, caller, X[i, t], i, t)
    out: BoolArray = X == 1
    return out


def _not_a_flag(name: str, caller: str, value: object, i: object, t: object) -> DataValidationError:
    if isinstance(value, np.generic):
        value = value.item()  # show 0.5, not np.float64(0.5)
    return DataValidationError(
        f"{name} passed to {caller} must hold booleans (or 0/1); got {value!r} at "
        f"series {i}, step {t}. Flag steps with flag_anomalies(scores) first."
    )


def _stored(values: Any, name: str) -> tuple[tuple[int, int], IntArray, IntArray, FloatArray]:
    """A scipy.sparse matrix's shape and stored entries as floats, row-major, duplicates summed.

    The checks of :func:`~seawall.monitoring._inputs.to_matrix`, on the stored entries only.
    """
    shape = tuple(int(n) for n in values.shape)
    if len(shape) != 2 or 0 in shape:
        raise DataValidationError(
            f"{name} passed to {CALLER} must be a sparse matrix of shape (n_series, n_steps) "
            f"with at least one series and one step; got shape {shape}."
        )
    coo = values.tocoo()
    rows, cols = coo.row.astype(np.int64), coo.col.astype(np.int64)
    order = np.lexsort((cols, rows))
    rows, cols, stored = rows[order], cols[order], np.asarray(coo.data)[order]
    first = np.flatnonzero(np.r_[True, (rows[1:] != rows[:-1]) | (cols[1:] != cols[:-1])])
    try:
        if first.size < rows.size:
            # Repeated coordinates add up in the stored dtype (True + True is True),
            # as in scipy's own ``toarray()``.
            stored = np.add.reduceat(stored, first, dtype=stored.dtype)
            rows, cols = rows[first], cols[first]
        data = stored.astype(np.float64)
    except (TypeError, ValueError) as e:
        raise DataValidationError(
            f"{name} passed to {CALLER} must hold numbers; its stored values could not be "
            f"converted to floats ({e})."
        ) from e
    if np.isinf(data).any():
        k = int(np.flatnonzero(np.isinf(data))[0])
        raise DataValidationError(
            f"{name} passed to {CALLER} holds infinite values (the first at series "
            f"{rows[k]}, step {cols[k]}); mark missing values with NaN instead."
        )
    return (shape[0], shape[1]), rows, cols, data


def flag_cells(is_anomaly: object) -> tuple[tuple[int, int], IntArray, IntArray]:
    """The shape of ``is_anomaly`` and its flagged cells, row-major (never densified)."""
    if sparse.issparse(is_anomaly):
        shape, rows, cols, vals = _stored(is_anomaly, "is_anomaly")
        bad = ~((vals == 0) | (vals == 1))
        if bad.any():
            k = int(np.flatnonzero(bad)[0])
            raise _not_a_flag("is_anomaly", CALLER, vals[k], rows[k], cols[k])
        # Stored zeros (explicit False) are not flags.
        flagged = vals == 1
        return shape, rows[flagged], cols[flagged]
    flags = to_flags(is_anomaly, "is_anomaly", CALLER)
    r, c = np.nonzero(flags)
    return (flags.shape[0], flags.shape[1]), r.astype(np.int64), c.astype(np.int64)


def _same_shape(got: tuple[int, ...], shape: tuple[int, int]) -> None:
    if got != shape:
        raise DataValidationError(
            f"scores passed to {CALLER} has shape {got} but is_anomaly has "
            f"{shape}; they must align series by step."
        )


def cell_scores(
    scores: object, shape: tuple[int, int], rows: IntArray, cols: IntArray
) -> FloatArray:
    """The scores at the flagged cells (``scores`` checked; a sparse one stays sparse)."""
    if not sparse.issparse(scores):
        S = to_matrix(scores, "scores", CALLER)
        _same_shape(S.shape, shape)
        dense: FloatArray = S[rows, cols]
        return dense
    got, s_rows, s_cols, s_vals = _stored(scores, "scores")
    _same_shape(got, shape)
    # Both cell lists are unique and sorted row-major, so their flat indices are sorted.
    n_steps = shape[1]
    have, want = s_rows * n_steps + s_cols, rows * n_steps + cols
    pos = np.minimum(np.searchsorted(have, want), max(have.size - 1, 0))
    missing = np.flatnonzero(have[pos] != want) if have.size else np.arange(want.size)
    if missing.size:
        k = int(missing[0])
        raise DataValidationError(
            f"scores passed to {CALLER} is sparse but stores no value at {missing.size} "
            f"flagged cell(s) of is_anomaly (the first at series {rows[k]}, step {cols[k]}); "
            f"store the score of every flagged cell (an unstored score is not taken as 0)."
        )
    out: FloatArray = s_vals[pos]
    return out
