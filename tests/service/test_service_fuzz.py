"""Fuzzing the API from its OpenAPI document (schemathesis): no request gets a 5xx.

Every operation of ``/openapi.json`` gets generated requests (valid and invalid
bodies, parameters and content types), sent with an admin token so that they reach
past authentication; every answer must be below 500, and every 4xx must carry the
one JSON error shape. The examples are derandomised: the run is the same each time.
(The cases are driven with Hypothesis directly and sent through one test client:
schemathesis' pytest plugin does not run under pytest 9, and its own ASGI calls
would run the app's start-up again, with a new in-memory store.)
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from _service_api import load_monitored_fleet
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings

from seawall.service import ServiceSettings, create_app, issue_token

schemathesis = pytest.importorskip("schemathesis", reason="pip install schemathesis")


_KNOWN = {"project": "shop", "model": "churn", "metric": "accuracy"}


@pytest.fixture(scope="module")
def fuzzed() -> Iterator[tuple[Any, Any, str]]:
    app = create_app(ServiceSettings(print_admin_token=False, schedule_seconds=0))
    with TestClient(app) as client:  # the lifespan runs once: one store for every call
        store = app.state.store
        load_monitored_fleet(store)
        token = issue_token(store, "fuzzer", ["admin"], ["*"]).token
        # From the document itself: loading it over ASGI would run the app's
        # start-up again and swap its store.
        yield schemathesis.openapi.from_dict(app.openapi()), client, token


def _operations() -> list[str]:
    app = create_app(ServiceSettings(print_admin_token=False, schedule_seconds=0))
    schema = schemathesis.openapi.from_dict(app.openapi())
    return [op.ok().label for op in schema.get_all_operations()]


@pytest.mark.parametrize("label", _operations())
def test_no_server_error(fuzzed: tuple[Any, Any, str], label: str) -> None:
    schema, client, token = fuzzed
    operation = next(op.ok() for op in schema.get_all_operations() if op.ok().label == label)
    statuses: list[int] = []

    @given(case=operation.as_strategy())
    @settings(
        max_examples=30,
        derandomize=True,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def run(case: Any) -> None:
        # Every other case aims at data that exists, so it gets past the 404s.
        if case.path_parameters and len(statuses) % 2 == 0:
            for name, value in _KNOWN.items():
                if name in case.path_parameters:
                    case.path_parameters[name] = value
        request = case.as_transport_kwargs(base_url="http://testserver")
        request["headers"]["Authorization"] = f"Bearer {token}"  # past authentication
        request.pop("cookies", None)  # the API reads no cookie
        response = client.request(**request)
        statuses.append(response.status_code)
        assert response.status_code < 500, (case.method, case.formatted_path, response.text)
        if response.status_code >= 400:
            body = response.json()
            assert set(body) == {"error"} and body["error"]["status"] == response.status_code

    run()
    # The fuzzer got past authentication: not every answer is a 401.
    assert any(s != 401 for s in statuses), statuses
