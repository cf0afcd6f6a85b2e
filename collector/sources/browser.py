"""The browser event endpoint (``<prefix>csc-event``): answer the pixel at once, keep the raw request.

This is the hot path. The handler copies the raw query bytes, headers, peer and time into a
``CapturedRequest``, offers it to the intake and answers the exact 37-byte GIF with Divolte's headers. It
parses nothing but what decides the status, so the client gets what Divolte answers: 400 (and no record)
for a query Divolte's server refuses (a malformed ``%`` escape, too many ``&``), 304 for Divolte's
sentinel ETag, 405 for another method, else 200 + GIF whatever the parameters. Response headers and bodies
are built once.
"""

from __future__ import annotations

import asyncio
import time
from importlib import resources

from collector.counters import HttpCounts
from collector.events import CapturedRequest
from collector.pipeline.intake import Intake
from collector.protocol.query import MAX_SEPARATORS, find_malformed_escape, refusal
from collector.sources.http import SERVER_HEADER, TEXT_PLAIN, Receive, Scope, Send, etag_matches, method_not_allowed

PIXEL = resources.files("collector.resources").joinpath("transparent1x1.gif").read_bytes()
SENTINEL_ETAG = b'"6b3edc43-20ec-4078-bc47-e965dd76b88a"'
REFUSED_QUERY = b"The query has a malformed %-escape or more than 1,001 '&' separators; Divolte refuses it too."

_CACHE_HEADERS = [
    (b"etag", SENTINEL_ETAG),
    (b"cache-control", b"private, no-cache, proxy-revalidate"),
    (b"pragma", b"no-cache"),
    (b"expires", b"Fri, 14 Apr 1995 11:30:00 GMT"),
    SERVER_HEADER,
]


class PixelEndpoint:
    """``GET <prefix><event_suffix>`` for one browser source.

    ``handle`` and ``response`` are the endpoint without ASGI: what to keep and what to answer for a GET.
    The ASGI ``__call__`` uses them, and so does ``pixel_fast_path``, which answers inside the HTTP protocol,
    so both paths keep the same request and send the same bytes.
    """

    def __init__(
        self, source: str, intake: Intake, response_delay: float = 0.0, http: HttpCounts | None = None, path: str = ""
    ) -> None:
        self.source = source
        self.response_delay = response_delay
        self._count = (http or HttpCounts()).add
        self._path = path
        self._offer = intake.offer
        self._ok_headers = [
            (b"content-type", b"image/gif"),
            (b"content-length", str(len(PIXEL)).encode()),
            *_CACHE_HEADERS,
        ]
        self._start = {"type": "http.response.start", "status": 200, "headers": self._ok_headers}
        self._body = {"type": "http.response.body", "body": PIXEL}
        self._not_modified_headers = list(_CACHE_HEADERS)
        self._not_modified = {"type": "http.response.start", "status": 304, "headers": self._not_modified_headers}
        self._empty = {"type": "http.response.body", "body": b""}
        self._refused_headers = [SERVER_HEADER, TEXT_PLAIN, (b"content-length", str(len(REFUSED_QUERY)).encode())]
        self._refused = {"type": "http.response.start", "status": 400, "headers": self._refused_headers}
        self._refused_body = {"type": "http.response.body", "body": REFUSED_QUERY}

    def handle(self, query: bytes, headers: list[tuple[bytes, bytes]], peer: str) -> int:
        """Keep the event of a GET (raw query, headers, peer, receive time) and count it; return its status.

        400 for a query Divolte's server refuses before any handler sees it (``query.refusal``, inline: this
        runs for every event): nothing is kept. 304 when the first ``If-None-Match`` names Divolte's sentinel
        ETag (or is ``"*"``): the browser re-requests a pixel it has cached, which is not an event (Divolte
        does not log it either). Else 200.
        """
        if find_malformed_escape(query) is not None or (
            len(query) > MAX_SEPARATORS and query.count(b"&") > MAX_SEPARATORS
        ):
            self._count(self._path, 400)
            return 400
        for name, value in headers:
            if name == b"if-none-match":
                if etag_matches(value, SENTINEL_ETAG):
                    self._count(self._path, 304)
                    return 304
                break
        self._offer(CapturedRequest(self.source, query, tuple(headers), peer, time.time_ns() // 1_000_000))
        self._count(self._path, 200)
        return 200

    def response(self, status: int) -> tuple[list[tuple[bytes, bytes]], bytes]:
        """The headers and body answered with ``status`` (200, 304 or 400)."""
        if status == 304:
            return self._not_modified_headers, b""
        if status == 400:
            return self._refused_headers, REFUSED_QUERY
        return self._ok_headers, PIXEL

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        query = scope["query_string"]
        if scope["method"] != "GET":
            if refusal(query) is not None:  # Divolte's server refuses such a query before it routes
                self._count(self._path, 400)
                await self._send_refused(send)
                return
            self._count(self._path, 405)
            await method_not_allowed(send, scope["method"], "GET")
            return
        client = scope.get("client")
        status = self.handle(query, scope["headers"], client[0] if client else "")
        if status == 304:
            await send(self._not_modified)
            await send(self._empty)
            return
        if status == 400:
            await self._send_refused(send)
            return
        if self.response_delay:
            await asyncio.sleep(self.response_delay)
        await send(self._start)
        await send(self._body)

    async def _send_refused(self, send: Send) -> None:
        await send(self._refused)
        await send(self._refused_body)
