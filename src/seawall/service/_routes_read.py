"""The read API: models, series, incidents and actions on them, audit reports."""

from __future__ import annotations

import datetime as dt
import json
import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Annotated, Any, TypeVar

import duckdb
from fastapi import APIRouter, Depends, Query, Request

from seawall.service import _queries as q
from seawall.service._auth import project_access, requires
from seawall.service._errors import ApiError
from seawall.service._read_models import (
    IncidentDetail,
    IncidentOut,
    ModelDetail,
    ModelSummary,
    NewAction,
    NewReport,
    Page,
    ReportInfo,
    ReportOut,
    SeriesPoint,
)
from seawall.service._state import service_store
from seawall.service._tokens import Principal

__all__ = ["router"]

router = APIRouter(prefix="/api/v1/projects/{project}", tags=["read"])

T = TypeVar("T")
Limit = Annotated[int, Query(ge=1, le=500, description="Items per page.")]
Offset = Annotated[int, Query(ge=0, le=10_000_000, description="Items to skip.")]


@contextmanager
def _reading(
    request: Request, principal: Principal, project: str
) -> Iterator[duckdb.DuckDBPyConnection]:
    project_access(request, principal, project)
    cur = service_store(request).cursor()
    try:
        yield cur
    finally:
        cur.close()


@contextmanager
def _model_reading(
    request: Request, principal: Principal, project: str, model: str
) -> Iterator[duckdb.DuckDBPyConnection]:
    """A cursor, once the project is visible and ``model`` is one of its models."""
    with _reading(request, principal, project) as cur:
        if not q.model_in_project(cur, project, model):
            raise ApiError(404, f"no model {model!r} in the project {project!r}.")
        yield cur


def _page(
    model: Callable[..., T], total: int, rows: list[dict[str, Any]], limit: int, offset: int
) -> Page[T]:
    return Page[T](total=total, limit=limit, offset=offset, items=[model(**r) for r in rows])


def _labels(label: list[str]) -> dict[str, str]:
    out = {}
    for item in label:
        key, sep, value = item.partition(":")
        if not sep or not key:
            raise ApiError(
                422,
                f"label: {item!r} is not KEY:VALUE; filter models with e.g. label=team:growth.",
                details=[{"loc": "label", "message": "expected KEY:VALUE"}],
            )
        out[key] = value
    return out


@router.get("/models", response_model=Page[ModelSummary], summary="The project's models")
def get_models(
    project: str,
    request: Request,
    principal: Annotated[Principal, Depends(requires("read"))],
    label: Annotated[list[str], Query(description="KEY:VALUE filters, e.g. team:growth.")] = [],  # noqa: B006
    search: Annotated[str | None, Query(max_length=200, description="Part of the name.")] = None,
    recent: Annotated[int, Query(ge=1, le=10_000, description="Recent windows judged.")] = 24,
    limit: Limit = 50,
    offset: Offset = 0,
) -> Page[ModelSummary]:
    """The project's models, least healthy first.

    Ordered by open incidents, then the worst anomaly score in the ``recent``
    latest windows.
    """
    with _reading(request, principal, project) as cur:
        windows = q.recent_windows(cur, project, recent)
        since = windows[0] if windows else None
        total, rows = q.models_page(
            cur,
            project,
            labels=_labels(label),
            search=search,
            since=since,
            limit=limit,
            offset=offset,
        )
    return _page(ModelSummary, total, rows, limit, offset)


@router.get("/models/{model}", response_model=ModelDetail, summary="A model and its series")
def get_model(
    project: str,
    model: str,
    request: Request,
    principal: Annotated[Principal, Depends(requires("read"))],
) -> ModelDetail:
    """A model's labels, its metric series (with their worst score) and audit reports."""
    with _reading(request, principal, project) as cur:
        detail = q.model_detail(cur, project, model)
    if detail is None:
        raise ApiError(404, f"no model {model!r} in the project {project!r}.")
    return ModelDetail(**detail)


