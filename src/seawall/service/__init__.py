"""The Seawall service: ingestion API, read API, dashboard and alerts over one store.

``create_app(settings)`` builds the FastAPI app; ``seawall serve`` runs it on
uvicorn. Needs the ``service`` extra (``pip install seawall[service]``).

- :class:`ServiceSettings`: where the store is, what to bind, the limits.
- :func:`create_app`: the ASGI app.
- :func:`issue_token`, :func:`revoke_token`, :func:`authenticate`: API tokens
  (stored as SHA-256 digests, with scopes and projects).
- :func:`verify_signature` (and :func:`sign`): what a webhook receiver checks.
"""

from __future__ import annotations

from seawall.service._alerts import sign, verify_signature
from seawall.service._app import create_app, open_service_store
from seawall.service._settings import ServiceSettings
from seawall.service._tokens import (
    SCOPES,
    IssuedToken,
    Principal,
    authenticate,
    issue_token,
    revoke_token,
)

__all__ = [
    "SCOPES",
    "IssuedToken",
    "Principal",
    "ServiceSettings",
    "authenticate",
    "create_app",
    "issue_token",
    "open_service_store",
    "revoke_token",
    "sign",
    "verify_signature",
]
