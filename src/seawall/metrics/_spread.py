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

__all__ = ["abs_interval", "pairs", "symmetric_ratio_interval"]

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
