"""Projects and tokens: ``/api/v1/projects`` and ``/api/v1/tokens``."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from seawall.service._auth import requires
from seawall.service._errors import ApiError
from seawall.service._state import service_store
from seawall.service._tokens import (
    ALL_PROJECTS,
    SCOPES,
    Principal,
    issue_token,
    list_tokens,
    revoke_token,
)

__all__ = ["router"]

router = APIRouter(prefix="/api/v1", tags=["admin"])

ProjectName = Annotated[
    str, StringConstraints(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
]


class NewProject(BaseModel):
    """A project to create: a group of models that tokens are bound to."""

    model_config = ConfigDict(extra="forbid")
    project: ProjectName
    description: Annotated[str, Field(max_length=2_000)] = ""


class Project(BaseModel):
    """A project and how many models it has."""

    project: str
    description: str
    created_at: dt.datetime
    n_models: int


class NewToken(BaseModel):
    """A token to issue: what it is for, its scopes and its projects (``["*"]`` for all)."""

    model_config = ConfigDict(extra="forbid")
    name: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    scopes: Annotated[list[str], Field(min_length=1, max_length=3)]
    projects: Annotated[list[str], Field(min_length=1, max_length=1_000)]


class TokenInfo(BaseModel):
    """A token as listed: never its secret."""

    token_id: str
    name: str
    scopes: list[str]
    projects: list[str]
    created_at: dt.datetime
    revoked_at: dt.datetime | None = None


class IssuedTokenOut(TokenInfo):
    """A new token: ``token`` is shown this once and cannot be recovered."""

    token: str


def _projects(request: Request, principal: Principal) -> list[Project]:
    cur = service_store(request).cursor()
    try:
        rows = cur.execute(
            "SELECT p.project, p.description, p.created_at, count(m.model) FROM service_projects p "
            "LEFT JOIN models m ON m.project = p.project "
            "GROUP BY ALL ORDER BY p.project"
        ).fetchall()
    finally:
        cur.close()
    return [
        Project(project=r[0], description=r[1], created_at=r[2], n_models=int(r[3]))
        for r in rows
        if principal.sees(r[0])
    ]


@router.get("/projects", response_model=list[Project], summary="The projects this token sees")
def get_projects(
    request: Request, principal: Annotated[Principal, Depends(requires("read"))]
) -> list[Project]:
    """Every project the token is bound to, with its number of models."""
    return _projects(request, principal)


@router.post(
    "/projects", response_model=Project, status_code=201, summary="Create a project (admin)"
)
def post_project(
    body: NewProject,
    request: Request,
    principal: Annotated[Principal, Depends(requires("admin"))],
) -> Project:
    """Create a project; 409 when it exists."""
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    with service_store(request).transaction("creating a project") as cur:
        taken = cur.execute(
            "SELECT 1 FROM service_projects WHERE project = ?", [body.project]
        ).fetchone()
        if taken is not None:
            raise ApiError(409, f"the project {body.project!r} exists already; pick another name.")
        cur.execute(
            "INSERT INTO service_projects VALUES (?, ?, ?)", [body.project, body.description, now]
        )
    return Project(project=body.project, description=body.description, created_at=now, n_models=0)


@router.get("/tokens", response_model=list[TokenInfo], summary="Every token (admin)")
def get_tokens(
    request: Request, principal: Annotated[Principal, Depends(requires("admin"))]
) -> list[TokenInfo]:
    """Every token issued, active or revoked, without secrets."""
    return [TokenInfo.model_validate(t) for t in list_tokens(service_store(request))]


@router.post(
    "/tokens", response_model=IssuedTokenOut, status_code=201, summary="Issue a token (admin)"
)
def post_token(
    body: NewToken,
    request: Request,
    principal: Annotated[Principal, Depends(requires("admin"))],
) -> IssuedTokenOut:
    """Issue a token bound to existing projects (or ``"*"``); its secret is shown once."""
    bad = [s for s in body.scopes if s not in SCOPES]
    if bad:
        raise ApiError(
            422,
            f"scopes: {bad[0]!r} is not a scope; use some of {list(SCOPES)}.",
            details=[{"loc": "scopes", "message": f"unknown scope {bad[0]!r}"}],
        )
    store = service_store(request)
    named = [p for p in body.projects if p != ALL_PROJECTS]
    cur = store.cursor()
    try:
        known = {
            r[0]
            for r in cur.execute(
                "SELECT project FROM service_projects WHERE list_contains(?, project)", [named]
            ).fetchall()
        }
    finally:
        cur.close()
    missing = [p for p in named if p not in known]
    if missing:
        raise ApiError(
            422,
            f"projects: there is no project {missing[0]!r}; create it first with POST "
            f"/api/v1/projects, or pass '*' for every project.",
            details=[{"loc": "projects", "message": f"no project {missing[0]!r}"}],
        )
    issued = issue_token(store, body.name, body.scopes, body.projects)
    p = issued.principal
    return IssuedTokenOut(
        token=issued.token,
        token_id=p.token_id,
        name=p.name,
        scopes=sorted(p.scopes),
        projects=sorted(p.projects),
        created_at=issued.created_at,
    )


@router.delete("/tokens/{token_id}", status_code=204, summary="Revoke a token (admin)")
def delete_token(
    token_id: str, request: Request, principal: Annotated[Principal, Depends(requires("admin"))]
) -> Response:
    """Revoke a token at once; 404 when no active token has that id."""
    if not revoke_token(service_store(request), token_id):
        raise ApiError(404, f"no active token {token_id!r}; GET /api/v1/tokens lists them.")
    return Response(status_code=204)
