"""Webhooks per project, and running the monitoring cycle on demand (admin)."""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from pydantic import AnyHttpUrl, BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from seawall.service._auth import project_access, requires
from seawall.service._errors import ApiError
from seawall.service._monitor_loop import MonitorLoop
from seawall.service._state import service_store
from seawall.service._tokens import Principal

__all__ = ["router"]

router = APIRouter(prefix="/api/v1", tags=["monitoring"])


class NewWebhook(BaseModel):
    """Where to post a project's new incidents, and from which severity on."""

    model_config = ConfigDict(extra="forbid")
    url: AnyHttpUrl
    min_severity: Annotated[float, Field(ge=0, allow_inf_nan=False)] = 0.0


class Webhook(BaseModel):
    """A webhook (its secret is shown only when it is created)."""

    webhook_id: str
    project: str
    url: str
    min_severity: float
    created_at: dt.datetime


class CreatedWebhook(Webhook):
    """A new webhook: ``secret`` signs its requests (HMAC-SHA256) and is shown once."""

    secret: str


class CycleOut(BaseModel):
    """What a monitoring cycle did for one project."""

    project: str
    outcome: str
    n_models: int
    n_incidents: int
    n_alerts: int
    seconds: float


class RunOut(BaseModel):
    """A monitoring cycle and the webhook deliveries after it."""

    cycles: list[CycleOut]
    delivered: int
    failed: int


def _loop(request: Request) -> MonitorLoop:
    return request.app.state.monitor  # type: ignore[no-any-return]


@router.post(
    "/projects/{project}/webhooks",
    response_model=CreatedWebhook,
    status_code=201,
    summary="Add a webhook (admin)",
)
def post_webhook(
    project: str,
    body: NewWebhook,
    request: Request,
    principal: Annotated[Principal, Depends(requires("admin"))],
) -> CreatedWebhook:
    """Post each new incident of the project (at least ``min_severity``) to ``url``.

    One incident sends one notification, signed with the secret returned here.
    """
    project_access(request, principal, project)
    hook = CreatedWebhook(
        webhook_id=secrets.token_hex(8),
        project=project,
        url=str(body.url),
        min_severity=body.min_severity,
        created_at=dt.datetime.now(dt.UTC).replace(tzinfo=None),
        secret=secrets.token_urlsafe(32),
    )
    with service_store(request).transaction("adding a webhook") as cur:
        cur.execute(
            "INSERT INTO service_webhooks VALUES (?, ?, ?, ?, ?, ?, true)",
            [hook.webhook_id, project, hook.url, hook.secret, hook.min_severity, hook.created_at],
        )
    return hook


@router.get(
    "/projects/{project}/webhooks", response_model=list[Webhook], summary="Webhooks (admin)"
)
def get_webhooks(
    project: str, request: Request, principal: Annotated[Principal, Depends(requires("admin"))]
) -> list[Webhook]:
    """The project's active webhooks (without their secrets)."""
    project_access(request, principal, project)
    cur = service_store(request).cursor()
    try:
        rows = cur.execute(
            "SELECT webhook_id, project, url, min_severity, created_at FROM service_webhooks "
            "WHERE project = ? AND active ORDER BY created_at",
            [project],
        ).fetchall()
    finally:
        cur.close()
    keys = ("webhook_id", "project", "url", "min_severity", "created_at")
    return [Webhook(**dict(zip(keys, r, strict=True))) for r in rows]


@router.delete(
    "/projects/{project}/webhooks/{webhook_id}", status_code=204, summary="Remove a webhook"
)
def delete_webhook(
    project: str,
    webhook_id: str,
    request: Request,
    principal: Annotated[Principal, Depends(requires("admin"))],
) -> Response:
    """Stop posting to a webhook (its queued alerts are dropped)."""
    project_access(request, principal, project)
    with service_store(request).transaction("removing a webhook") as cur:
        row = cur.execute(
            "UPDATE service_webhooks SET active = false WHERE webhook_id = ? AND project = ? "
            "AND active RETURNING webhook_id",
            [webhook_id, project],
        ).fetchone()
    if row is None:
        raise ApiError(404, f"no webhook {webhook_id!r} in the project {project!r}.")
    return Response(status_code=204)


@router.post("/monitor/run", response_model=RunOut, summary="Run a monitoring cycle (admin)")
async def post_run(
    request: Request, principal: Annotated[Principal, Depends(requires("admin"))]
) -> RunOut:
    """Run the monitoring cycle now (windows, detection, incidents, alerts) and deliver."""
    loop = _loop(request)
    cycles = await run_in_threadpool(loop.cycle)
    done = await run_in_threadpool(loop.deliver)
    return RunOut(
        cycles=[CycleOut(**c.__dict__) for c in cycles],
        delivered=done.delivered,
        failed=done.failed,
    )
