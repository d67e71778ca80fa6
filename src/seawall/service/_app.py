"""The service's app: ``create_app(settings)`` builds a FastAPI app over one store."""

from __future__ import annotations

import contextlib
import datetime as dt
import sys
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Request, Response
from fastapi.openapi.utils import get_openapi
from fastapi.responses import PlainTextResponse
from prometheus_client import CONTENT_TYPE_LATEST
from pydantic import BaseModel

from seawall._version import __version__
from seawall.service._auth import requires
from seawall.service._dashboard import install_dashboard
from seawall.service._errors import ERROR_RESPONSES, install_error_handlers
from seawall.service._health import refresh_health
from seawall.service._ingest_models import LabelBatch, MetricBatch, ModelBatch, PredictionBatch
from seawall.service._limits import BodyLimit
from seawall.service._monitor_loop import MonitorLoop
from seawall.service._projects import DEFAULT_PROJECT
from seawall.service._prometheus import ServiceMetrics, exposition
from seawall.service._routes_admin import router as admin_router
from seawall.service._routes_ingest import router as ingest_router
from seawall.service._routes_monitor import router as monitor_router
from seawall.service._routes_read import router as read_router
from seawall.service._schema import ensure_service_tables
from seawall.service._settings import ServiceSettings
from seawall.service._state import service_store
from seawall.service._tokens import Principal, ensure_admin_token
from seawall.storage import Store

__all__ = ["create_app", "open_service_store"]


class Health(BaseModel):
    """Whether the service runs, and its version."""

    status: str
    version: str


def open_service_store(settings: ServiceSettings) -> tuple[Store, str | None]:
    """Open the store with the service's tables, ``default`` project and an admin token.

    The admin token is created only when the store has no active one.

    Returns
    -------
    store : Store
    admin_token : str or None
        The admin token created now (to print once), or ``None``.
    """
    store = Store(settings.store)
    try:
        ensure_service_tables(store)
        with store.transaction("creating the default project") as cur:
            cur.execute(
                "INSERT INTO service_projects VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
                [
                    DEFAULT_PROJECT,
                    "Models stored without a project.",
                    dt.datetime.now(dt.UTC).replace(tzinfo=None),
                ],
            )
        token = ensure_admin_token(store)
        if _needs_health(store):  # a store scored elsewhere (seawall demo, monitor detect)
            refresh_health(store)
    except BaseException:
        store.close()
        raise
    return store, token


def _needs_health(store: Store) -> bool:
    cur = store.cursor()
    try:
        row = cur.execute(
            "SELECT (SELECT count(*) FROM service_model_health) = 0 "
            "AND EXISTS (SELECT 1 FROM anomalies)"
        ).fetchone()
    finally:
        cur.close()
    return bool(row and row[0])


def create_app(settings: ServiceSettings | None = None, *, store: Store | None = None) -> FastAPI:
    """The Seawall service as an ASGI app (FastAPI), over the store of ``settings``.

    The store opens when the app starts and closes when it stops. On a store
    without an admin token, one is created at start and, unless
    ``settings.print_admin_token`` is false, printed once to standard error.

    Parameters
    ----------
    settings : ServiceSettings or None, default=None
        ``None`` reads them from the environment (``SEAWALL_STORE`` and so on).
    store : Store or None, default=None
        A store already opened with :func:`open_service_store` (so that opening
        errors surface before the server starts); the app closes it when it stops.
        ``None`` opens ``settings.store`` at start.

    Returns
    -------
    fastapi.FastAPI

    Examples
    --------
    >>> from fastapi.testclient import TestClient
    >>> app = create_app(ServiceSettings(print_admin_token=False))
    >>> with TestClient(app) as client:
    ...     client.get("/healthz").json()["status"]
    'ok'
    """
    settings = settings if settings is not None else ServiceSettings()

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if store is None:
            opened, token = open_service_store(settings)
        else:
            opened, token = store, None
        app.state.store = opened
        monitor = MonitorLoop(opened, settings, app.state.metrics)
        app.state.monitor = monitor
        monitor.start()
        if token is not None and settings.print_admin_token:
            print(
                f"Seawall created an admin token for this store. It is shown once; keep it:\n"
                f"  {token}",
                file=sys.stderr,
                flush=True,
            )
        try:
            yield
        finally:
            monitor.stop()
            app.state.store = None
            opened.close()

    app = FastAPI(
        title="Seawall",
        version=__version__,
        summary="Fairness audits and fleet monitoring for machine-learning models.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.store = None
    app.state.metrics = ServiceMetrics.create()
    install_error_handlers(app)
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)

    @app.get("/healthz", response_model=Health, tags=["service"], summary="Liveness")
    def healthz() -> Health:
        """``ok`` while the service runs (no token needed)."""
        return Health(status="ok", version=__version__)

    @app.get(
        "/metrics",
        tags=["service"],
        summary="Prometheus metrics",
        response_class=PlainTextResponse,
        responses={200: {"content": {CONTENT_TYPE_LATEST: {}}}, **ERROR_RESPONSES},
    )
    def metrics(
        request: Request, principal: Annotated[Principal, Depends(requires("read"))]
    ) -> Response:
        """The Prometheus exposition (needs a read token; shows the projects it sees)."""
        body = exposition(
            app.state.metrics, service_store(request), principal, settings.prometheus_series
        )
        return Response(body, media_type=CONTENT_TYPE_LATEST)

    app.include_router(admin_router, responses=ERROR_RESPONSES)
    app.include_router(ingest_router, responses=ERROR_RESPONSES)
    app.include_router(read_router, responses=ERROR_RESPONSES)
    app.include_router(monitor_router, responses=ERROR_RESPONSES)
    install_dashboard(app)
    _document_bodies(app, (ModelBatch, PredictionBatch, LabelBatch, MetricBatch))
    return app


def _document_bodies(app: FastAPI, models: tuple[type[BaseModel], ...]) -> None:
    """Add the schemas of bodies that routes read themselves to the OpenAPI document."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title,
                version=app.version,
                summary=app.summary,
                routes=app.routes,
            )
            schemas = schema.setdefault("components", {}).setdefault("schemas", {})
            for model in models:
                found = model.model_json_schema(ref_template="#/components/schemas/{model}")
                schemas.update(found.pop("$defs", {}))
                schemas[model.__name__] = found
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
