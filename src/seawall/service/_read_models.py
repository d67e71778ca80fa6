"""The answers of the read API, as pydantic models (and OpenAPI schemas)."""

from __future__ import annotations

import datetime as dt
import math
from typing import Annotated, Any, Generic, Literal, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

__all__ = [
    "Action",
    "IncidentDetail",
    "IncidentOut",
    "ModelDetail",
    "ModelSummary",
    "NewAction",
    "NewReport",
    "Page",
    "ReportInfo",
    "ReportOut",
    "SeriesPoint",
    "SeriesSummary",
]

T = TypeVar("T")


def _finite(value: Any) -> Any:
    """NaN and infinities have no JSON form: they are sent as null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


Num = Annotated[float | None, BeforeValidator(_finite)]


class Page(BaseModel, Generic[T]):
    """One page of a longer list: ``total`` items in all, these from ``offset``."""

    total: int
    limit: int
    offset: int
    items: list[T]


class ModelSummary(BaseModel):
    """A model at a glance: its worst recent anomaly score and open incidents."""

    model: str
    version: str | None
    labels: dict[str, str]
    worst_score: Num = Field(description="The highest anomaly score in the recent windows.")
    n_flagged: int = Field(description="Steps flagged as anomalous in the recent windows.")
    last_window: dt.datetime | None
    open_incidents: int


class SeriesSummary(BaseModel):
    """One metric series of a model."""

    metric: str
    qualifier: str
    n_points: int
    last_window: dt.datetime | None
    last_value: Num
    worst_score: Num
    n_flagged: int
    last_score: Num


class ReportInfo(BaseModel):
    """An audit report attached to a model version (``has_html``: with its page)."""

    report_id: str
    version: str | None
    created_at: dt.datetime
    title: str
    has_html: bool = False


class ModelDetail(BaseModel):
    """A model, its labels, its series and its audit reports."""

    model: str
    version: str | None
    labels: dict[str, str]
    series: list[SeriesSummary]
    reports: list[ReportInfo]


class SeriesPoint(BaseModel):
    """A window of a series: its value and interval, what was expected, how unusual.

    ``band_lower`` and ``band_upper`` are ``baseline ± 3 × scale``, the band a plot
    shows; the flag itself comes from ``score``, a calibrated tail probability.
    """

    timestamp: dt.datetime
    value: Num
    lower: Num
    upper: Num
    n: int | None
    baseline: Num
    scale: Num
    band_lower: Num
    band_upper: Num
    score: Num
    is_anomaly: bool


class IncidentOut(BaseModel):
    """Anomalies on related series grouped into one incident."""

    id: str
    start: dt.datetime
    end: dt.datetime | None
    severity: Num
    members: list[str]
    shared_labels: dict[str, str]
    status: str
    summary: str | None
    peak_score: Num
    n_anomalies: int | None


class Action(BaseModel):
    """What a person did on an incident, and when."""

    action: str
    time: dt.datetime
    note: str


class IncidentDetail(IncidentOut):
    """An incident with the actions people took on it."""

    actions: list[Action]


class NewAction(BaseModel):
    """Acknowledge, resolve or mark an incident a false alarm, with a comment.

    A false alarm makes the incident's series need stronger evidence next time.
    """

    model_config = ConfigDict(extra="forbid")
    action: Literal["acknowledge", "resolve", "false_alarm"]
    comment: Annotated[str, Field(max_length=2_000)] = ""


class NewReport(BaseModel):
    """An audit report to attach to a model version.

    ``report`` is the JSON ``seawall audit --json`` writes; ``html``, optional, the
    page it writes (``report.html``), which the dashboard then shows as it is.
    """

    model_config = ConfigDict(extra="forbid")
    version: Annotated[str, Field(max_length=200)] | None = None
    title: Annotated[str, Field(min_length=1, max_length=500)] = "Fairness audit"
    report: dict[str, Any]
    html: str | None = None


class ReportOut(ReportInfo):
    """An audit report with its content."""

    model: str
    report: dict[str, Any]
