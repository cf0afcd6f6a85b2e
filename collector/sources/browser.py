"""The browser event endpoint (``<prefix>csc-event``): answer the pixel at once, keep the raw request.

This is the hot path. The handler copies the raw query bytes, headers, peer and time into a
``CapturedRequest``, offers it to the intake and answers the exact 37-byte GIF with Divolte's headers; it
parses nothing, so whatever the parameters, the client gets 200 + GIF (or 304 for Divolte's sentinel
ETag, or 405 for another method), as Divolte answers. Response headers and bodies are built once.
"""

from __future__ import annotations

import asyncio
from importlib import resources

from collector.pipeline.intake import Intake
from collector.sources.http import SERVER_HEADER, Receive, Scope, Send, capture, etag_matches, method_not_allowed
from collector.stats import HttpCounts

PIXEL = resources.files("collector.resources").joinpath("transparent1x1.gif").read_bytes()
SENTINEL_ETAG = b'"6b3edc43-20ec-4078-bc47-e965dd76b88a"'

_CACHE_HEADERS = [
    (b"etag", SENTINEL_ETAG),
    (b"cache-control", b"private, no-cache, proxy-revalidate"),
    (b"pragma", b"no-cache"),
    (b"expires", b"Fri, 14 Apr 1995 11:30:00 GMT"),
    SERVER_HEADER,
]


class PixelEndpoint:
    """``GET <prefix><event_suffix>`` for one browser source."""

    def __init__(
        self, source: str, intake: Intake, response_delay: float = 0.0, http: HttpCounts | None = None, path: str = ""
    ) -> None:
        self.source = source
        self._count = (http or HttpCounts()).add
        self._path = path
        self._offer = intake.offer
        self._delay = response_delay
        headers = [(b"content-type", b"image/gif"), (b"content-length", str(len(PIXEL)).encode()), *_CACHE_HEADERS]
        self._start = {"type": "http.response.start", "status": 200, "headers": headers}
        self._body = {"type": "http.response.body", "body": PIXEL}
        self._not_modified = {"type": "http.response.start", "status": 304, "headers": list(_CACHE_HEADERS)}
        self._empty = {"type": "http.response.body", "body": b""}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["method"] != "GET":
            self._count(self._path, 405)
            await method_not_allowed(send, scope["method"], "GET")
            return
        headers = scope["headers"]
        for name, value in headers:
            if name == b"if-none-match" and etag_matches(value, SENTINEL_ETAG):
                # The browser re-requests a pixel it has cached: not an event (Divolte does not log it).
                self._count(self._path, 304)
                await send(self._not_modified)
                await send(self._empty)
                return
        self._offer(capture(self.source, scope))
        if self._delay:
            await asyncio.sleep(self._delay)
        self._count(self._path, 200)
        await send(self._start)
        await send(self._body)
