"""Fleet monitoring: detection kernels over ``(n_series, n_steps)`` matrices.

Every kernel works on many series at once (vectorised over series, never a Python
loop over them) and tolerates missing values (NaN). :func:`detect` learns each
series' season, a robust causal baseline and scale, and scores every step with a
calibrated tail probability, so one threshold serves the whole fleet.
:class:`StreamingDetector` does the same one step at a time for all series at
once, with a few hundred bytes of state per series, and scores exactly as
:func:`detect` does. :func:`onset_scores` (and :class:`OnsetFilter`, its streaming
twin) keeps a score only where it beats every score of the recent past: one alert
when an anomaly starts, not one per step while it lasts; :func:`series_scores`
chains the two for one series (what ``seawall detect`` writes per file).
:func:`flag_anomalies` turns scores into flags (runs of high scores judged
together) at a level that :func:`fleet_threshold` scales with the fleet's size
(a nominal budget of false alarms per day), :func:`group_incidents` groups flags
on related series (same model, same upstream source, team or region, or series
often anomalous together) into
ranked :class:`Incidents`, and :class:`Feedback` with :func:`series_thresholds`
makes a series that raised false alarms less sensitive. :func:`guardrail_flags`
flags fixed limits that a slow drift would never make unusual (the four-fifths
rule on disparate impact, :data:`FAIRNESS_GUARDRAILS`).
:func:`window_metrics` turns prediction logs into per-model, per-window metric
points (:class:`MetricPoints`: volume, score distribution, drift of every logged
feature with false discoveries controlled, accuracy/AUC/calibration once labels
arrive, label-free estimated accuracy (CBPE), fairness and data quality, each with
an interval); windows are mergeable :class:`WindowState` count tables and sketches,
and :meth:`MetricPoints.series_matrix` gives the matrix :func:`detect` takes.
:func:`feature_drift` compares a current window with a reference, feature by
feature (Kolmogorov–Smirnov, Wasserstein, PSI and Jensen–Shannon for numbers;
chi-square, Cramér's V, PSI and Jensen–Shannon for categories), with the
false-discovery rate controlled across features; :func:`summarize` keeps a
window as mergeable count tables and :func:`summary_drift` compares summaries.

Examples
--------
>>> import numpy as np
>>> from seawall.monitoring import detect, detect_period
>>> t = np.arange(480)
>>> X = np.sin(2 * np.pi * t / 7)[None, :] + np.random.default_rng(1).normal(0, .2, (2, 480))
>>> detect_period(X).tolist()
[7, 7]
>>> detect(X).scores.shape
(2, 480)
"""

from __future__ import annotations

from seawall.monitoring._co_anomaly import co_anomaly_groups
from seawall.monitoring._detect import detect
from seawall.monitoring._drift import feature_drift, summary_drift
from seawall.monitoring._drift_result import DriftReport, FeatureDrift
from seawall.monitoring._drift_sketch import CategoricalSketch, NumericSketch, WindowSummary
from seawall.monitoring._drift_summarize import summarize
from seawall.monitoring._feedback import Feedback, FeedbackEntry, series_thresholds
from seawall.monitoring._flagging import daily_steps, flag_anomalies, fleet_threshold
from seawall.monitoring._fleet_eval import EventScore, FleetScore, score_incidents
from seawall.monitoring._fleet_flags import FleetFlags, fleet_flags
from seawall.monitoring._guardrails import (
    FAIRNESS_GUARDRAILS,
    PERFORMANCE_FLOORS,
    breach_scores,
    guardrail_bounds,
    guardrail_flags,
    reference_floors,
)
from seawall.monitoring._incident_result import Incident, Incidents
from seawall.monitoring._incidents import group_incidents
from seawall.monitoring._onset import OnsetFilter, onset_scores
from seawall.monitoring._period import detect_period
from seawall.monitoring._points import MetricPoints, SeriesMatrix
from seawall.monitoring._ranking import DEFAULT_METRIC_WEIGHTS
from seawall.monitoring._result import Detection
from seawall.monitoring._score_sketch import ScoreSketch
from seawall.monitoring._series_score import series_scores
from seawall.monitoring._stream import StreamingDetector, StreamState
from seawall.monitoring._summarize_windows import window_states
from seawall.monitoring._window_metrics import metric_points, window_metrics
from seawall.monitoring._window_state import (
    GroupCounts,
    ReferenceProfile,
    WindowState,
    WindowStates,
)

__all__ = [
    "DEFAULT_METRIC_WEIGHTS",
    "FAIRNESS_GUARDRAILS",
    "CategoricalSketch",
    "Detection",
    "DriftReport",
    "EventScore",
    "FeatureDrift",
    "Feedback",
    "FeedbackEntry",
    "FleetFlags",
    "FleetScore",
    "GroupCounts",
    "Incident",
    "Incidents",
    "MetricPoints",
    "NumericSketch",
    "OnsetFilter",
    "PERFORMANCE_FLOORS",
    "ReferenceProfile",
    "ScoreSketch",
    "SeriesMatrix",
    "StreamState",
    "StreamingDetector",
    "WindowState",
    "WindowStates",
    "WindowSummary",
    "breach_scores",
    "co_anomaly_groups",
    "daily_steps",
    "detect",
    "detect_period",
    "feature_drift",
    "flag_anomalies",
    "fleet_threshold",
    "fleet_flags",
    "group_incidents",
    "guardrail_bounds",
    "guardrail_flags",
    "metric_points",
    "onset_scores",
    "reference_floors",
    "score_incidents",
    "series_scores",
    "series_thresholds",
    "summarize",
    "summary_drift",
    "window_metrics",
    "window_states",
]
