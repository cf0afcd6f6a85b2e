"""Fixtures for the tracker's real-browser tests: headless Chromium, a site that embeds divolte.js, records.

The deployment these tests model is the usual one: the site and the collector are different origins. The
site's pages (served here by a tiny static server on its own port) embed the collector's script
cross-origin, ``<script src="http://127.0.0.1:<collector port>/divolte.js" defer async>``, as
``www.example.com`` embeds ``//track.example.com/divolte.js``. The script sets ``_dvp``/``_dvs`` through
``document.cookie``, so they belong to the site's host, and it sends its events to the collector's origin
(next to the script). Cookies ignore ports, so here the collector sees them too, as it does on a shared
parent domain; it does not need them: the identifiers travel in the query.

Records are observed where a consumer finds them: in the Avro files of the collector's file sink. With
``sync_file_after_records = 1`` every record is synced into the open ``.partial`` file as it is written,
so ``wait_for_records`` can poll for a record the browser just caused (an explicit wait, no sleeps);
``finish`` then stops the collector and returns the published records, read by two Avro readers.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import pytest
from playwright.sync_api import Playwright, sync_playwright

from tests.integration.browser.harness import CHROMIUM, CHROMIUM_FLAGS, Browser, Site
from tests.servers.common import serve_in_thread


@pytest.fixture
def site() -> Iterator[Site]:
    pages: dict[str, str] = {}

    class PageHandler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            page = pages.get(unquote(urlsplit(self.path).path))
            if page is None:
                self.send_error(404)
                return
            body = page.encode("utf-8")
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    with serve_in_thread(PageHandler) as port:
        yield Site(port, pages)


@pytest.fixture(scope="module")
def playwright_driver() -> Iterator[Playwright]:
    """Playwright's driver, per module, never per session: its sync API keeps an event loop running in
    this thread until it stops, and pytest-asyncio's tests cannot run their own loop meanwhile."""
    if not CHROMIUM.exists():
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is missing; make system-deps installs Debian's chromium")
        pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium, or set CHROMIUM)")
    with sync_playwright() as driver:
        yield driver


@pytest.fixture
def browser(playwright_driver: Playwright, tmp_path: Path) -> Iterator[Browser]:
    context = playwright_driver.chromium.launch_persistent_context(
        str(tmp_path / "chromium-profile"), executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_FLAGS
    )
    context.set_default_timeout(10_000)
    if not context.pages:
        context.new_page()
    browser = Browser(context)
    context.on("request", browser._record)
    yield browser
    context.close()
