"""Kernels of NAB's per-row scoring: the probationary period and the scaled sigmoid.

These follow ``nab/sweeper.py`` of NAB v1.1 (``Sweeper.calcSweepScore`` and
``scaledSigmoid``) and ``nab/util.py`` (``getProbationPeriod``). They are pure
functions over numpy arrays and assume valid input: the public constructors in
``_nab_corpus`` check it.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

__all__ = [
    "PROBATIONARY_PERCENT",
    "probationary_length",
    "row_factors",
    "scaled_sigmoid",
    "weighted_row_scores",
]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.intp]

PROBATIONARY_PERCENT = 0.15
"""The share of each file NAB leaves unscored (``Runner.probationaryPercent``)."""


def probationary_length(n_rows: int) -> int:
    """The number of leading rows of a file that NAB does not score.

    NAB's ``getProbationPeriod``: ``min(floor(0.15 * n_rows), 0.15 * 5000)``, so at
    most 750 rows.

    Parameters
    ----------
    n_rows : int
        The file's number of rows.

    Returns
    -------
    int
        The probationary length; rows ``0 .. length - 1`` are ignored.

    Examples
    --------
    >>> probationary_length(4032), probationary_length(22695), probationary_length(20)
    (604, 750, 3)
    """
    # The same float arithmetic as NAB (0.15 * n, not 15 * n / 100), so that the
    # rounding of floor agrees with it on every length.
    return int(min(math.floor(PROBATIONARY_PERCENT * n_rows), PROBATIONARY_PERCENT * 5000))


def scaled_sigmoid(x: FloatArray) -> FloatArray:
    """NAB's ``scaledSigmoid``: ``2 / (1 + exp(5 x)) - 1``, and -1 beyond ``x > 3``.

    Parameters
    ----------
    x : ndarray of float64, shape (n,)
        Relative positions: -1 at a window's left edge, 0 just past its right
        edge, positive after it (in window lengths).

    Returns
    -------
    ndarray of float64, shape (n,)
        Values in [-1, 1).

    Examples
    --------
    >>> scaled_sigmoid(np.array([-1.0, 0.0, 1.0, 4.0])).round(5)
    array([ 0.98661,  0.     , -0.98661, -1.     ])
    """
    x = np.asarray(x, dtype=np.float64)
    # 2 * sigmoid(-5 x) - 1 in NAB's order of operations; clip before exp so that a
    # far false positive (replaced by -1 anyway) cannot overflow.
    sig = 1.0 / (1.0 + np.exp(5.0 * np.minimum(x, 3.0)))
    return np.where(x > 3.0, -1.0, 2.0 * sig - 1.0)


MAX_TP = float(scaled_sigmoid(np.array([-1.0]))[0])
"""``scaledSigmoid(-1.0)``: the reward of a detection at a window's first row, before
NAB divides by it so that this reward becomes exactly ``tpWeight``."""


def row_factors(n_rows: int, starts: IntArray, ends: IntArray) -> tuple[IntArray, FloatArray]:
    """Each row's window and its unweighted NAB score if it were a detection.

    Inside a window of rows ``[s, e]`` (width ``w = e - s + 1``) a detection at row
    ``i`` scores ``scaledSigmoid(-(e - i + 1) / w)`` (before the true-positive
    weight). Outside every window it scores ``scaledSigmoid((i - e) / (w - 1))``
    after a window ending at ``e``, and -1 before the first window. These are
    ``Sweeper.calcSweepScore``'s rules.

    Parameters
    ----------
    n_rows : int
        The file's number of rows.
    starts, ends : ndarray of intp, shape (n_windows,)
        Each window's first and last row; sorted, disjoint, ``ends - starts >= 1``
        (assumed, not checked).

    Returns
    -------
    row_window : ndarray of intp, shape (n_rows,)
        The window holding each row, or -1 outside every window.
    factor : ndarray of float64, shape (n_rows,)
        The unweighted score of a detection at each row.

    Examples
    --------
    >>> w, f = row_factors(6, np.array([1]), np.array([3]))
    >>> w.tolist(), f.round(3).tolist()
    ([-1, 0, 0, 0, -1, -1], [-1.0, 0.987, 0.931, 0.682, -0.848, -0.987])
    """
    rows = np.arange(n_rows)
    if starts.size == 0:
        return np.full(n_rows, -1, dtype=np.intp), np.full(n_rows, -1.0)
    k = np.searchsorted(starts, rows, side="right") - 1  # the window starting last at or before i
    seen = k >= 0
    kk = np.where(seen, k, 0)
    right = ends[kk]
    width = (ends - starts + 1).astype(np.float64)[kk]
    inside = seen & (rows <= right)
    after = seen & ~inside
    factor = np.full(n_rows, -1.0)
    # NAB: positionInWindow = -(curWindowRightIndex - i + 1) / curWindowWidth
    factor[inside] = scaled_sigmoid(-(right[inside] - rows[inside] + 1) / width[inside])
    # NAB: positionPastWindow = abs(prevWindowRightIndex - i) / (prevWindowWidth - 1)
    factor[after] = scaled_sigmoid(np.abs(right[after] - rows[after]) / (width[after] - 1.0))
    return np.where(inside, k, -1).astype(np.intp), factor


def weighted_row_scores(
    row_window: IntArray, factor: FloatArray, tp_weight: float, fp_weight: float
) -> FloatArray:
    """Apply a profile's weights: NAB's ``sweepScore`` of every row.

    Parameters
    ----------
    row_window : ndarray of intp, shape (n_rows,)
        The window of each row, -1 outside (from :func:`row_factors`).
    factor : ndarray of float64, shape (n_rows,)
        The unweighted scores (from :func:`row_factors`).
    tp_weight, fp_weight : float
        The profile's weights.

    Returns
    -------
    ndarray of float64, shape (n_rows,)
        ``factor * tp_weight / scaledSigmoid(-1)`` inside windows (so a detection at
        a window's first row earns exactly ``tp_weight``), ``factor * fp_weight``
        outside.

    Examples
    --------
    >>> w, f = row_factors(4, np.array([1]), np.array([2]))
    >>> weighted_row_scores(w, f, 1.0, 0.11).round(4).tolist()
    [-0.11, 1.0, 0.8598, -0.1085]
    """
    # NAB: weightedScore = unweightedScore * self.tpWeight / maxTP
    return np.where(row_window >= 0, factor * tp_weight / MAX_TP, factor * fp_weight)
