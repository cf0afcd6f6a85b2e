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

import html
import os
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, cast
from urllib.parse import unquote, urlsplit

import fastavro
import pytest
from playwright.sync_api import BrowserContext, Page, Playwright, Request, sync_playwright

from collector.protocol.query import decode_query
from tests.integration.conftest import RunningCollector
from tests.integration.test_end_to_end import file_sink_config, read_published, stop

CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TRACKER_STATE = """() => ({
  partyId: divolte.partyId, sessionId: divolte.sessionId, pageViewId: divolte.pageViewId,
  isNewPartyId: divolte.isNewPartyId, isFirstInSession: divolte.isFirstInSession
})"""
"""What a page can read of the tracker: the identifiers, and whether they are new."""


def browser_config(tmp_path: Path, source_extra: str = "") -> str:
    """A file-sink configuration whose records are readable as soon as they are written."""
    return file_sink_config(tmp_path, source_extra=source_extra, file_strategy_extra="sync_file_after_records = 1")


def page_html(script_src: str, title: str, body: str = "") -> str:
    """A page of the site that embeds the tracker as Divolte's documentation says: async, deferred."""
    return (
        f'<!DOCTYPE html><html><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
        f'<script src="{html.escape(script_src)}" defer async></script></head>'
        f"<body><h1>{html.escape(title)}</h1>{body}</body></html>"
    )


@dataclass
class Site:
    """The static site: ``pages`` maps a path to its HTML; anything else is a 404."""

    port: int
    pages: dict[str, str] = field(default_factory=dict)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"


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

    server = ThreadingHTTPServer(("127.0.0.1", 0), PageHandler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, name="test-site", daemon=True)
    thread.start()
    yield Site(server.server_address[1], pages)
    server.shutdown()
    server.server_close()
    thread.join()


@pytest.fixture(scope="module")
def playwright_driver() -> Iterator[Playwright]:
    """Playwright's driver, per module, never per session: its sync API keeps an event loop running in
    this thread until it stops, and pytest-asyncio's tests cannot run their own loop meanwhile."""
    if not CHROMIUM.exists():
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is missing; .ci/run installs Debian's chromium")
        pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium, or set CHROMIUM)")
    with sync_playwright() as driver:
        yield driver


@dataclass
class Browser:
    """One headless Chromium with a fresh profile; ``event_requests`` are the event GETs it made, in order."""

    context: BrowserContext
    event_suffix: str = "csc-event"
    event_requests: list[Request] = field(default_factory=list)

    @property
    def page(self) -> Page:
        return self.context.pages[0]

    def is_event(self, request: Request) -> bool:
        return urlsplit(request.url).path.endswith("/" + self.event_suffix)

    def _record(self, request: Request) -> None:
        if self.is_event(request):
            self.event_requests.append(request)

    def event_of_type(self, event_type: str) -> Callable[[Request], bool]:
        """A predicate for ``page.expect_request``: the request of an event of ``event_type``."""
        return lambda request: self.is_event(request) and query_of(request).get("t") == [event_type]

    def open(self, url: str) -> dict[str, Any]:
        """Load ``url``, wait for the tracker to start, and return its identifiers as the page sees them."""
        self.page.goto(url)
        return self.tracker_state()

    def tracker_state(self) -> dict[str, Any]:
        self.page.wait_for_function("() => window.divolte !== undefined")
        state: dict[str, Any] = self.page.evaluate(TRACKER_STATE)
        return state

    def cookie(self, name: str) -> dict[str, Any] | None:
        return next((dict(c) for c in self.context.cookies() if c["name"] == name), None)


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


def query_of(request: Request) -> dict[str, list[str]]:
    """The decoded query of an event request, exactly as the collector's parser decodes it."""
    return decode_query(urlsplit(request.url).query.encode("ascii"))


def written_records(tmp_path: Path) -> list[dict[str, Any]] | None:
    """The records in the sink's files so far (published, then open), or None while a file is in motion."""
    records: list[dict[str, Any]] = []
    try:
        for directory in ("publish", "work"):
            for path in sorted((tmp_path / directory).iterdir()):
                with open(path, "rb") as handle:
                    records.extend(cast(dict[str, Any], record) for record in fastavro.reader(handle))
    except (OSError, EOFError, ValueError):  # renamed while listed, or a block still being written
        return None
    return records


def wait_for_records(
    collector: RunningCollector,
    tmp_path: Path,
    until: Callable[[list[dict[str, Any]]], bool] | int,
    timeout: float = 10.0,
) -> list[dict[str, Any]]:
    """Poll the sink's files until ``until(records)`` holds (an int: that many records); return them."""
    done = (lambda records: len(records) >= until) if isinstance(until, int) else until
    deadline = time.monotonic() + timeout
    records: list[dict[str, Any]] | None = None
    while time.monotonic() < deadline:
        records = written_records(tmp_path)
        if records is not None and done(records):
            return records
        time.sleep(0.02)
    types = [r["eventType"] for r in records or []]
    raise AssertionError(f"records not written within {timeout} s; have {types}\n{collector.log()}")


def finish(collector: RunningCollector, tmp_path: Path) -> list[dict[str, Any]]:
    """Stop the collector (it publishes its files) and return every published record."""
    stop(collector)
    return read_published(tmp_path)
