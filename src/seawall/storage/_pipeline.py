"""The monitoring loop over a store: windows from logs, then detection and incidents.

Two steps, each reading what the previous one stored, so they can run on their
own schedules (``seawall monitor windows`` hourly, ``seawall monitor detect`` after
it):

1. :func:`compute_windows` reads each model's prediction logs (labels joined),
   computes its windowed metric points (:func:`seawall.monitoring.window_metrics`)
   and stores them, replacing recomputed windows.
2. :func:`detect_incidents` lays every stored metric series (one per model,
   metric and qualifier) on one grid of windows, scores them
   (:func:`seawall.monitoring.detect`), flags runs of high scores at a threshold
   scaled to the fleet's size (:func:`seawall.monitoring.fleet_threshold`) that
   feedback raises for series behind false alarms, adds the guardrails (three
   windows in a row whose disparate impact interval lies under 0.8), groups the flags into
   ranked incidents using the models' labels (team, region, source, ...), and
   stores the anomalies and the incidents. An incident's id is a hash of its
   start and members, so rerunning on the same data finds the same incidents and
   keeps the status people gave them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from seawall.exceptions import InsufficientDataError
from seawall.storage._store import Store

__all__ = ["WindowsRun", "compute_windows", "detect_incidents", "incident_id"]

#: ``progress(done, total, description)``: how long work reports where it is.
Progress = Callable[[int, int, str], None]

#: Windows in a row whose interval lies past a guardrail before it is flagged.
GUARD_RUN = 3
# Metrics that restate ``drift`` (the effect size a person reads): the other
# measures of each feature's drift, and the count of drifted features (mostly 0,
# a sparse series whose first 1 in a while is "unprecedented" to the detector).
_RESTATED = ("drift_psi", "drift_js", "drift_ks", "drifted_features")


@dataclass(frozen=True, slots=True)
class WindowsRun:
    """What :func:`compute_windows` did.

    Attributes
    ----------
    models : tuple of str
        The models whose windows were computed.
    n_points : int
        The metric points stored.
    skipped : tuple of str
        ``"model: reason"`` for models that could not be computed.
    """

    models: tuple[str, ...]
    n_points: int
    skipped: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        """The run as JSON-safe primitives.

        Returns
        -------
        dict
            ``models``, ``n_points`` and ``skipped``.
        """
        return {
            "models": list(self.models),
            "n_points": self.n_points,
            "skipped": list(self.skipped),
        }


def _silent(done: int, total: int, description: str) -> None:
    """The progress report that shows nothing."""


def incident_id(start: object, members: Sequence[str]) -> str:
    """A stable id for an incident: a hash of its start and sorted members.

    Parameters
    ----------
    start : object
        The incident's start time.
    members : sequence of str
        Its member series.

    Returns
    -------
    str
        ``"inc-"`` and 12 hex digits.

    Examples
    --------
    >>> incident_id("2024-01-01 10:00", ["b", "a"]) == incident_id("2024-01-01 10:00", ["a", "b"])
    True
    """
    text = f"{pd.Timestamp(str(start)).isoformat()}|" + "|".join(sorted(map(str, members)))
    return "inc-" + hashlib.sha1(text.encode("utf-8")).hexdigest()[:12]


def scored_frame(
    keys: npt.NDArray[Any],
    timestamps: Any,
    values: npt.NDArray[np.float64],
    detection: Any,
    flags: npt.NDArray[np.bool_],
    rows: npt.NDArray[np.intp],
    steps: npt.NDArray[np.intp],
) -> pd.DataFrame:
    """The rows :meth:`Store.write_anomalies` takes for the steps ``(rows, steps)``."""
    return pd.DataFrame(
        {
            "series": keys[rows],
            "timestamp": timestamps[steps],
            "value": values[rows, steps],
            "score": detection.scores[rows, steps],
            "is_anomaly": flags[rows, steps],
            "baseline": detection.baselines[rows, steps],
            "scale": detection.scales[rows, steps],
        }
    )


def carry_incident_ids(
    store: Store, frame: pd.DataFrame, series: Sequence[str], since: object
) -> tuple[pd.DataFrame, list[str]]:
    """Give each new incident the id of the stored incident it continues.

    A rerun on more data finds an ongoing incident again with more members or a
    later end, so its content hash changes; the incident is the same one. A new
    incident continues a stored one when they share a member and their spans
    overlap: it takes the stored id (so the status people gave it, and the one
    notification sent for it, stay with it). The most severe new incident claims
    first, and each stored incident is continued at most once.

    Parameters
    ----------
    store : Store
    frame : pandas.DataFrame
        The new incidents (:func:`incident_frame`), most severe first.
    series : sequence of str
        The series just scored.
    since : datetime-like
        The first step just scored.

    Returns
    -------
    frame : pandas.DataFrame
        ``frame`` with continued incidents' ids replaced.
    stale : list of str
        Open stored incidents of these series, within the scored span, that no
        new incident continues: the data no longer shows them. (Incidents people
        acknowledged, resolved or marked are kept as history.)
    """
    stored = store.read_incidents().to_pandas()
    if stored.empty:
        return frame, []
    keys = set(map(str, series))
    stored = stored[stored["members"].map(lambda m: bool(keys.intersection(m)))]
    stored = stored.assign(end=stored["end"].fillna(stored["start"]))
    ids = [str(x) for x in frame["id"]]
    members_of = [set(map(str, m)) for m in frame["members"]]
    taken: set[str] = set()
    for i, (start, end, members) in enumerate(
        zip(frame["start"], frame["end"], members_of, strict=True)
    ):
        end = start if pd.isna(end) else end
        near = stored[(stored["start"] <= end) & (stored["end"] >= start)]
        near = near[~near["id"].isin(taken)].sort_values(["start", "id"])
        for old_id, old_members in zip(near["id"], near["members"], strict=True):
            if members.intersection(map(str, old_members)):
                taken.add(str(old_id))
                ids[i] = str(old_id)
                break
    frame = frame.assign(id=ids)
    gone = stored[
        (stored["status"] == "open")
        & (stored["start"] >= pd.Timestamp(str(since)))
        & ~stored["id"].isin(ids)
    ]
    return frame, gone["id"].astype(str).tolist()


_INCIDENT_COLUMNS = (
    "id", "start", "end", "severity", "members", "shared_labels", "summary",
    "peak_score", "n_anomalies",
)  # fmt: skip


def incident_frame(incidents: Any) -> pd.DataFrame:
    """The rows :meth:`Store.write_incidents` takes, one per incident, id from its content.

    The columns are there even when there is no incident.
    """
    return pd.DataFrame(
        [
            {
                "id": incident_id(i.start, i.members),
                "start": i.start,
                "end": i.end,
                "severity": i.severity,
                "members": list(i.members),
                "shared_labels": {k: str(v) for k, v in i.shared.items()},
                "summary": i.summary,
                "peak_score": i.peak_score,
                "n_anomalies": i.n_anomalies,
            }
            for i in incidents.incidents
        ],
        columns=list(_INCIDENT_COLUMNS),
    )


def compute_windows(
    store: Store,
    *,
    every: str = "1h",
    reference: object = "first",
    models: Sequence[str] | None = None,
    alpha: float = 0.05,
    until: object = None,
    progress: Progress | None = None,
) -> WindowsRun:
    """Compute and store every model's windowed metric points from its logs.

    Parameters
    ----------
    store : Store
        The store holding the prediction logs (and labels).
    every : str, default="1h"
        The window length (a pandas offset such as ``"1h"`` or ``"1D"``).
    reference : {"first"}, int or (start, end), default="first"
        The reference each window's drift and data quality are judged against
        (see :func:`seawall.monitoring.window_metrics`).
    models : sequence of str or None, default=None
        The models; ``None`` means every model with logs.
    alpha : float, default=0.05
        The level of the intervals and of the drift tests.
    until : datetime-like or None, default=None
        Only predictions logged before this time are read: a window boundary
        such as the start of the current hour, so that every window computed is
        closed (a window still filling would look like a drop in volume).
        ``None`` reads every prediction.
    progress : callable or None, default=None
        Called as ``progress(done, total, description)`` before each model and
        once at the end (a progress bar).

    Returns
    -------
    WindowsRun
        The models computed, the points stored, the models skipped and why.
    """
    from seawall.monitoring import window_metrics

    names = (
        [str(m) for m in store.counts().column("model").to_pylist()]
        if models is None
        else list(models)
    )
    done: list[str] = []
    skipped: list[str] = []
    n_points = 0
    report = progress or _silent
    for i, model in enumerate(names):
        report(i, len(names), f"windows of {model}")
        columns = store.model_columns(model).to_pandas()
        features = columns.loc[columns["role"] == "feature", "name"].tolist()
        sensitive = columns.loc[columns["role"] == "sensitive", "name"].tolist()
        logs = store.read_predictions(model, end=until).to_pandas()
        if logs.empty:
            skipped.append(f"{model}: no predictions before {until}")
            continue
        has_labels = bool(logs["label"].notna().any()) if "label" in logs else False
        has_scores = bool(logs["score"].notna().any()) if "score" in logs else False
        try:
            points = window_metrics(
                logs,
                every=every,
                reference=reference,
                feature_cols=features,
                sensitive_cols=sensitive or None,
                label_col="label" if has_labels else None,
                score_col="score" if has_scores else None,
                alpha=alpha,
            )
        except InsufficientDataError as e:
            skipped.append(f"{model}: {e}")
            continue
        frame = points.to_frame()
        store.write_metric_points(frame)
        n_points += len(frame)
        done.append(model)
    report(len(names), len(names), "windows stored")
    return WindowsRun(models=tuple(done), n_points=n_points, skipped=tuple(skipped))


def _series_labels(store: Store, keys: pd.DataFrame) -> pd.DataFrame:
    labels = keys.copy()
    models = store.models().to_pandas()
    if len(models):
        extra = [c for c in models.columns if c not in ("model", "version", "project")]
        keep = ["model", *extra, *(["project"] if "project" in models.columns else [])]
        labels = labels.merge(models[keep], on="model", how="left")
    labels["feature"] = labels["qualifier"].where(labels["qualifier"] != "", None)
    return labels.drop(columns=["qualifier"])


def detect_incidents(
    store: Store,
    *,
    threshold: float | None = None,
    false_runs_per_day: float | None = None,
    metrics: Sequence[str] | None = None,
    models: Sequence[str] | None = None,
    progress: Progress | None = None,
) -> Any:
    """Score every stored metric series, group the anomalies, store the incidents.

    Parameters
    ----------
    store : Store
        The store holding the metric points (:func:`compute_windows`).
    threshold : float or None, default=None
        The fleet's flagging level (:func:`seawall.monitoring.flag_anomalies`);
        a series behind false alarms gets a higher one
        (:func:`seawall.monitoring.series_thresholds`). ``None`` means
        :func:`seawall.monitoring.fleet_threshold` for the number of stored
        series and the windows' steps per day.
    false_runs_per_day : float or None, default=None
        With ``threshold=None``: the fleet's nominal budget of false-alarm runs
        per day; ``None`` means the default of
        :func:`~seawall.monitoring.fleet_threshold`.
    metrics : sequence of str or None, default=None
        The metrics to watch; ``None`` means every stored metric except those
        that restate each feature's ``drift``: the alternative measures
        (``drift_psi``, ``drift_js``, ``drift_ks``), which would count one change
        three more times, and ``drifted_features``, the count of features whose
        drift is significant (measured on 40 simulated models, it raised 305 of
        312 incidents, each a single window where a count that is mostly 0 was 1).
    models : sequence of str or None, default=None
        The models whose series are scored and grouped (the service runs each
        project on its own); ``None`` means every model.
    progress : callable or None, default=None
        Called as ``progress(done, total, description)`` before each of the four
        steps (read, score, flag and group, store) and once at the end.

    Returns
    -------
    seawall.monitoring.Incidents
        The incidents, ranked. Stored, each continues the stored incident it
        overlaps (:func:`carry_incident_ids`: same id, so the same status), and
        open stored incidents the new run no longer shows are dropped.

    Raises
    ------
    InsufficientDataError
        When fewer than 32 windows are stored (too few to learn a baseline).
    """
    from seawall.monitoring import (
        Feedback,
        daily_steps,
        detect,
        fleet_flags,
        fleet_threshold,
        group_incidents,
        series_thresholds,
    )
    from seawall.monitoring._series_table import default_warmup, long_table

    report = progress or _silent
    report(0, 4, "reading the metric points")
    points = store.read_metric_points().to_pandas()
    if models is not None:
        points = points[points["model"].isin(list(models))]
    if metrics is None:
        points = points[~points["metric"].isin(_RESTATED)]
    else:
        points = points[points["metric"].isin(list(metrics))]
    points = points[np.isfinite(points["value"].to_numpy(dtype=np.float64, na_value=np.nan))]
    qualifier = points["qualifier"].fillna("")
    points = points.assign(
        series=points["model"]
        + "/"
        + points["metric"]
        + np.where(qualifier != "", "/" + qualifier, "")
    )
    table = long_table(
        points, series_col="series", timestamp_col="window_start", source="the metric points"
    )
    n_steps = table.timestamps.shape[0]
    if n_steps < 32:
        raise InsufficientDataError(
            f"The store holds {n_steps} windows; at least 32 are needed to learn each "
            f"series' baseline before scoring. Compute more windows (a longer history or "
            f"a shorter window)."
        )
    keys = (
        points.assign(qualifier=qualifier)
        .drop_duplicates("series")
        .set_index("series")
        .loc[list(table.keys), ["model", "metric", "qualifier"]]
        .reset_index()
    )
    labels = _series_labels(store, keys)
    report(1, 4, f"scoring {len(table.keys):,} series x {n_steps:,} windows")
    res = detect(table.values, warmup=default_warmup(n_steps))
    report(2, 4, "flagging anomalies and grouping them into incidents")
    feedback = Feedback()
    # Thresholds hold at the later of the last window and the last feedback: a
    # person's verdict applies from when it was given, even to older data rerun.
    now = pd.Timestamp(table.timestamps[-1])
    for row in store.read_feedback().to_pylist():
        now = max(now, pd.Timestamp(row["time"]))
        feedback = feedback.record(
            str(row["incident_id"]),
            row["action"],
            row["time"],
            note=row.get("note") or "",
            members=list(row.get("members") or []),
        )
    if threshold is None:
        threshold = fleet_threshold(
            len(table.keys),
            steps_per_day=daily_steps(table.timestamps),
            false_runs_per_day=false_runs_per_day,
        )
    levels = series_thresholds(feedback, list(table.keys), now=now, threshold=threshold)
    # Guardrails: a window whose whole interval lies past a limit (the four-fifths
    # rule: disparate impact's upper bound under 0.8; accuracy's and AUC's under
    # their level in the warm-up less 0.02), three in a row.
    upper = None
    if "upper" in points.columns and points["upper"].notna().any():
        upper = table.lay(points["upper"].to_numpy(dtype=np.float64, na_value=np.nan))
    flagged = fleet_flags(
        res.scores,
        table.timestamps,
        threshold=levels,
        upper=upper,
        metrics=labels["metric"].tolist(),
        values=table.values,
        reference_steps=default_warmup(n_steps),
        guard_run=GUARD_RUN,
    )
    flags, scores = flagged.flags, flagged.scores
    incidents = group_incidents(
        flags, scores, labels, timestamps=pd.DatetimeIndex(table.timestamps)
    )
    report(3, 4, "storing anomalies and incidents")
    # Every scored step, with its baseline and scale (for plots against the band);
    # a re-run replaces each series' history.
    rows, steps = np.nonzero(np.isfinite(res.scores))
    keys = np.asarray(table.keys, dtype=object)
    frame = scored_frame(keys, table.timestamps, table.values, res, flags, rows, steps)
    store.write_anomalies(frame, replace_series=True)
    frame = incident_frame(incidents)
    frame, stale = carry_incident_ids(store, frame, list(table.keys), table.timestamps[0])
    if stale:
        with store.transaction("removing incidents the data no longer shows") as cur:
            cur.execute("DELETE FROM incidents WHERE list_contains(?, id)", [stale])
    if len(frame):
        store.write_incidents(frame)
    report(4, 4, "done")
    return incidents
