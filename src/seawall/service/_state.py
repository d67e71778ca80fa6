"""What the running app holds: its settings and its store."""

from __future__ import annotations

from fastapi import Request

from seawall.service._errors import ApiError
from seawall.service._prometheus import ServiceMetrics
from seawall.service._settings import ServiceSettings
from seawall.storage import Store

__all__ = ["service_metrics", "service_settings", "service_store"]


def service_store(request: Request) -> Store:
    """The store of the app serving ``request``; 503 before start-up or after shutdown."""
    store = getattr(request.app.state, "store", None)
    if store is None or store.closed:
        raise ApiError(503, "the service is starting or stopping; retry in a moment.")
    return store  # type: ignore[no-any-return]


def service_settings(request: Request) -> ServiceSettings:
    """The settings of the app serving ``request``."""
    return request.app.state.settings  # type: ignore[no-any-return]


def service_metrics(request: Request) -> ServiceMetrics:
    """The counters of the app serving ``request``."""
    return request.app.state.metrics  # type: ignore[no-any-return]
