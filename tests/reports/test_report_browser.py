"""Open the report in a real browser (the system Chromium) and check that it renders offline.

Needs the ``chromium`` Debian package (``/usr/bin/chromium``) and the ``playwright``
Python package; Playwright's own browser download is not used. Skipped, with the
reason, when either is missing.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from _browser import launched, require_browser
from seawall.associations import Investigation
from seawall.audit import AuditResult
from seawall.reports import write_investigation, write_report

#: Where the full-page screenshot goes, for a person to look at.
SCREENSHOT = Path(os.environ.get("SEAWALL_REPORT_SCREENSHOT", "/tmp/report.png"))

sync_api = require_browser()


@pytest.fixture(scope="module")
def browser() -> Any:
    with launched(sync_api) as b:
        yield b


def _open(browser: Any, html: Path, *, offline: bool = False) -> tuple[Any, dict[str, list[str]]]:
    page = browser.new_page(viewport={"width": 1320, "height": 1000})
    if offline:  # the browser's network is cut: only the file itself can load
        page.context.set_offline(True)
    seen: dict[str, list[str]] = {"errors": [], "requests": [], "failed": [], "dialogs": []}
    page.on(
        "console",
        lambda m: seen["errors"].append(m.text) if m.type in ("error", "warning") else None,
    )
    page.on("pageerror", lambda e: seen["errors"].append(str(e)))
    page.on("request", lambda r: seen["requests"].append(r.url))
    page.on("requestfailed", lambda r: seen["failed"].append(r.url))

    def on_dialog(d: Any) -> None:
        seen["dialogs"].append(d.message)
        d.dismiss()

    page.on("dialog", on_dialog)
    page.goto(html.resolve().as_uri(), wait_until="load")
    page.wait_for_function(
        "(() => { const divs = [...document.querySelectorAll('.plotly-graph-div')];"
        " return divs.length > 0 && divs.every(d => d.querySelector('.main-svg')); })()",
        timeout=30_000,
    )
    return page, seen


@pytest.mark.parametrize("name", ["classification_audit", "regression_audit"])
def test_report_renders_offline(
    name: str, browser: Any, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    result: AuditResult = request.getfixturevalue(name)
    paths = write_report(result, tmp_path)
    page, seen = _open(browser, paths.html)
    try:
        # Two charts per grouping, and the mitigation section's (classification).
        n_charts = 2 * len(set(result.metrics.groups.grouping)) + (result.mitigation is not None)
        assert page.locator(".plotly-graph-div").count() == n_charts
        assert page.locator(".plot-container").count() == n_charts
        # Every chart drew its points and error bars.
        for div in page.locator(".plotly-graph-div").all():
            assert div.locator(".scatterlayer .point").count() > 0
            assert div.locator(".errorbar").count() > 0
        assert page.locator(".verdict-word").inner_text() == ("PASS" if result.passed else "FAIL")
        assert seen["errors"] == []
        assert seen["failed"] == []
        assert seen["dialogs"] == []  # no label ran as script
        assert seen["requests"] == [paths.html.resolve().as_uri()]  # nothing else was loaded
        if name == "classification_audit":
            SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SCREENSHOT), full_page=True)
            assert SCREENSHOT.stat().st_size > 10_000
    finally:
        page.close()


def test_hostile_labels_show_as_text(
    browser: Any, classification_audit: AuditResult, tmp_path: Path, hostile_labels: tuple[str, str]
) -> None:
    paths = write_report(classification_audit, tmp_path)
    page, seen = _open(browser, paths.html)
    try:
        text = page.locator("body").inner_text()
        for label in hostile_labels:
            assert label in text  # shown literally, as text
        ticks = page.locator("#rates-0 .ytick text").all_text_contents()
        for label in hostile_labels:  # and on the chart's axis, decoded
            assert any(label in t for t in ticks), (label, ticks)
        assert seen["dialogs"] == []
    finally:
        page.close()


def test_investigation_report_renders_offline(
    browser: Any,
    error_investigation: Investigation,
    tmp_path: Path,
    hostile_labels: tuple[str, str],
) -> None:
    paths = write_investigation(
        error_investigation, tmp_path, command="seawall investigate x.csv --out o"
    )
    page, seen = _open(browser, paths.html, offline=True)
    try:
        n = len(error_investigation.findings)
        assert n >= 2
        assert page.locator(".plotly-graph-div").count() == n
        assert page.locator("article.card").count() == n
        # Every chart drew both sides and the difference, with their interval bars.
        for div in page.locator(".plotly-graph-div").all():
            assert div.locator(".scatterlayer .point").count() == 3
            assert div.locator(".errorbar").count() == 3
        assert page.locator(".verdict-word").inner_text() == str(n)
        assert hostile_labels[0] in page.locator("body").inner_text()  # shown as text
        ticks = page.locator("#chart-0 .ytick text").all_text_contents()
        assert any(hostile_labels[0] in t for t in ticks), ticks
        assert seen["errors"] == []
        assert seen["failed"] == []
        assert seen["dialogs"] == []  # no label ran as script
        assert seen["requests"] == [paths.html.resolve().as_uri()]  # nothing else was loaded
    finally:
        page.close()
