"""Kernels of NAB's scoring at one threshold and of its sweep over every threshold.

The score of a file at threshold ``t`` follows ``Sweeper.calcScoreByThreshold`` of
NAB v1.1 (``nab/sweeper.py``): among the rows past the probationary period, those
with an anomaly score ``>= t`` are detections; each detection outside a window adds
its (negative) ``sweepScore``; each window adds the largest ``sweepScore`` of its
detections (its earliest one), or ``-fnWeight`` when it has none.

NAB computes the corpus score at every distinct anomaly score by walking the rows
from the highest score down. :func:`sweep_scores` does the same walk with numpy:
one stable sort, a cumulative sum of the false-positive scores, and a per-window
running maximum turned into score increments. The kernels assume valid input.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import numpy.typing as npt

__all__ = ["NEVER_THRESHOLD", "FileOutcome", "file_outcome", "sweep_scores"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.intp]

NEVER_THRESHOLD = 1.1
"""NAB's starting threshold, above every score in [0, 1]: nothing is detected."""


class FileOutcome(NamedTuple):
    """A file's NAB score at one threshold, with NAB's row counts."""

    score: float
    tp: int
    fp: int
    fn: int
    tn: int
    n_detected_windows: int


def file_outcome(
    y_score: FloatArray,
    row_window: IntArray,
    sweep_score: FloatArray,
    n_windows: int,
    fn_weight: float,
    threshold: float,
) -> FileOutcome:
    """Score one file's scorable rows at one threshold.

    Parameters
    ----------
    y_score : ndarray of float64, shape (n,)
        Anomaly scores of the rows past the probationary period.
    row_window : ndarray of intp, shape (n,)
        Each row's window (``0 .. n_windows - 1``), or -1 outside.
    sweep_score : ndarray of float64, shape (n,)
        NAB's weighted score of a detection at each row.
    n_windows : int
        The file's number of windows.
    fn_weight : float
        The cost of a missed window.
    threshold : float
        A row is a detection when ``y_score >= threshold``.

    Returns
    -------
    FileOutcome
        The score, and NAB's counts of rows: ``tp`` (detections in windows),
        ``fp`` (detections outside), ``fn`` and ``tn`` (the rest, in and outside
        windows); and the number of windows with at least one detection.

    Examples
    --------
    >>> out = file_outcome(np.array([0.9, 0.2, 0.8]), np.array([-1, 0, 0]),
    ...                    np.array([-0.11, 1.0, 0.6]), 1, 1.0, 0.5)
    >>> round(out.score, 2), out.tp, out.fp, out.fn, out.tn
    (0.49, 1, 1, 1, 0)
    """
    detected = y_score >= threshold
    inside = row_window >= 0
    fp_rows = detected & ~inside
    tp_rows = detected & inside
    fp_score = float(sweep_score[fp_rows].sum())
    # A window counts only when it has a scorable row (NAB builds its score parts
    # from the scorable rows); the earliest detection has the largest sweepScore.
    counted = np.bincount(row_window[inside], minlength=n_windows) > 0
    best = np.full(n_windows, -np.inf)
    np.maximum.at(best, row_window[tp_rows], sweep_score[tp_rows])
    contribution = np.maximum(-fn_weight, best[counted])
    return FileOutcome(
        score=fp_score + float(contribution.sum()),
        tp=int(tp_rows.sum()),
        fp=int(fp_rows.sum()),
        fn=int((inside & ~detected).sum()),
        tn=int((~inside & ~detected).sum()),
        n_detected_windows=int(np.isfinite(best).sum()),
    )


def sweep_scores(
    y_score: FloatArray,
    window_id: IntArray,
    sweep_score: FloatArray,
    n_windows: int,
    fn_weight: float,
) -> tuple[FloatArray, FloatArray]:
    """The corpus score at every threshold NAB's optimiser tries.

    Parameters
    ----------
    y_score : ndarray of float64, shape (n,)
        Anomaly scores of every scorable row of every file, concatenated.
    window_id : ndarray of intp, shape (n,)
        Each row's window, numbered across the corpus (``0 .. n_windows - 1``), or
        -1 outside every window. Every window must own at least one row.
    sweep_score : ndarray of float64, shape (n,)
        NAB's weighted score of a detection at each row.
    n_windows : int
        The corpus's number of windows.
    fn_weight : float
        The cost of a missed window.

    Returns
    -------
    thresholds : ndarray of float64, shape (n_distinct + 1,)
        :data:`NEVER_THRESHOLD`, then every distinct score, decreasing.
    scores : ndarray of float64, shape (n_distinct + 1,)
        The corpus score when the rows scoring ``>= threshold`` are detections.

    Examples
    --------
    >>> t, s = sweep_scores(np.array([0.9, 0.2, 0.8]), np.array([-1, 0, 0]),
    ...                     np.array([-0.11, 1.0, 0.6]), 1, 1.0)
    >>> t.tolist(), s.round(2).tolist()
    ([1.1, 0.9, 0.8, 0.2], [-1.0, -1.11, 0.49, 0.89])
    """
    n = y_score.size
    base = -fn_weight * n_windows
    if n == 0:
        return np.array([NEVER_THRESHOLD]), np.array([base])
    # NAB sorts with sorted(..., reverse=True), which keeps ties in input order.
    order = np.argsort(-y_score, kind="stable")
    s_sorted = y_score[order]
    g_sorted = window_id[order]
    v_sorted = sweep_score[order]
    fp_increment = np.where(g_sorted < 0, v_sorted, 0.0)

    win_increment = np.zeros(n)
    pos = np.flatnonzero(g_sorted >= 0)
    if pos.size:
        # Group the window rows by window, keeping the sweep order inside each group.
        by_group = np.argsort(g_sorted[pos], kind="stable")
        rows = pos[by_group]
        group = g_sorted[rows].astype(np.int64)
        values, rank = np.unique(v_sorted[rows], return_inverse=True)
        # Running maximum inside each group, exactly, on integer keys: every key of
        # window g + 1 exceeds every key of window g, so the maximum restarts per group.
        key = group * values.size + rank.reshape(-1)
        running = values[np.maximum.accumulate(key) - group * values.size]
        part = np.maximum(-fn_weight, running)  # NAB: max(scoreParts[window], sweepScore)
        first = np.r_[True, group[1:] != group[:-1]]
        previous = np.where(first, -fn_weight, np.r_[0.0, part[:-1]])
        # Zero (exactly) when the window's best detection did not change.
        win_increment[rows] = part - previous

    total = np.cumsum(fp_increment) + (base + np.cumsum(win_increment))
    # The score at a threshold counts every row scoring >= it: read the running
    # total at the last row of each run of equal scores.
    last = np.flatnonzero(np.r_[s_sorted[1:] != s_sorted[:-1], True])
    thresholds = np.r_[NEVER_THRESHOLD, s_sorted[last]]
    scores = np.r_[base, total[last]]
    return thresholds.astype(np.float64), scores.astype(np.float64)
