"""The dashboard in a real browser (Debian's Chromium via Playwright) on a real server.

Log in, open the overview, open an incident, acknowledge it and see the state change;
full-page screenshots are saved as test artefacts (``test-artifacts/dashboard/`` at the
repository root, or ``$SEAWALL_ARTIFACTS/dashboard``). Skipped, with the reason, when
Chromium or Playwright is missing.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from _server import Server, start_server
from _service_api import load_monitored_fleet

from _browser import launched, require_browser
from seawall.service import ServiceSettings, issue_token, open_service_store

pytestmark = pytest.mark.service

ARTIFACTS = (
    Path(
        os.environ.get("SEAWALL_ARTIFACTS", Path(__file__).resolve().parents[2] / "test-artifacts")
    )
    / "dashboard"
)

sync_api = require_browser()


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, str]]:
    root = tmp_path_factory.mktemp("browser")
    path = root / "fleet.duckdb"
    store, _ = open_service_store(ServiceSettings(store=path))
    try:
        load_monitored_fleet(store)
        token = issue_token(store, "on-call", ["read"], ["shop"]).token
    finally:
        store.close()
    server = start_server(path, root / "server.log")
    try:
        yield server, token
    finally:
        server.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with launched(sync_api) as b:
        yield b


def _shot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def _charts_drawn(page: Any) -> int:
    page.wait_for_function("document.querySelectorAll('.plotly-graph-div .main-svg').length > 0")
    return int(page.evaluate("document.querySelectorAll('.plotly-graph-div .main-svg').length"))


def test_log_in_open_an_incident_and_acknowledge_it(
    served: tuple[Server, str], browser: Any
) -> None:
    server, token = served
    page = browser.new_page(viewport={"width": 1320, "height": 1000})
    errors: list[str] = []
    hosts: set[str] = set()
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("request", lambda r: hosts.add(urlsplit(r.url).netloc))

    page.goto(f"{server.url}/p/shop")
    assert "/login" in page.url  # not logged in: sent to the login page
    page.fill("#token", "sw_not_a_token")
    page.click("button[type=submit]")
    assert page.locator(".error").inner_text().startswith("That token is not valid")
    page.fill("#token", token)
    page.click("button[type=submit]")
    page.wait_for_url(f"{server.url}/p/shop")
    assert page.locator("h1").inner_text() == "Fleet overview"
    assert _charts_drawn(page) >= 1  # the health heat-map
    assert page.locator("#models tbody tr").count() == 3
    open_before = int(page.locator("#open-count").inner_text())
    assert open_before >= 1
    _shot(page, "1-overview")

    page.locator("#incidents tbody tr a").first.click()
    page.wait_for_url("**/incidents/**")
    assert page.locator("#status").inner_text() == "open"
    assert _charts_drawn(page) >= 1  # the members against their band
    _shot(page, "2-incident")

    page.fill("textarea[name=comment]", "Looking into the accuracy drop")
    page.click("button[value=acknowledge]")
    page.wait_for_selector("#history")
    assert page.locator("#status").inner_text() == "acknowledged"
    assert "Looking into the accuracy drop (on-call)" in page.locator("#history").inner_text()
    _shot(page, "3-acknowledged")

    page.goto(f"{server.url}/p/shop")
    assert int(page.locator("#open-count").inner_text()) == open_before - 1
    page.locator("#models tbody tr a").first.click()
    page.wait_for_url("**/models/**")
    assert _charts_drawn(page) >= 2
    _shot(page, "4-model")

    assert errors == []
    assert hosts == {urlsplit(server.url).netloc}  # nothing loaded from anywhere else
    page.close()
