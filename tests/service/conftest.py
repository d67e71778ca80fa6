"""An app over an in-memory store, a client, and tokens of every kind."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from _service_api import Api, bearer
from fastapi.testclient import TestClient

from seawall.service import ServiceSettings, create_app, issue_token
from seawall.storage import Store


@pytest.fixture
def api() -> Iterator[Api]:
    app = create_app(
        ServiceSettings(print_admin_token=False, max_body_bytes=200_000, schedule_seconds=0)
    )
    with TestClient(app) as client:
        store: Store = app.state.store
        admin = bearer(issue_token(store, "admin", ["admin"], ["*"]).token)
        for project in ("shop", "bank"):
            r = client.post("/api/v1/projects", json={"project": project}, headers=admin)
            assert r.status_code == 201, r.text
        yield Api(
            client=client,
            store=store,
            admin=admin,
            ingest_shop=bearer(issue_token(store, "i-shop", ["ingest"], ["shop"]).token),
            read_shop=bearer(issue_token(store, "r-shop", ["read"], ["shop"]).token),
            ingest_bank=bearer(issue_token(store, "i-bank", ["ingest"], ["bank"]).token),
        )
