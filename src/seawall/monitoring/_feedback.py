"""People's feedback on incidents, and the per-series sensitivity it implies.

A :class:`Feedback` log records what a person did with an incident: acknowledged
it, resolved it, or marked it a false alarm. :func:`series_thresholds` turns the
log into one flagging threshold per series, a pure function of the log and the
time: every false alarm a series took part in multiplies the evidence that series
needs (its tail probability ``1 - threshold``) by ``10 ** -strength``, and every
confirmed incident (acknowledged or resolved) takes one such step back; each
entry's weight halves every ``half_life``, so a series whose false alarms stop
drifts back to the fleet's threshold. In formula, for series ``s`` at time ``now``::

    n_s = max(0, sum over false alarms with s of 2 ** (-age / half_life)
                 - sum over confirmations with s of 2 ** (-age / half_life))
    threshold_s = 1 - (1 - threshold) * 10 ** (-strength * n_s)

The thresholds go to :func:`flag_anomalies`, so the same pattern on the same
series needs ten times stronger evidence after one false alarm, while every other
series keeps its sensitivity.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

from seawall._validation import check_choice, check_real, param_error
from seawall.monitoring._incident_result import Incident, Incidents

__all__ = ["ACTIONS", "Feedback", "FeedbackEntry", "series_thresholds"]

FloatArray = npt.NDArray[np.float64]
Action = Literal["acknowledge", "resolve", "false_alarm"]
#: What a person can do with an incident.
ACTIONS: tuple[Action, ...] = ("acknowledge", "resolve", "false_alarm")


@dataclass(frozen=True, slots=True)
class FeedbackEntry:
    """One action a person took on one incident.

    Attributes
    ----------
    incident_id : str
        The incident (:attr:`Incident.id`).
    action : {"acknowledge", "resolve", "false_alarm"}
        What they did.
    time : pandas.Timestamp
        When.
    note : str
        Free text.
    members : tuple of str
        The incident's member series at the time (so the log stands on its own).
    """

    incident_id: str
    action: Action
    time: pd.Timestamp
    note: str
    members: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        """The entry as JSON-safe primitives (time as ISO 8601).

        Returns
        -------
        dict
            Every field.
        """
        return {
            "incident_id": self.incident_id,
            "action": self.action,
            "time": self.time.isoformat(),
            "note": self.note,
            "members": list(self.members),
        }


@dataclass(frozen=True, slots=True)
class Feedback:
    """An append-only log of feedback; :meth:`record` returns a new log.

    Attributes
    ----------
    entries : tuple of FeedbackEntry
        In the order recorded.

    Examples
    --------
    >>> fb = Feedback().record("inc-1", "false_alarm", "2024-01-05", members=["m1/volume"])
    >>> fb = fb.record("inc-2", "acknowledge", "2024-01-06", note="on it", members=["m2/drift"])
    >>> [e.action for e in fb.entries], fb.to_frame().shape
    (['false_alarm', 'acknowledge'], (2, 5))
    """

    entries: tuple[FeedbackEntry, ...] = ()

    def record(
        self,
        incident: Incident | str,
        action: Action,
        time: object,
        *,
        note: str = "",
        members: Sequence[str] | None = None,
    ) -> Feedback:
        """A new log with one more entry.

        Parameters
        ----------
        incident : Incident or str
            The incident, or its id (then pass ``members``, or give the incidents
            to :func:`series_thresholds`).
        action : {"acknowledge", "resolve", "false_alarm"}
            What the person did.
        time : str, datetime or pandas.Timestamp
            When.
        note : str, default=""
            Free text.
        members : sequence of str or None, default=None
            The incident's member series; taken from ``incident`` when it is one.

        Returns
        -------
        Feedback
            The longer log (this one is unchanged).

        Raises
        ------
        InvalidParameterError
            On an unknown action or a time that is not a date.
        """
        caller = "Feedback.record"
        act = check_choice(action, "action", caller, ACTIONS)
        try:
            when = pd.Timestamp(time)  # type: ignore[arg-type]
        except (TypeError, ValueError) as e:
            raise param_error("time", caller, "a date or timestamp", time) from e
        if isinstance(incident, Incident):
            ident, held = incident.id, incident.members
        elif isinstance(incident, str):
            ident, held = incident, ()
        else:
            raise param_error("incident", caller, "an Incident or an incident id", incident)
        if members is not None:
            held = tuple(str(m) for m in members)
        entry = FeedbackEntry(ident, act, when, str(note), tuple(held))  # type: ignore[arg-type]
        return Feedback(self.entries + (entry,))

    def to_frame(self) -> pd.DataFrame:
        """One row per entry.

        Returns
        -------
        pandas.DataFrame
            Columns ``incident_id``, ``action``, ``time``, ``note``, ``members``
            (joined by ``", "``).
        """
        rows = [
            {**e.to_dict(), "time": e.time, "members": ", ".join(e.members)} for e in self.entries
        ]
        return pd.DataFrame(rows, columns=["incident_id", "action", "time", "note", "members"])

    def to_dict(self) -> dict[str, Any]:
        """The log as JSON-safe primitives.

        Returns
        -------
        dict
            ``{"entries": [...]}``.
        """
        return {"entries": [e.to_dict() for e in self.entries]}


def series_thresholds(
    feedback: Feedback,
    series: Sequence[str] | pd.Series,
    *,
    now: object,
    threshold: float = 0.999,
    half_life: str | pd.Timedelta = "14D",
    strength: float = 1.0,
    incidents: Incidents | None = None,
) -> FloatArray:
    """One flagging threshold per series, raised by false alarms and decaying back.

    See :mod:`seawall.monitoring._feedback` for the formula.

    Parameters
    ----------
    feedback : Feedback
        The log.
    series : sequence of str, length n_series
        The series keys, in the order of the score matrix's rows.
    now : str, datetime or pandas.Timestamp
        The time the thresholds are for (entries after it are ignored).
    threshold : float, default=0.999
        The fleet's threshold, in (0, 1).
    half_life : str or pandas.Timedelta, default="14D"
        How fast an entry's weight halves.
    strength : float, default=1.0
        Decades of evidence one false alarm adds, in (0, inf).
    incidents : Incidents or None, default=None
        Where to look up the members of entries recorded by id alone.

    Returns
    -------
    ndarray of float64, shape (n_series,)
        The thresholds, each in [threshold, 1).

    Raises
    ------
    InvalidParameterError
        On a bad parameter.

    See Also
    --------
    flag_anomalies : takes the thresholds.

    Examples
    --------
    >>> fb = Feedback().record("inc-1", "false_alarm", "2024-01-05", members=["b"])
    >>> series_thresholds(fb, ["a", "b"], now="2024-01-05").tolist()
    [0.999, 0.9999]
    >>> series_thresholds(fb, ["a", "b"], now="2024-01-19").round(6).tolist()  # a half-life on
    [0.999, 0.999684]
    """
    caller = "series_thresholds"
    if not isinstance(feedback, Feedback):
        raise param_error("feedback", caller, "a Feedback log", feedback)
    base = check_real(threshold, "threshold", caller, low=0, high=1, low_open=True, high_open=True)
    power = check_real(strength, "strength", caller, low=0, low_open=True)
    try:
        when = pd.Timestamp(now)  # type: ignore[arg-type]
        life = pd.Timedelta(half_life)
    except (TypeError, ValueError) as e:
        raise param_error("now or half_life", caller, "a timestamp and a duration", now) from e
    if life <= pd.Timedelta(0):
        raise param_error("half_life", caller, "a positive duration", half_life)
    keys = [str(s) for s in series]
    index = {k: i for i, k in enumerate(keys)}
    lookup = {inc.id: inc.members for inc in incidents.incidents} if incidents else {}
    n = np.zeros(len(keys))
    for entry in feedback.entries:
        if entry.time > when:
            continue
        members = entry.members or lookup.get(entry.incident_id, ())
        rows = [index[m] for m in members if m in index]
        weight = 0.5 ** ((when - entry.time) / life)
        n[rows] += weight if entry.action == "false_alarm" else -weight
    n = np.maximum(n, 0.0)
    out: FloatArray = 1.0 - (1.0 - base) * 10.0 ** (-power * n)
    return out
