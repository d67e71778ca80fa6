"""The frozen results of :func:`group_incidents`: one incident, and the ranked list."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from seawall._json import json_value

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["Incident", "Incidents"]

IntArray = npt.NDArray[np.int64]


def _time(v: object) -> Any:
    iso = getattr(v, "isoformat", None)
    return iso() if callable(iso) else json_value(v)


@dataclass(frozen=True, slots=True)
class Incident:
    """Related anomalies grouped for one person to review.

    Attributes
    ----------
    id : str
        A stable identifier: a hash of the first step and the member series.
    rank : int
        Position in the review queue (1 = review first).
    members : tuple of str
        Keys of the anomalous series, sorted.
    start, end : object
        Timestamps (or step indices when none were given) of the first and last
        flagged step.
    start_step, end_step : int
        The same as step indices.
    severity : float
        See :mod:`seawall.monitoring._ranking`.
    peak_score : float
        The highest score of any flagged step.
    n_anomalies : int
        Flagged steps (series x step) in the incident.
    n_models : int
        Distinct models (or other units) affected.
    metrics : tuple of str
        The metrics that are anomalous, sorted.
    shared : dict of str to str
        Labels that all, or at least 80% of, the members carrying the column share
        (those members being at least half of all members), e.g.
        ``{"source": "crm-feed"}``.
    linked_by : dict of str to str
        The label that tied the members together (the most significant one for a
        group, the model for a single model's anomalies).
    summary : str
        One plain-language sentence.
    """

    id: str
    rank: int
    members: tuple[str, ...]
    start: Any
    end: Any
    start_step: int
    end_step: int
    severity: float
    peak_score: float
    n_anomalies: int
    n_models: int
    metrics: tuple[str, ...]
    shared: dict[str, str] = field(hash=False)
    linked_by: dict[str, str] = field(hash=False)
    summary: str

    def to_dict(self) -> dict[str, Any]:
        """The incident as JSON-safe primitives with stable keys.

        Returns
        -------
        dict
            Every field; timestamps as ISO 8601 strings, tuples as lists.
        """
        return {
            "id": self.id,
            "rank": self.rank,
            "members": list(self.members),
            "start": _time(self.start),
            "end": _time(self.end),
            "start_step": self.start_step,
            "end_step": self.end_step,
            "severity": json_value(self.severity),
            "peak_score": json_value(self.peak_score),
            "n_anomalies": self.n_anomalies,
            "n_models": self.n_models,
            "metrics": list(self.metrics),
            "shared": dict(self.shared),
            "linked_by": dict(self.linked_by),
            "summary": self.summary,
        }


@dataclass(frozen=True, slots=True)
class Incidents:
    """Incidents ranked for review, and which flagged run belongs to which.

    Attributes
    ----------
    incidents : tuple of Incident
        By rank (most severe first).
    n_anomalies : int
        Flagged steps in all.
    n_runs : int
        Runs of consecutive flagged steps in all.
    run_series, run_start, run_end : ndarray of int64, shape (n_runs,)
        Every run: its series (row of the input) and first and last step.
    run_incident : ndarray of int64, shape (n_runs,)
        The index in :attr:`incidents` of the incident each run belongs to.
    """

    incidents: tuple[Incident, ...]
    n_anomalies: int
    n_runs: int
    run_series: IntArray
    run_start: IntArray
    run_end: IntArray
    run_incident: IntArray

    def __len__(self) -> int:
        return len(self.incidents)

    def __getitem__(self, i: int) -> Incident:
        return self.incidents[i]

    @property
    def compression(self) -> float:
        """Flagged steps per incident: how much reading the grouping saves.

        Returns
        -------
        float
            ``n_anomalies / len(incidents)`` (NaN without incidents).
        """
        return self.n_anomalies / len(self.incidents) if self.incidents else float("nan")

    def to_frame(self) -> pd.DataFrame:
        """One row per incident (pandas is imported here, lazily).

        Returns
        -------
        pandas.DataFrame
            Columns ``rank``, ``id``, ``severity``, ``start``, ``end``,
            ``n_models``, ``n_series``, ``n_anomalies``, ``peak_score``,
            ``metrics`` and ``shared`` (``"k=v"`` joined by ``", "``), ``summary``.
        """
        import pandas as pd

        cols = ["rank", "id", "severity", "start", "end", "n_models", "n_series"]
        cols += ["n_anomalies", "peak_score", "metrics", "shared", "summary"]
        rows = [
            {
                "rank": inc.rank,
                "id": inc.id,
                "severity": inc.severity,
                "start": inc.start,
                "end": inc.end,
                "n_models": inc.n_models,
                "n_series": len(inc.members),
                "n_anomalies": inc.n_anomalies,
                "peak_score": inc.peak_score,
                "metrics": ", ".join(inc.metrics),
                "shared": ", ".join(f"{k}={v}" for k, v in inc.shared.items()),
                "summary": inc.summary,
            }
            for inc in self.incidents
        ]
        return pd.DataFrame(rows, columns=cols)

    def to_dict(self) -> dict[str, Any]:
        """The result as JSON-safe primitives (what ``incidents.json`` holds).

        Returns
        -------
        dict
            ``n_incidents``, ``n_anomalies``, ``n_runs``, ``compression`` and
            ``incidents`` (each :meth:`Incident.to_dict`, by rank).
        """
        return {
            "n_incidents": len(self.incidents),
            "n_anomalies": self.n_anomalies,
            "n_runs": self.n_runs,
            "compression": json_value(self.compression),
            "incidents": [inc.to_dict() for inc in self.incidents],
        }
