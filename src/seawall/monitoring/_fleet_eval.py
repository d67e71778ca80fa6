"""Scoring incidents against planted ground truth: recall, false alarms, compression, purity.

Definitions (every figure of ``benchmarks/fleet_quality.py``)
-------------------------------------------------------------
A flagged **run** (consecutive flagged steps of one series) is *attributed* to an
event when its series is among the event's affected series and it overlaps the
event's window ``[start_step, end_step + tolerance]``; a run attributed to no
event is a **false-alarm run**.

- **Event recall**: the share of events with at least one attributed run. Every
  run belongs to an incident, so this is "an incident contains an affected series
  that is anomalous during the event" (slightly stricter than "an incident that
  overlaps the window contains an affected series").
- **False-alarm rate**: false-alarm runs per series per 5 days of scored history
  (``scored.sum() / n_series / steps_per_day`` days).
- **Compression**: flagged points (series x step) per incident; the same with
  runs is reported too.
- **Purity**: each member series of an incident belongs to the events its runs in
  the incident are attributed to, or to the false-alarm class; an incident's
  purity is the share of its members in its dominant class (the class most
  members belong to); the figure is the mean over incidents weighted by their
  number of members.
- **Root-cause rank**: the *most important* event (largest ``importance``; the
  first on ties) has a *main incident*, the incident holding most of its
  attributed member series (ties: the better ranked); the figure is that
  incident's rank (1 = first in the queue), ``None`` when the event was missed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from seawall._json import json_value
from seawall._validation import check_real
from seawall.exceptions import DataValidationError
from seawall.monitoring._incident_result import Incidents

__all__ = ["EventScore", "FleetScore", "GroundTruth", "score_incidents"]

BoolArray = npt.NDArray[np.bool_]
_CALLER = "score_incidents"


class GroundTruth(Protocol):
    """What :func:`score_incidents` reads of an event (e.g. a ``FleetEvent``)."""

    @property
    def id(self) -> str: ...  # noqa: D102
    @property
    def start_step(self) -> int: ...  # noqa: D102
    @property
    def end_step(self) -> int: ...  # noqa: D102
    @property
    def affected(self) -> Sequence[str]: ...  # noqa: D102
    @property
    def importance(self) -> float: ...  # noqa: D102
    @property
    def root_cause(self) -> Mapping[str, str]: ...  # noqa: D102


@dataclass(frozen=True, slots=True)
class EventScore:
    """How one event was found.

    Attributes
    ----------
    id : str
        The event.
    detected : bool
        At least one attributed run.
    n_affected, n_found : int
        Affected series, and those with an attributed run.
    delay : int or None
        Steps from the event's start to its first attributed flag.
    main_rank : int or None
        Rank of its main incident.
    labelled : bool
        The main incident's shared or linking labels include the root cause.
    """

    id: str
    detected: bool
    n_affected: int
    n_found: int
    delay: int | None
    main_rank: int | None
    labelled: bool


@dataclass(frozen=True, slots=True)
class FleetScore:
    """The figures of one scenario (see the module docstring for definitions).

    Attributes
    ----------
    event_recall : float
        Share of events detected.
    false_alarm_runs : int
        Runs attributed to no event.
    false_alarm_rate : float
        False-alarm runs per series per 5 days.
    n_anomalies, n_runs, n_incidents : int
        Flagged points, runs and incidents.
    compression : float
        Flagged points per incident.
    compression_runs : float
        Runs per incident.
    purity : float
        Member-weighted mean purity of the incidents.
    root_cause_rank : int or None
        Rank of the most important event's main incident.
    events : tuple of EventScore
        Per event.
    """

    event_recall: float
    false_alarm_runs: int
    false_alarm_rate: float
    n_anomalies: int
    n_runs: int
    n_incidents: int
    compression: float
    compression_runs: float
    purity: float
    root_cause_rank: int | None
    events: tuple[EventScore, ...]

    def to_dict(self) -> dict[str, Any]:
        """The figures as JSON-safe primitives with stable keys.

        Returns
        -------
        dict
            Every field; ``events`` as a list of dicts.
        """
        out: dict[str, Any] = {}
        for name in self.__dataclass_fields__:
            if name != "events":
                out[name] = json_value(getattr(self, name))
        out["events"] = [
            {k: json_value(getattr(e, k)) for k in e.__dataclass_fields__} for e in self.events
        ]
        return out


def score_incidents(
    incidents: Incidents,
    events: Sequence[GroundTruth],
    series_keys: Sequence[str],
    scored: object,
    *,
    steps_per_day: int,
    tolerance: int = 0,
) -> FleetScore:
    """Score incidents against planted events (definitions in the module docstring).

    Parameters
    ----------
    incidents : Incidents
        The result of :func:`group_incidents`.
    events : sequence of events
        Ground truth with ``id``, ``start_step``, ``end_step``, ``affected``,
        ``importance`` and ``root_cause`` (e.g. ``SimulatedFleet.events``).
    series_keys : sequence of str, length n_series
        The key of every row of the flag matrix.
    scored : array-like of bool, shape (n_series, n_steps)
        The steps that were scored (e.g. ``~np.isnan(scores)``).
    steps_per_day : int
        Steps per day.
    tolerance : int, default=0
        Steps after an event's end during which a run still counts for it.

    Returns
    -------
    FleetScore
        The figures.

    Raises
    ------
    DataValidationError
        When an event names a series not in ``series_keys`` or ``scored`` has the
        wrong number of rows.

    Examples
    --------
    >>> from types import SimpleNamespace as E
    >>> from seawall.monitoring._incidents import group_incidents
    >>> import pandas as pd
    >>> labels = pd.DataFrame({"series": ["a", "b", "c"], "model": ["a", "b", "c"]})
    >>> flags = np.zeros((3, 40), dtype=bool)
    >>> flags[0, 10:13] = flags[2, 30] = True
    >>> inc = group_incidents(flags, np.where(flags, 0.999, 0.5), labels)
    >>> ev = [E(id="E1", start_step=9, end_step=20, affected=("a",), importance=1.0,
    ...         root_cause={"model": "a"})]
    >>> s = score_incidents(inc, ev, labels["series"], np.ones((3, 40), bool), steps_per_day=8)
    >>> s.event_recall, s.false_alarm_runs, s.compression, s.purity, s.root_cause_rank
    (1.0, 1, 2.0, 1.0, 1)
    """
    keys = [str(k) for k in series_keys]
    index = {k: i for i, k in enumerate(keys)}
    mask = np.asarray(scored, dtype=bool)
    if mask.ndim != 2 or mask.shape[0] != len(keys):
        raise DataValidationError(
            f"scored passed to {_CALLER} must have one row per series ({len(keys)}); got "
            f"shape {mask.shape}."
        )
    per_day = int(check_real(steps_per_day, "steps_per_day", _CALLER, low=1, integer=True))
    tol = int(check_real(tolerance, "tolerance", _CALLER, low=0, integer=True))
    n_runs = incidents.n_runs
    attributed = np.zeros((len(events), n_runs), dtype=bool)
    for j, e in enumerate(events):
        missing = [k for k in e.affected if k not in index]
        if missing:
            raise DataValidationError(
                f"event {e.id!r} passed to {_CALLER} names series not in series_keys, e.g. "
                f"{missing[0]!r}; pass the keys of the same fleet."
            )
        hit = np.zeros(len(keys), dtype=bool)
        hit[[index[k] for k in e.affected]] = True
        attributed[j] = (
            hit[incidents.run_series]
            & (incidents.run_start <= e.end_step + tol)
            & (incidents.run_end >= e.start_step)
        )
    false_run: BoolArray = np.asarray(~attributed.any(axis=0), dtype=bool)
    days = mask.sum() / max(len(keys), 1) / per_day
    n_inc = len(incidents)
    purity = _purity(incidents, attributed, false_run)
    event_scores = tuple(
        _event_score(incidents, e, attributed[j], len(set(e.affected)))
        for j, e in enumerate(events)
    )
    root_rank = None
    if events:
        top = int(np.argmax([float(e.importance) for e in events]))
        root_rank = event_scores[top].main_rank
    n_det = sum(s.detected for s in event_scores)
    return FleetScore(
        event_recall=n_det / len(events) if events else float("nan"),
        false_alarm_runs=int(false_run.sum()),
        false_alarm_rate=float(false_run.sum() / max(len(keys), 1) / (days / 5.0))
        if days > 0
        else float("nan"),
        n_anomalies=incidents.n_anomalies,
        n_runs=n_runs,
        n_incidents=n_inc,
        compression=incidents.compression,
        compression_runs=n_runs / n_inc if n_inc else float("nan"),
        purity=purity,
        root_cause_rank=root_rank,
        events=event_scores,
    )


def _purity(incidents: Incidents, attributed: BoolArray, false_run: BoolArray) -> float:
    """Member-weighted mean share of each incident's members in its dominant class."""
    n_inc = len(incidents)
    if n_inc == 0:
        return float("nan")
    n_classes = attributed.shape[0] + 1
    # classes[c, run]: run belongs to event c (or, last row, to no event)
    classes = np.vstack([attributed, false_run[None, :]])
    total, weight = 0.0, 0
    order = np.argsort(incidents.run_incident, kind="stable")
    bounds = np.flatnonzero(np.r_[True, np.diff(incidents.run_incident[order]) != 0, True])
    for lo, hi in zip(bounds[:-1], bounds[1:], strict=True):
        idx = order[lo:hi]
        series = incidents.run_series[idx]
        members, inv = np.unique(series, return_inverse=True)
        belongs = np.zeros((n_classes, members.size), dtype=bool)
        for c in range(n_classes):
            np.logical_or.at(belongs[c], inv, classes[c, idx])
        total += float(belongs.sum(axis=1).max())
        weight += members.size
    return total / weight


def _event_score(
    incidents: Incidents, e: GroundTruth, runs: BoolArray, n_affected: int
) -> EventScore:
    if not runs.any():
        return EventScore(str(e.id), False, n_affected, 0, None, None, False)
    found = np.unique(incidents.run_series[runs]).size
    delay = int(max(incidents.run_start[runs].min() - e.start_step, 0))
    inc = incidents.run_incident[runs]
    series = incidents.run_series[runs]
    pairs = np.unique(np.stack([inc, series]), axis=1)
    count = np.bincount(pairs[0])
    best = int(np.flatnonzero(count == count.max())[0])  # incidents are in rank order
    main = incidents.incidents[best]
    labels = {**main.linked_by, **main.shared}
    labelled = all(labels.get(k) == v for k, v in e.root_cause.items())
    return EventScore(str(e.id), True, n_affected, int(found), delay, main.rank, labelled)
