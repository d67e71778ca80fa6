"""Who a request acts for: the bearer token (or the dashboard's session cookie)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from seawall.service._errors import ApiError
from seawall.service._state import service_store
from seawall.service._tokens import Principal, authenticate

__all__ = ["SESSION_COOKIE", "current_principal", "project_access", "requires"]

SESSION_COOKIE = "seawall_session"

_bearer = HTTPBearer(
    auto_error=False,
    description="An API token, sent as 'Authorization: Bearer sw_...'. The first start "
    "of the service prints an admin token; POST /api/v1/tokens issues more.",
)


def current_principal(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    """The principal of the request's bearer token; 401 when there is none or it is not valid.

    The API reads the ``Authorization`` header only, never the dashboard's cookie, so
    no page of another site can make a browser act on the API.
    """
    token = credentials.credentials if credentials is not None else None
    if not token:
        raise ApiError(
            401,
            "this endpoint needs an API token; send 'Authorization: Bearer sw_...' (the "
            "service printed an admin token at its first start).",
            headers={"WWW-Authenticate": "Bearer"},
        )
    principal = authenticate(service_store(request), token)
    if principal is None:
        raise ApiError(
            401,
            "the API token is not valid: it is malformed, unknown or revoked. Check that "
            "it was copied whole, or ask an admin for a new one.",
            headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
        )
    return principal


def requires(scope: str) -> Callable[[Principal], Principal]:
    """A dependency that lets the request through only when its token has ``scope``."""

    def check(principal: Annotated[Principal, Depends(current_principal)]) -> Principal:
        if not principal.can(scope):
            raise ApiError(
                403,
                f"this token ({principal.name!r}) has the scopes {sorted(principal.scopes)}; "
                f"this endpoint needs {scope!r}. Use a token with that scope.",
            )
        return principal

    return check


def project_access(request: Request, principal: Principal, project: str) -> None:
    """404 unless ``project`` exists and ``principal`` is bound to it.

    The two cases answer alike, so a token cannot learn which other projects exist.
    """
    if principal.sees(project):
        cur = service_store(request).cursor()
        try:
            row = cur.execute(
                "SELECT 1 FROM service_projects WHERE project = ?", [project]
            ).fetchone()
        finally:
            cur.close()
        if row is not None:
            return
    raise ApiError(
        404,
        f"no project {project!r} for this token: it does not exist or the token is not "
        f"bound to it. GET /api/v1/projects lists the projects this token sees.",
    )
