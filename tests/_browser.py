"""The system Chromium driven by Playwright, shared by the browser tests.

Playwright's own browser download is never used: Debian's ``chromium`` package
(``/usr/bin/chromium``) is. :func:`require_browser` skips the calling test module,
with the reason, when it or the ``playwright`` package is missing.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]


def require_browser() -> Any:
    """The ``playwright.sync_api`` module; skips the module when a piece is missing."""
    sync_api = pytest.importorskip(
        "playwright.sync_api",
        reason="the playwright Python package is not installed (pip install playwright)",
    )
    if not CHROMIUM.exists():
        pytest.skip(
            f"{CHROMIUM} is missing; install Debian's chromium package (apt-get install chromium)",
            allow_module_level=True,
        )
    return sync_api


@contextmanager
def launched(sync_api: Any) -> Iterator[Any]:
    """A headless Chromium, closed at the end."""
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=ARGS)
        try:
            yield browser
        finally:
            browser.close()
