"""Intervals for absolute gaps and for the spread (highest minus lowest) of groups.

A gap ``|d|`` lies in the absolute image of an interval for ``d``; the spread of
several groups is the largest pairwise gap, so simultaneous (Bonferroni)
intervals for every pair bound it. Unlike a percentile bootstrap of the spread,
which never covers a true spread of zero, these intervals keep their level.
Pure kernels; inputs are assumed valid.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

__all__ = ["abs_interval", "extremes", "max_interval", "pairs", "symmetric_ratio_interval"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.intp]


def abs_interval(lower: FloatArray, upper: FloatArray) -> tuple[FloatArray, FloatArray]:
    """The interval for ``|d|`` implied by an interval ``[lower, upper]`` for ``d``.

    Parameters
    ----------
    lower, upper : ndarray of float64
        Bounds for ``d``, elementwise.

    Returns
    -------
    lower, upper : ndarray of float64
        Bounds for ``|d|``: ``[0, max(|l|, |u|)]`` when the interval holds 0.

    Examples
    --------
    >>> lo, hi = abs_interval(np.array([-0.1, 0.2]), np.array([0.3, 0.5]))
    >>> lo.tolist(), hi.tolist()
    ([0.0, 0.2], [0.3, 0.5])
    """
    a, b = np.abs(lower), np.abs(upper)
    straddles = (lower <= 0) & (upper >= 0)
    return np.where(straddles, 0.0, np.minimum(a, b)), np.maximum(a, b)


def symmetric_ratio_interval(lower: FloatArray, upper: FloatArray) -> tuple[FloatArray, FloatArray]:
    """The interval for ``min(r, 1/r)`` implied by an interval for a ratio ``r > 0``.

    Parameters
    ----------
    lower, upper : ndarray of float64
        Positive bounds for ``r``.

    Returns
    -------
    lower, upper : ndarray of float64
        Bounds for ``min(r, 1/r)``, within (0, 1].

    Examples
    --------
    >>> lo, hi = symmetric_ratio_interval(np.array([0.5]), np.array([1.6]))
    >>> lo.tolist(), hi.tolist()
    ([0.5], [1.0])
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        a, b = abs_interval(np.log(lower), np.log(upper))
    return np.exp(-b), np.exp(-a)


def pairs(groups: IntArray) -> tuple[IntArray, IntArray]:
    """Every unordered pair of the given groups.

    Parameters
    ----------
    groups : ndarray of intp, shape (k,)
        Group indices.

    Returns
    -------
    first, second : ndarray of intp, shape (k * (k - 1) / 2,)
        The pairs.

    Examples
    --------
    >>> a, b = pairs(np.array([0, 2, 5]))
    >>> list(zip(a.tolist(), b.tolist()))
    [(0, 2), (0, 5), (2, 5)]
    """
    i, j = np.triu_indices(groups.size, k=1)
    return groups[i], groups[j]


def max_interval(
    lower: FloatArray, upper: FloatArray, *, smallest: bool = False
) -> tuple[FloatArray, FloatArray]:
    """Bounds of the largest (or smallest) of quantities with simultaneous bounds, along axis 0.

    Parameters
    ----------
    lower, upper : ndarray of float64, shape (k, ...)
        Simultaneous bounds of ``k`` quantities (per column); NaN entries are ignored.
    smallest : bool, default=False
        Bound the smallest instead of the largest.

    Returns
    -------
    lower, upper : ndarray of float64, shape (...)
        ``[max lower, max upper]`` (or ``[min lower, min upper]``) over axis 0; NaN
        where no entry is finite.

    Examples
    --------
    >>> lo, hi = max_interval(np.array([0.0, 0.1]), np.array([0.3, 0.2]))
    >>> float(lo), float(hi)
    (0.1, 0.3)
    """
    ok = np.isfinite(lower) & np.isfinite(upper)
    fill = np.inf if smallest else -np.inf
    pick = np.min if smallest else np.max
    if lower.shape[0] == 0:
        nan = np.full(lower.shape[1:], np.nan)
        return nan, nan.copy()
    lo = pick(np.where(ok, lower, fill), axis=0)
    hi = pick(np.where(ok, upper, fill), axis=0)
    none = ~ok.any(axis=0)
    return np.where(none, np.nan, lo), np.where(none, np.nan, hi)


def extremes(
    values: FloatArray, keep: IntArray
) -> tuple[IntArray, IntArray, npt.NDArray[np.bool_]]:
    """Per column, the kept groups with the lowest and highest finite value.

    Parameters
    ----------
    values : ndarray of float64, shape (n_groups, m)
        A value per group and column.
    keep : ndarray of intp, shape (k,)
        The groups that count.

    Returns
    -------
    lowest, highest : ndarray of intp, shape (m,)
        Group indices (meaningless where not ``defined``).
    defined : ndarray of bool, shape (m,)
        Where at least two kept groups have a finite value.

    Examples
    --------
    >>> lo, hi, ok = extremes(np.array([[0.2, np.nan], [0.5, 1.0], [0.1, 2.0]]),
    ...                       np.array([0, 1]))
    >>> lo.tolist(), hi.tolist(), ok.tolist()
    ([0, 1], [1, 1], [True, False])
    """
    v = values[keep]
    finite = np.isfinite(v)
    if keep.size == 0:
        m = values.shape[1]
        zero = np.zeros(m, dtype=np.intp)
        return zero, zero.copy(), np.zeros(m, dtype=bool)
    lowest = keep[np.argmin(np.where(finite, v, np.inf), axis=0)]
    highest = keep[np.argmax(np.where(finite, v, -np.inf), axis=0)]
    return lowest, highest, finite.sum(axis=0) >= 2
