"""Runs of consecutive flagged steps: the unit that incidents are built from."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

__all__ = ["Runs", "find_runs", "run_index", "runs_from_cells"]

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True, slots=True)
class Runs:
    """Maximal runs of ``True`` in each row of a boolean matrix (internal).

    Attributes
    ----------
    series : ndarray of int64, shape (n_runs,)
        The row of each run.
    start, end : ndarray of int64, shape (n_runs,)
        Its first and last step (inclusive).

    Runs are sorted by series, then start.
    """

    series: IntArray
    start: IntArray
    end: IntArray

    @property
    def length(self) -> IntArray:
        """Steps in each run."""
        out: IntArray = self.end - self.start + 1
        return out

    def __len__(self) -> int:
        return int(self.series.size)


def find_runs(mask: BoolArray) -> Runs:
    """Every maximal run of consecutive ``True`` steps, row by row, vectorised.

    Parameters
    ----------
    mask : ndarray of bool, shape (n_series, n_steps)
        Flagged steps.

    Returns
    -------
    Runs
        One entry per run, sorted by row then start.

    Examples
    --------
    >>> r = find_runs(np.array([[0, 1, 1, 0, 1], [1, 0, 0, 0, 0]], dtype=bool))
    >>> r.series.tolist(), r.start.tolist(), r.end.tolist()
    ([0, 0, 1], [1, 4, 0], [2, 4, 0])
    """
    n_series, n_steps = mask.shape
    padded = np.zeros((n_series, n_steps + 2), dtype=np.int8)
    padded[:, 1:-1] = mask
    diff = np.diff(padded, axis=1)
    rows_s, starts = np.nonzero(diff == 1)
    _, ends = np.nonzero(diff == -1)
    # np.nonzero walks row-major, so starts and ends pair up in order.
    return Runs(
        series=rows_s.astype(np.int64),
        start=starts.astype(np.int64),
        end=(ends - 1).astype(np.int64),
    )


def runs_from_cells(rows: IntArray, cols: IntArray) -> Runs:
    """Every maximal run of consecutive flagged steps, from the flagged cells alone.

    The sparse twin of :func:`find_runs`: ``runs_from_cells(*np.nonzero(mask))``
    equals ``find_runs(mask)`` without the ``(n_series, n_steps)`` mask ever being
    built. A kernel: the cells are assumed valid (see below).

    Parameters
    ----------
    rows, cols : ndarray of int64, shape (n_cells,)
        The series and step of every flagged cell, unique and sorted row-major (by
        series, then step), as :func:`numpy.nonzero` gives them.

    Returns
    -------
    Runs
        One entry per run, sorted by row then start.

    Examples
    --------
    The cells of the mask in :func:`find_runs`'s example give the same runs:

    >>> r = runs_from_cells(np.array([0, 0, 0, 1]), np.array([1, 2, 4, 0]))
    >>> r.series.tolist(), r.start.tolist(), r.end.tolist()
    ([0, 0, 1], [1, 4, 0], [2, 4, 0])
    """
    rows = np.asarray(rows, dtype=np.int64)
    cols = np.asarray(cols, dtype=np.int64)
    # A cell opens a run unless it directly follows the previous cell in its row.
    opens = np.ones(rows.size, dtype=bool)
    opens[1:] = (rows[1:] != rows[:-1]) | (cols[1:] != cols[:-1] + 1)
    closes = np.ones(rows.size, dtype=bool)
    closes[:-1] = opens[1:]
    return Runs(series=rows[opens], start=cols[opens], end=cols[closes])


def run_index(mask: BoolArray) -> IntArray:
    """For every step, the step at which its run of ``True`` started (-1 outside runs).

    Parameters
    ----------
    mask : ndarray of bool, shape (n_series, n_steps)
        Steps in runs.

    Returns
    -------
    ndarray of int64, shape (n_series, n_steps)
        The start of the current run, or -1 where ``mask`` is False.

    Examples
    --------
    >>> run_index(np.array([[0, 1, 1, 0, 1, 1, 1]], dtype=bool)).tolist()
    [[-1, 1, 1, -1, 4, 4, 4]]
    """
    n_series, n_steps = mask.shape
    prev = np.zeros_like(mask)
    prev[:, 1:] = mask[:, :-1]
    starts = mask & ~prev
    steps = np.broadcast_to(np.arange(n_steps, dtype=np.int64), mask.shape)
    last = np.maximum.accumulate(np.where(starts, steps, -1), axis=1)
    out: IntArray = np.where(mask, last, -1)
    return out
