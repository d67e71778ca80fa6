"""Checks of the ``(n_series, n_steps)`` matrices that the monitoring kernels take."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from seawall._validation import check_real, param_error
from seawall.exceptions import DataValidationError

__all__ = ["Smoothing", "to_matrix", "to_periods"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


def to_matrix(values: object, name: str, caller: str) -> FloatArray:
    """Convert a matrix of series to a C-contiguous float64 array; NaN marks a missing value.

    Parameters
    ----------
    values : array-like of shape (n_series, n_steps)
        One row per series, one column per time step.
    name, caller : str
        Used in error messages.

    Returns
    -------
    ndarray of float64, shape (n_series, n_steps)
        The values (a copy when the input was not already float64).

    Raises
    ------
    DataValidationError
        When the input is not two-dimensional, not numeric, empty or holds infinities.

    Examples
    --------
    >>> to_matrix([[1, 2, 3]], "values", "detect")
    array([[1., 2., 3.]])
    """
    try:
        arr = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as e:
        raise DataValidationError(
            f"{name} passed to {caller} must be a numeric matrix of shape (n_series, n_steps); "
            f"it could not be converted to floats ({e})."
        ) from e
    if arr.ndim != 2:
        hint = " Wrap a single series as values[None, :]." if arr.ndim == 1 else ""
        raise DataValidationError(
            f"{name} passed to {caller} must be two-dimensional (n_series, n_steps); "
            f"got an array of shape {arr.shape}.{hint}"
        )
    if arr.shape[0] == 0 or arr.shape[1] == 0:
        raise DataValidationError(
            f"{name} passed to {caller} must hold at least one series and one step; "
            f"got shape {arr.shape}."
        )
    if np.isinf(arr).any():
        i, t = np.argwhere(np.isinf(arr))[0]
        raise DataValidationError(
            f"{name} passed to {caller} holds infinite values (the first at series {i}, "
            f"step {t}); mark missing values with NaN instead."
        )
    return np.ascontiguousarray(arr)


def to_periods(period: object, n_series: int, caller: str) -> IntArray:
    """Check an explicit seasonal period: one int for all series or one per series.

    Parameters
    ----------
    period : int or array-like of int, shape (n_series,)
        The period in steps (``1`` means no season).
    n_series : int
        The number of series.
    caller : str
        Used in error messages.

    Returns
    -------
    ndarray of int64, shape (n_series,)
        The period of each series.

    Raises
    ------
    InvalidParameterError
        When a period is not an int >= 1 or the array has the wrong length.

    Examples
    --------
    >>> to_periods(24, 2, "detect")
    array([24, 24])
    """
    expected = "'auto', an int >= 1 or an array of n_series ints >= 1"
    if isinstance(period, bool | str):
        raise param_error("period", caller, expected, period)
    arr = np.asarray(period)
    if arr.dtype.kind == "f" and np.all(np.isfinite(arr)) and np.all(arr == np.round(arr)):
        arr = arr.astype(np.int64)
    if arr.dtype.kind not in "iu" or arr.ndim > 1 or (arr.size and arr.min() < 1):
        raise param_error("period", caller, expected, period)
    if arr.ndim == 0:
        return np.full(n_series, int(arr), dtype=np.int64)
    if arr.shape[0] != n_series:
        raise param_error(
            "period", caller, f"an array with one period per series ({n_series})", period
        )
    return arr.astype(np.int64)


@dataclass(frozen=True, slots=True)
class Smoothing:
    """The checked smoothing parameters of :func:`~seawall.monitoring.detect`.

    Attributes
    ----------
    level_rate, season_rate, scale_rate, clip : float
        As documented there; ``Smoothing()`` holds its defaults.
    """

    level_rate: float = 0.05
    season_rate: float = 0.15
    scale_rate: float = 0.01
    clip: float = 2.0

    @classmethod
    def check(
        cls, level_rate: object, season_rate: object, scale_rate: object, clip: object, caller: str
    ) -> Smoothing:
        """Check the parameters once, with the shared message template.

        Parameters
        ----------
        level_rate, season_rate, scale_rate, clip : object
            The values passed by the user.
        caller : str
            Used in error messages.

        Returns
        -------
        Smoothing
            The parameters as floats.

        Raises
        ------
        InvalidParameterError
            When a rate is outside its range or ``clip <= 0``.

        Examples
        --------
        >>> Smoothing.check(0.05, 0.15, 0.01, 2.0, "detect").clip
        2.0
        """
        return cls(
            level_rate=check_real(
                level_rate, "level_rate", caller, low=0, high=1, low_open=True, high_open=True
            ),
            season_rate=check_real(
                season_rate, "season_rate", caller, low=0, high=1, high_open=True
            ),
            scale_rate=check_real(
                scale_rate, "scale_rate", caller, low=0, high=1, low_open=True, high_open=True
            ),
            clip=check_real(clip, "clip", caller, low=0, low_open=True),
        )
