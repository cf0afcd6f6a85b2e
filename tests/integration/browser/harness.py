"""Headless Chromium, the site that embeds divolte.js, and the records the browser's events become."""

from __future__ import annotations

import html
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast
from urllib.parse import urlsplit

import fastavro
from playwright.sync_api import BrowserContext, Page, Request

from collector.protocol.query import decode_query
from tests.integration.collector_process import RunningCollector, stop
from tests.integration.file_sink import file_sink_config, read_published

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
