"""/docs renders in headless Chromium with every request answered by the instance itself.

One small browser test (the web interface's Playwright suite is separate); skipped where
Playwright or Chromium is not installed (.ci/run installs both).
"""

from __future__ import annotations

import shutil
from urllib.parse import urlsplit

import pytest

from tests.liveserver import LiveServer

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
sync_api = pytest.importorskip("playwright.sync_api")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="no chromium on this machine")


def test_swagger_ui_renders_offline(live_server: LiveServer) -> None:
    requested: list[str] = []
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            page = browser.new_page()
            page.on("request", lambda request: requested.append(request.url))
            # Anything not served by the instance fails, as on an intranet without internet.
            page.route(
                "**/*",
                lambda route: (
                    route.continue_()
                    if urlsplit(route.request.url).netloc == urlsplit(live_server.url).netloc
                    else route.abort()
                ),
            )
            page.goto(f"{live_server.url}/docs")
            # Swagger UI drew the operations from /openapi.json: its code ran.
            # Generous: the schema is large and a loaded machine draws it slowly (not a speed test).
            page.wait_for_selector(".opblock-summary-path", timeout=90_000)
            assert page.locator(".opblock").count() > 20
        finally:
            browser.close()
    hosts = {urlsplit(url).netloc for url in requested if url.startswith("http")}
    assert hosts == {urlsplit(live_server.url).netloc}, requested