@router.get(
    "/models/{model}/series/{metric}",
    response_model=list[SeriesPoint],
    summary="A metric series with its baseline band and anomaly scores",
)
def get_series(
    project: str,
    model: str,
    metric: str,
    request: Request,
    principal: Annotated[Principal, Depends(requires("read"))],
    qualifier: Annotated[str, Query(max_length=500, description="The feature or group.")] = "",
    since: Annotated[dt.datetime | None, Query(description="Only windows from then on.")] = None,
    limit: Annotated[int, Query(ge=1, le=100_000)] = 5000,
) -> list[SeriesPoint]:
    """The series' latest windows, oldest first.

    Each has its value and interval, baseline and scale, the band
    ``baseline ± 3 × scale``, the anomaly score and the flag.
    """
    with _model_reading(request, principal, project, model) as cur:
        rows = q.series_points(cur, model, metric, qualifier, since=since, limit=limit)
    if not rows:
        raise ApiError(
            404,
            f"the model {model!r} has no series {metric!r}"
            + (f" with qualifier {qualifier!r}" if qualifier else "")
            + f"; GET /api/v1/projects/{project}/models/{model} lists its series.",
        )
    return [SeriesPoint(**r) for r in rows]


@router.get("/incidents", response_model=Page[IncidentOut], summary="The project's incidents")
def get_incidents(
    project: str,
    request: Request,
    principal: Annotated[Principal, Depends(requires("read"))],
    status: Annotated[
        str | None, Query(pattern="^(open|acknowledged|resolved|false_alarm)$")
    ] = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> Page[IncidentOut]:
    """Incidents whose members all belong to the project, most severe first."""
    with _reading(request, principal, project) as cur:
        total, rows = q.incidents_page(cur, project, status=status, limit=limit, offset=offset)
    return _page(IncidentOut, total, rows, limit, offset)


def _incident(
    request: Request, principal: Principal, project: str, incident_id: str
) -> IncidentDetail:
    with _reading(request, principal, project) as cur:
        detail = q.incident_detail(cur, project, incident_id)
    if detail is None:
        raise ApiError(404, f"no incident {incident_id!r} in the project {project!r}.")
    return IncidentDetail(**detail)


@router.get("/incidents/{incident_id}", response_model=IncidentDetail, summary="An incident")
def get_incident(
    project: str,
    incident_id: str,
    request: Request,
    principal: Annotated[Principal, Depends(requires("read"))],
) -> IncidentDetail:
    """An incident, its members and shared labels, and the actions people took."""
    return _incident(request, principal, project, incident_id)


@router.post(
    "/incidents/{incident_id}/actions",
    response_model=IncidentDetail,
    summary="Acknowledge, resolve or mark a false alarm",
)
def post_action(
    project: str,
    incident_id: str,
    body: NewAction,
    request: Request,
    principal: Annotated[Principal, Depends(requires("read"))],
) -> IncidentDetail:
    """Record what a person did on an incident, with a comment.

    Needs the read scope: triage is part of reviewing. A false alarm makes the
    incident's series need ten times stronger evidence next time, fading with a
    14-day half-life.
    """
    _incident(request, principal, project, incident_id)
    note = f"{body.comment} ({principal.name})" if body.comment else principal.name
    service_store(request).record_feedback(incident_id, body.action, note=note)
    return _incident(request, principal, project, incident_id)


@router.post(
    "/models/{model}/reports",
    response_model=ReportInfo,
    status_code=201,
    summary="Attach an audit report to a model version",
)
def post_report(
    project: str,
    model: str,
    body: NewReport,
    request: Request,
    principal: Annotated[Principal, Depends(requires("ingest"))],
) -> ReportInfo:
    """Attach an audit report (the JSON of ``seawall audit --json``) to the model."""
    info = ReportInfo(
        report_id=secrets.token_hex(8),
        version=body.version,
        created_at=dt.datetime.now(dt.UTC).replace(tzinfo=None),
        title=body.title,
        has_html=body.html is not None,
    )
    row = [info.report_id, model, info.version, info.created_at, info.title]
    with (
        _model_reading(request, principal, project, model),
        service_store(request).transaction("storing a report") as cur,
    ):
        cur.execute(
            "INSERT INTO service_reports VALUES (?, ?, ?, ?, ?, ?, ?)",
            [*row, json.dumps(body.report), body.html],
        )
    return info


@router.get(
    "/models/{model}/reports/{report_id}", response_model=ReportOut, summary="An audit report"
)
def get_report(
    project: str,
    model: str,
    report_id: str,
    request: Request,
    principal: Annotated[Principal, Depends(requires("read"))],
) -> ReportOut:
    """An audit report attached to the model."""
    with _reading(request, principal, project) as cur:
        found = q.report(cur, project, model, report_id)
    if found is None:
        raise ApiError(404, f"no report {report_id!r} of the model {model!r} in {project!r}.")
    return ReportOut(**found)
