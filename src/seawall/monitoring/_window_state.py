"""The mergeable state of one model in one time window: count tables and sketches.

Every metric of :func:`~seawall.monitoring._window_metrics.metric_points` is a
function of these states (and of each model's reference profile), never of the
rows, so two hourly states merge into a two-hour state without reading the rows
again: counts and sums add, sketches merge.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from seawall._validation import param_error
from seawall.exceptions import DataValidationError
from seawall.monitoring._drift_sketch import WindowSummary, read_only
from seawall.monitoring._score_sketch import ScoreSketch, merge_scores
from seawall.monitoring._sketch_merge import merge_summaries, union_counts

__all__ = [
    "GroupCounts",
    "ReferenceProfile",
    "WindowState",
    "WindowStates",
    "merge_all",
    "merge_groups",
    "model_spans",
    "utc_ns",
]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True, slots=True)
class GroupCounts:
    """Per group of one sensitive attribute: rows, positive decisions and TPR counts.

    Attributes
    ----------
    groups : tuple
        The groups seen in the window.
    counts : ndarray of int64, shape (n_groups, 4)
        Per group: rows, positive decisions, rows labelled positive, and rows
        labelled positive with a positive decision (read-only).
    """

    groups: tuple[Any, ...]
    counts: IntArray

    def merge(self, other: GroupCounts) -> GroupCounts:
        """The counts of both windows (groups are unioned).

        Parameters
        ----------
        other : GroupCounts
            The same attribute's counts in another window.

        Returns
        -------
        GroupCounts
            The groups of ``self``, then the new ones of ``other``.

        Examples
        --------
        >>> a = GroupCounts(("F",), np.array([[4, 1, 2, 1]]))
        >>> b = GroupCounts(("M", "F"), np.array([[3, 3, 1, 1], [1, 0, 0, 0]]))
        >>> m = a.merge(b)
        >>> m.groups, m.counts.tolist()
        (('F', 'M'), [[5, 1, 2, 1], [3, 3, 1, 1]])
        """
        return merge_groups([self, other])


def merge_groups(tables: list[GroupCounts]) -> GroupCounts:
    """The counts of several windows of one attribute (groups in order of first appearance).

    Parameters
    ----------
    tables : list of GroupCounts
        At least one.

    Returns
    -------
    GroupCounts
        Their sum.

    Examples
    --------
    >>> a = GroupCounts(("F",), np.array([[4, 1, 2, 1]]))
    >>> merge_groups([a, a]).counts.tolist()
    [[8, 2, 4, 2]]
    """
    if len(tables) == 1:
        return tables[0]
    return GroupCounts(*union_counts([t.groups for t in tables], [t.counts for t in tables]))


@dataclass(frozen=True, slots=True)
class ReferenceProfile:
    """What a model's windows are compared with: its reference rows, summarised.

    Attributes
    ----------
    model : str
        The model.
    summary : WindowSummary
        The reference's features (the score last, when there is one): its
        numeric bins, ranges (``minimum``/``maximum``) and categories.
    calibration : tuple of two ndarray of float64, or None
        The isotonic map ``(x, y)`` from score to calibrated probability
        (applied by linear interpolation), learned on the reference's labelled
        rows; ``None`` when scores are taken as calibrated.
    n_rows : int
        The reference rows.
    """

    model: str
    summary: WindowSummary
    calibration: tuple[FloatArray, FloatArray] | None
    n_rows: int


@dataclass(frozen=True, slots=True)
class WindowState:
    """Mergeable counts and sketches of one model's rows in one time window.

    Attributes
    ----------
    model : str
        The model.
    start, end : pandas.Timestamp
        The window ``[start, end)``; a merged state spans its parts.
    n_rows : int
        The rows logged.
    n_positive : int
        Rows with a positive decision.
    confusion : ndarray of int64, shape (4,)
        Labelled rows as ``[TN, FP, FN, TP]``.
    scores : ScoreSketch or None
        The scores (``None`` without a score column).
    calibration : ndarray of float64, shape (5, 2, n_calibration_bins), or None
        Labelled scored rows per class (negatives first) and equal-width score
        bin: rows and the sums of ``s``, ``s**2``, ``s**3``, ``s**4``.
    expected : ndarray of float64, shape (3,), or None
        Confidence-based performance estimation sums over scored rows: rows,
        ``sum c`` and ``sum c (1 - c)`` with ``c`` the (calibrated) probability
        that the decision is right.
    features : WindowSummary
        The features (and the score) on the reference's bins.
    out_of_range : ndarray of int64, shape (n_features,)
        Per feature, values outside the reference's ``[minimum, maximum]``
        (0 for categorical features).
    fairness : tuple of GroupCounts
        One per sensitive attribute.
    """

    model: str
    start: pd.Timestamp
    end: pd.Timestamp
    n_rows: int
    n_positive: int
    confusion: IntArray
    scores: ScoreSketch | None
    calibration: FloatArray | None
    expected: FloatArray | None
    features: WindowSummary
    out_of_range: IntArray
    fairness: tuple[GroupCounts, ...]

    def merge(self, other: WindowState) -> WindowState:
        """The state of both windows' rows together, without reading them again.

        Parameters
        ----------
        other : WindowState
            A state of the same model built against the same reference.

        Returns
        -------
        WindowState
            Spanning ``[min(start), max(end))``: counts and sums added, sketches
            merged. Metrics read off it equal those of the rows of both windows
            (exactly for counts and rates; scores within their sketch's grid once
            it is compacted).

        Raises
        ------
        DataValidationError
            When the models, features, bins or sensitive attributes differ.

        Examples
        --------
        >>> import pandas as pd
        >>> from seawall.monitoring._summarize_windows import window_states
        >>> logs = pd.DataFrame({"time": pd.date_range("2024-01-01", periods=4, freq="30min"),
        ...                      "model": "m", "prediction": [1, 0, 1, 1]})
        >>> states = window_states(logs, every="1h", score_col=None, label_col=None)
        >>> a, b = states.states
        >>> merged = a.merge(b)
        >>> merged.n_rows, merged.n_positive, str(merged.end)
        (4, 3, '2024-01-01 02:00:00')
        """
        return merge_all([self, other])


def _sum(arrays: list[FloatArray | None], model: str) -> FloatArray | None:
    """The sum of optional arrays (None when any is None)."""
    if any(a is None for a in arrays):
        return None
    present = [a for a in arrays if a is not None]
    if len({a.shape for a in present}) > 1:
        raise DataValidationError(
            f"cannot merge states of model {model!r} with score bins of different shapes; "
            f"build them with the same n_calibration_bins."
        )
    return read_only(np.sum(present, axis=0))


def merge_all(states: list[WindowState]) -> WindowState:
    """Merge the states of one model's windows, all at once.

    Parameters
    ----------
    states : list of WindowState
        At least one, of one model, built against the same reference.

    Returns
    -------
    WindowState
        As merging them two by two (:meth:`WindowState.merge`), in one pass:
        counts and sums added, sketches merged once.

    Raises
    ------
    DataValidationError
        When the models, features, bins or sensitive attributes differ.

    Examples
    --------
    >>> import pandas as pd
    >>> from seawall.monitoring._summarize_windows import window_states
    >>> logs = pd.DataFrame({"time": pd.date_range("2024-01-01", periods=3, freq="1h"),
    ...                      "model": "m", "prediction": [1, 0, 1]})
    >>> merge_all(list(window_states(logs, every="1h", score_col=None,
    ...                              label_col=None).states)).n_rows
    3
    """
    first = states[0]
    if len(states) == 1:
        return first
    models = sorted({s.model for s in states})
    if len(models) > 1:
        raise DataValidationError(
            f"cannot merge the states of different models ({models[:5]}); merge windows of "
            f"one model only."
        )
    if len({len(s.fairness) for s in states}) > 1 or len({s.scores is None for s in states}) > 1:
        raise DataValidationError(
            f"cannot merge states of model {first.model!r} built from different columns "
            f"(scores or sensitive attributes differ); build them with the same options."
        )
    scores = [s.scores for s in states if s.scores is not None]
    return WindowState(
        model=first.model,
        start=min(s.start for s in states),
        end=max(s.end for s in states),
        n_rows=sum(s.n_rows for s in states),
        n_positive=sum(s.n_positive for s in states),
        confusion=read_only(np.sum([s.confusion for s in states], axis=0)),
        scores=merge_scores(scores) if scores else None,
        calibration=_sum([s.calibration for s in states], first.model),
        expected=_sum([s.expected for s in states], first.model),
        features=merge_summaries([s.features for s in states]),
        out_of_range=read_only(np.sum([s.out_of_range for s in states], axis=0)),
        fairness=tuple(
            merge_groups([s.fairness[a] for s in states]) for a in range(len(first.fairness))
        ),
    )


@dataclass(frozen=True, slots=True)
class WindowStates:
    """Every model's window states, with the references they were built against.

    Attributes
    ----------
    states : tuple of WindowState
        Sorted by model, then window start; windows without rows have none.
    references : tuple of ReferenceProfile
        Each model's reference, sorted by model (see :meth:`reference`).
    every : int
        The window length in nanoseconds.
    tz : str or None
        The time zone of the input times.
    sensitive : tuple of str
        The sensitive attributes, in the order of each state's ``fairness``.
    has_scores, has_labels : bool
        Whether the logs had a score and a label column.
    """

    states: tuple[WindowState, ...]
    references: tuple[ReferenceProfile, ...]
    every: int
    tz: str | None
    sensitive: tuple[str, ...]
    has_scores: bool
    has_labels: bool

    def reference(self, model: str) -> ReferenceProfile:
        """The reference profile of one model.

        Parameters
        ----------
        model : str
            The model.

        Returns
        -------
        ReferenceProfile
            Its reference.

        Raises
        ------
        KeyError
            When the model has none.
        """
        for profile in self.references:
            if profile.model == model:
                return profile
        raise KeyError(model)

    def coarsen(self, every: object) -> WindowStates:
        """Merge the states into longer windows, without reading the rows again.

        Parameters
        ----------
        every : str or pandas.Timedelta
            The new window length, a whole multiple of the current one (e.g.
            ``"2h"`` from hourly states). Windows are aligned to the Unix epoch.

        Returns
        -------
        WindowStates
            One state per model and longer window that has rows.

        Raises
        ------
        InvalidParameterError
            When ``every`` is not a multiple of the current length.

        Examples
        --------
        >>> import pandas as pd
        >>> from seawall.monitoring._summarize_windows import window_states
        >>> logs = pd.DataFrame({"time": pd.date_range("2024-01-01", periods=4, freq="1h"),
        ...                      "model": "m", "prediction": [1, 0, 1, 1]})
        >>> hourly = window_states(logs, every="1h", score_col=None, label_col=None)
        >>> [s.n_positive for s in hourly.coarsen("2h").states]
        [1, 2]
        """
        from seawall.monitoring._window_inputs import parse_every

        step = parse_every(every, "WindowStates.coarsen")
        if step % self.every:
            raise param_error(
                "every",
                "WindowStates.coarsen",
                f"a whole multiple of the states' window ({pd.Timedelta(self.every)})",
                every,
            )
        groups: dict[tuple[str, int], list[WindowState]] = {}
        for s in self.states:
            ns = utc_ns(s.start)
            groups.setdefault((s.model, ns - ns % step), []).append(s)
        merged = []
        for (_, start_ns), parts in groups.items():
            start = pd.Timestamp(start_ns)
            if self.tz is not None:
                start = start.tz_localize("UTC").tz_convert(self.tz)
            merged.append(replace(merge_all(parts), start=start, end=start + pd.Timedelta(step)))
        return replace(self, states=tuple(merged), every=step)


def utc_ns(ts: pd.Timestamp) -> int:
    """A timestamp as nanoseconds since the epoch (UTC when it carries a zone)."""
    if ts.tzinfo is not None:
        ts = ts.tz_convert("UTC").tz_localize(None)
    return int(ts.value)


def model_spans(states: Sequence[WindowState]) -> list[tuple[int, int]]:
    """The ``[lo, hi)`` index range of each model's run of states.

    Parameters
    ----------
    states : sequence of WindowState
        At least one, sorted by model.

    Returns
    -------
    list of (int, int)
        One range per model, in order.
    """
    models = np.array([s.model for s in states], dtype=object)
    change = np.flatnonzero(np.r_[True, models[1:] != models[:-1], True]).tolist()
    return list(zip(change[:-1], change[1:], strict=True))
