"""A mergeable summary of a window's scores: a sorted multiset split by label class.

While a window has at most ``cap`` distinct scores, the sketch holds every one
with its count among rows labelled 0, labelled 1 and not (yet) labelled, so
quantiles, ROC AUC and DeLong's variance are exact and two windows merge into
exactly the sketch of their rows. Past ``cap`` distinct scores it snaps them to
the midpoints of ``GRID`` equal-width bins on [0, 1] (at most ``GRID`` entries):
quantiles are then within ``0.5 / GRID`` and AUC counts two scores in one bin as
a tie. The sums of scores and of their squares stay exact either way.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from seawall.monitoring._drift_sketch import read_only

__all__ = ["GRID", "ScoreSketch", "merge_scores", "score_sketches"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

#: Equal-width bins on [0, 1] a sketch snaps its scores to past its cap.
GRID = 1000


@dataclass(frozen=True, slots=True)
class ScoreSketch:
    """A window's scores: distinct values and their counts per label class.

    Attributes
    ----------
    values : ndarray of float64, shape (k,)
        The distinct scores, increasing (bin midpoints once ``compacted``).
    counts : ndarray of int64, shape (k, 3)
        Rows per value labelled 0, labelled 1 and unlabelled.
    cap : int
        The most distinct values kept exactly.
    compacted : bool
        Whether the values were snapped to the grid.
    total : float
        The exact sum of the scores.
    total_sq : float
        The exact sum of their squares.
    """

    values: FloatArray
    counts: IntArray
    cap: int
    compacted: bool
    total: float
    total_sq: float

    @property
    def n(self) -> int:
        """The number of scored rows."""
        return int(self.counts.sum())

    @classmethod
    def from_scores(cls, scores: FloatArray, label: FloatArray, cap: int) -> ScoreSketch:
        """Summarise one window's scores.

        Parameters
        ----------
        scores : ndarray of float64, shape (n,)
            Probabilities in [0, 1] (no NaN).
        label : ndarray of float64, shape (n,)
            1.0, 0.0 or NaN (unlabelled).
        cap : int
            The most distinct values kept exactly.

        Returns
        -------
        ScoreSketch
            The sketch.

        Examples
        --------
        >>> s = ScoreSketch.from_scores(np.array([0.7, 0.2, 0.7]),
        ...                             np.array([1.0, 0.0, np.nan]), 10)
        >>> s.values.tolist(), s.counts.tolist()
        ([0.2, 0.7], [[1, 0, 0], [0, 1, 1]])
        """
        state = np.zeros(scores.size, dtype=np.intp)
        return score_sketches(state, scores, label, 1, cap)[0]

    def merge(self, other: ScoreSketch) -> ScoreSketch:
        """The sketch of both windows' rows together.

        Parameters
        ----------
        other : ScoreSketch
            Another window's sketch.

        Returns
        -------
        ScoreSketch
            Equal to the sketch of the concatenated rows while the result has
            at most ``min(cap)`` distinct values and neither was compacted.

        Examples
        --------
        >>> a = ScoreSketch.from_scores(np.array([0.5]), np.array([1.0]), 10)
        >>> a.merge(a).counts.tolist()
        [[0, 2, 0]]
        """
        return merge_scores([self, other])


def merge_scores(sketches: list[ScoreSketch]) -> ScoreSketch:
    """The sketch of several windows' rows together, in one pass.

    Parameters
    ----------
    sketches : list of ScoreSketch
        At least one.

    Returns
    -------
    ScoreSketch
        The same as merging them two by two: snapping to the grid commutes
        with the union, so compacting once at the end (when any was compacted,
        or the union has more than the smallest ``cap`` distinct values) equals
        compacting on the way.

    Examples
    --------
    >>> a = ScoreSketch.from_scores(np.array([0.5, 0.2]), np.array([1.0, np.nan]), 10)
    >>> merge_scores([a, a, a]).counts.tolist()
    [[0, 0, 3], [0, 3, 0]]
    """
    if len(sketches) == 1:
        return sketches[0]
    return _normalise(
        np.concatenate([s.values for s in sketches]),
        np.concatenate([s.counts for s in sketches]),
        min(s.cap for s in sketches),
        any(s.compacted for s in sketches),
        sum(s.total for s in sketches),
        sum(s.total_sq for s in sketches),
    )


def _snap(values: FloatArray) -> FloatArray:
    """The midpoint of the grid bin of each value."""
    idx = np.minimum(np.floor(values * GRID), GRID - 1)
    return (idx + 0.5) / GRID


def _normalise(
    values: FloatArray, counts: IntArray, cap: int, compacted: bool, total: float, total_sq: float
) -> ScoreSketch:
    """Sort, merge equal values, and snap to the grid when past ``cap`` (or already)."""
    order = np.argsort(values, kind="stable")
    values, counts = values[order], counts[order]
    new = np.ones(values.size, dtype=bool)
    new[1:] = values[1:] != values[:-1]
    if compacted or int(new.sum()) > cap:
        compacted = True
        values = _snap(values)
        new[1:] = values[1:] != values[:-1]
    starts = np.flatnonzero(new)
    merged = np.add.reduceat(counts, starts, axis=0) if starts.size else counts[:0]
    return ScoreSketch(
        read_only(values[starts].copy()),
        read_only(merged.astype(np.int64)),
        cap,
        compacted,
        float(total),
        float(total_sq),
    )


def score_sketches(
    state: npt.NDArray[np.intp], scores: FloatArray, label: FloatArray, n_states: int, cap: int
) -> list[ScoreSketch]:
    """The sketch of every state's scored rows at once (one sort, no loop over rows).

    Parameters
    ----------
    state : ndarray of intp, shape (n,)
        Each scored row's state in ``range(n_states)``.
    scores : ndarray of float64, shape (n,)
        Its score in [0, 1] (no NaN).
    label : ndarray of float64, shape (n,)
        Its label: 1.0, 0.0 or NaN.
    n_states : int
        The number of states; a state without rows gets an empty sketch.
    cap : int
        The most distinct values a sketch keeps exactly.

    Returns
    -------
    list of ScoreSketch
        One per state.

    Examples
    --------
    >>> sk = score_sketches(np.array([1, 0, 1]), np.array([0.3, 0.9, 0.3]),
    ...                     np.array([0.0, 1.0, np.nan]), 2, 10)
    >>> [s.counts.tolist() for s in sk]
    [[[0, 1, 0]], [[1, 0, 1]]]
    """
    cls = np.where(np.isnan(label), 2, label).astype(np.intp)
    if state.size and np.all(state[1:] >= state[:-1]):
        # Rows already grouped by state: sorting each state's slice beats one lexsort.
        cuts = np.searchsorted(state, np.arange(n_states + 1)).tolist()
        parts = [lo + np.argsort(scores[lo:hi]) for lo, hi in zip(cuts[:-1], cuts[1:], strict=True)]
        order = np.concatenate(parts) if parts else np.zeros(0, dtype=np.intp)
    else:
        order = np.lexsort((scores, state))
    s, st, c = scores[order], state[order], cls[order]
    new = np.ones(s.size, dtype=bool)
    new[1:] = (s[1:] != s[:-1]) | (st[1:] != st[:-1])
    entry = np.cumsum(new) - 1
    n_entries = int(new.sum())
    counts = np.bincount(entry * 3 + c, minlength=n_entries * 3).reshape(n_entries, 3)
    counts = counts.astype(np.int64)
    values = s[new]
    bounds = np.searchsorted(st[new], np.arange(n_states + 1), side="left")
    total = np.bincount(state, weights=scores, minlength=n_states)
    total_sq = np.bincount(state, weights=scores * scores, minlength=n_states)
    read_only(values)
    read_only(counts)
    out = []
    for g in range(n_states):
        lo, hi = bounds[g], bounds[g + 1]
        if hi - lo > cap:
            out.append(_normalise(values[lo:hi], counts[lo:hi], cap, True, total[g], total_sq[g]))
        else:
            out.append(
                ScoreSketch(
                    values[lo:hi], counts[lo:hi], cap, False, float(total[g]), float(total_sq[g])
                )
            )
    return out
