"""API tokens: random secrets stored as SHA-256 digests, with scopes and projects.

A token reads ``sw_<id>_<secret>``. The id finds the stored row; the secret's
digest is compared in constant time (:func:`hmac.compare_digest`). The secret is
shown once, when the token is issued, and never stored. Scopes are ``ingest``
(write data), ``read`` (read data and the dashboard) and ``admin`` (everything,
including projects and tokens). A token is bound to a list of projects, or to every
project (``"*"``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from seawall._validation import param_error
from seawall.storage import Store

__all__ = [
    "ALL_PROJECTS",
    "SCOPES",
    "IssuedToken",
    "Principal",
    "authenticate",
    "ensure_admin_token",
    "issue_token",
    "list_tokens",
    "revoke_token",
]

Scope = Literal["ingest", "read", "admin"]
SCOPES: tuple[Scope, ...] = ("ingest", "read", "admin")
ALL_PROJECTS = "*"
_TOKEN = re.compile(r"^sw_([0-9a-f]{16})_([A-Za-z0-9_-]{20,100})$")


@dataclass(frozen=True)
class Principal:
    """Who a request acts for: a token's id, name, scopes and projects.

    Attributes
    ----------
    token_id : str
        The public half of the token.
    name : str
        What the token is for.
    scopes : frozenset of str
        ``ingest``, ``read`` and/or ``admin``.
    projects : frozenset of str
        The projects it may touch; ``{"*"}`` for every project.

    Examples
    --------
    >>> p = Principal("0" * 16, "ci", frozenset({"read"}), frozenset({"shop"}))
    >>> p.can("read"), p.can("ingest"), p.sees("shop"), p.sees("bank")
    (True, False, True, False)
    """

    token_id: str
    name: str
    scopes: frozenset[str]
    projects: frozenset[str]

    def can(self, scope: str) -> bool:
        """Whether the token has ``scope`` (``admin`` has every scope)."""
        return scope in self.scopes or "admin" in self.scopes

    def sees(self, project: str) -> bool:
        """Whether the token is bound to ``project``."""
        return ALL_PROJECTS in self.projects or project in self.projects


@dataclass(frozen=True)
class IssuedToken:
    """A token just issued: the secret text (shown once), who it acts for, when."""

    token: str
    principal: Principal
    created_at: dt.datetime


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def _clean(scopes: Iterable[str], projects: Iterable[str]) -> tuple[list[str], list[str]]:
    scope_list = sorted({str(s) for s in scopes})
    if not scope_list or any(s not in SCOPES for s in scope_list):
        raise param_error("scopes", "issue_token", f"a non-empty subset of {list(SCOPES)}", scopes)
    project_list = sorted({str(p) for p in projects})
    if not project_list or any(not p for p in project_list):
        raise param_error(
            "projects", "issue_token", "a non-empty list of project names, or ['*']", projects
        )
    return scope_list, project_list


def issue_token(
    store: Store, name: str, scopes: Iterable[str], projects: Iterable[str]
) -> IssuedToken:
    """Create a token; its secret is returned once and only its digest is stored.

    Parameters
    ----------
    store : Store
        The store holding the service's tables.
    name : str
        What the token is for (shown in listings).
    scopes : iterable of str
        Among ``ingest``, ``read``, ``admin``.
    projects : iterable of str
        The projects it may touch, or ``["*"]`` for all.

    Returns
    -------
    IssuedToken

    Examples
    --------
    >>> from seawall.service._schema import ensure_service_tables
    >>> with Store() as store:
    ...     ensure_service_tables(store)
    ...     issued = issue_token(store, "ci", ["ingest"], ["shop"])
    ...     who = authenticate(store, issued.token)
    >>> who.name, sorted(who.scopes), who.sees("shop")
    ('ci', ['ingest'], True)
    """
    scope_list, project_list = _clean(scopes, projects)
    token_id = secrets.token_hex(8)
    secret = secrets.token_urlsafe(32)
    now = _now()
    with store.transaction("issuing a token") as cur:
        cur.execute(
            "INSERT INTO service_tokens VALUES (?, ?, ?, ?, ?, ?, NULL)",
            [token_id, _digest(secret), str(name), scope_list, project_list, now],
        )
    principal = Principal(token_id, str(name), frozenset(scope_list), frozenset(project_list))
    return IssuedToken(f"sw_{token_id}_{secret}", principal, now)


def authenticate(store: Store, token: str) -> Principal | None:
    """The principal of a token, or ``None`` when it is malformed, unknown or revoked.

    The digest of the secret is compared in constant time.
    """
    match = _TOKEN.match(token or "")
    if match is None:
        # Spend the same work as a real comparison, so timing does not tell
        # malformed tokens from wrong ones.
        hmac.compare_digest(_digest(token or ""), _digest(""))
        return None
    token_id, secret = match.groups()
    cur = store.cursor()
    try:
        row = cur.execute(
            "SELECT secret_sha256, name, scopes, projects FROM service_tokens "
            "WHERE token_id = ? AND revoked_at IS NULL",
            [token_id],
        ).fetchone()
    finally:
        cur.close()
    stored = row[0] if row is not None else _digest("")
    if not hmac.compare_digest(_digest(secret), str(stored)) or row is None:
        return None
    return Principal(token_id, str(row[1]), frozenset(row[2]), frozenset(row[3]))


def revoke_token(store: Store, token_id: str) -> bool:
    """Revoke a token at once; ``False`` when no active token has that id."""
    with store.transaction("revoking a token") as cur:
        row = cur.execute(
            "UPDATE service_tokens SET revoked_at = ? WHERE token_id = ? AND revoked_at IS NULL "
            "RETURNING token_id",
            [_now(), token_id],
        ).fetchone()
    return row is not None


def list_tokens(store: Store) -> list[dict[str, object]]:
    """Every token's id, name, scopes, projects and dates (never a secret)."""
    cur = store.cursor()
    try:
        rows = cur.execute(
            "SELECT token_id, name, scopes, projects, created_at, revoked_at "
            "FROM service_tokens ORDER BY created_at, token_id"
        ).fetchall()
    finally:
        cur.close()
    keys = ("token_id", "name", "scopes", "projects", "created_at", "revoked_at")
    return [dict(zip(keys, r, strict=True)) for r in rows]


def ensure_admin_token(store: Store) -> str | None:
    """Issue an admin token for every project when the store has no active one.

    Returns
    -------
    str or None
        The new token's text (to print once), or ``None`` when one exists.
    """
    cur = store.cursor()
    try:
        row = cur.execute(
            "SELECT count(*) FROM service_tokens "
            "WHERE revoked_at IS NULL AND list_contains(scopes, 'admin')"
        ).fetchone()
    finally:
        cur.close()
    if row is not None and int(row[0]) > 0:
        return None
    return issue_token(store, "admin (created at first start)", ["admin"], [ALL_PROJECTS]).token
