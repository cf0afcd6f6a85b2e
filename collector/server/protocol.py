"""The HTTP/1.1 protocol the collector serves with: uvicorn's httptools protocol, with limits it lacks.

A collector faces every bot and broken proxy on the internet. uvicorn (0.5x) puts no time limit on a
connection that has not finished sending a request's headers, and resets its idle timer on every byte, so a
client that opens connections and drips bytes (slowloris) holds them for ever. This protocol adds:

- a header deadline: a request's headers must be complete within ``request_header_timeout`` of its first
  byte, and a new connection must start a request within that time; otherwise 408 and close;
- ``max_url_length`` (414), ``max_headers`` and ``max_header_size`` (431), checked while parsing, before
  anything is allocated for the request;
- our own answers for refused requests (uvicorn's 400 has no ``Server: divolte``).

Everything else is uvicorn's. Refusals are counted in the collector's ``RefusalCounts`` (exported as metrics).

uvicorn builds one protocol object per connection, calling ``config.http_protocol_class(config=…,
server_state=…, app_state=…, _loop=…)``; ``http_protocol`` gives it the class with this server's limits and
counter bound in (a ``functools.partial``), and picks ``CollectorHttpProtocol`` (these limits with the pixel
fast path) unless the installed uvicorn lacks what the fast path needs.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from typing import Any, cast

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from collector.config.settings import ServerSettings
from collector.counters import RefusalCounts
from collector.server.fast_path import PixelFastPath, missing_uvicorn_internals

log = logging.getLogger(__name__)

_REASONS = {400: "Bad Request", 408: "Request Timeout", 414: "URI Too Long", 431: "Request Header Fields Too Large"}


class _Refused(Exception):
    """Raised inside a parser callback; httptools aborts parsing and uvicorn calls ``send_400_response``."""


def _response(status: int, message: str) -> bytes:
    body = message.encode("utf-8")
    return (
        f"HTTP/1.1 {status} {_REASONS[status]}\r\nserver: divolte\r\ncontent-type: text/plain; charset=utf-8\r\n"
        f"content-length: {len(body)}\r\nconnection: close\r\n\r\n"
    ).encode("ascii") + body


class GuardedHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's protocol with the limits in the module docstring, counting refusals in ``refusals``."""

    def __init__(self, *args: Any, limits: ServerSettings, refusals: RefusalCounts, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.max_url_length = limits.max_url_length
        self.max_headers = limits.max_headers
        self.max_header_size = limits.max_header_size
        self.header_timeout = limits.request_header_timeout
        self.refusals = refusals
        self._deadline: asyncio.TimerHandle | None = None
        self._refusal: tuple[int, str, str] | None = None
        self._header_count = 0
        self._header_bytes = 0

    # -- the deadline ------------------------------------------------------------------------------------

    def _arm(self) -> None:
        if self._deadline is None:
            self._deadline = self.loop.call_later(self.header_timeout, self._headers_too_slow)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _headers_too_slow(self) -> None:
        self._deadline = None
        if self.transport.is_closing():
            return
        self.refusals.add("header_timeout")
        self.transport.write(_response(408, "Request headers were not received in time."))
        self.transport.close()

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()  # a connection that never sends a request is closed too

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    # -- parser callbacks ----------------------------------------------------------------------------------

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._header_count = self._header_bytes = 0
        self._arm()

    def on_url(self, url: bytes) -> None:
        if len(self.url) + len(url) > self.max_url_length:
            self._refuse(414, "url_too_long", f"The request target is longer than {self.max_url_length} bytes.")
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        self._header_count += 1
        self._header_bytes += len(name) + len(value) + 4
        if self._header_count > self.max_headers:
            self._refuse(431, "too_many_headers", f"More than {self.max_headers} request headers.")
        if self._header_bytes > self.max_header_size:
            self._refuse(431, "headers_too_large", f"Request headers exceed {self.max_header_size} bytes.")
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        self._disarm()
        super().on_headers_complete()

    def _refuse(self, status: int, reason: str, message: str) -> None:
        self._refusal = (status, reason, message)
        raise _Refused(message)

    def send_400_response(self, msg: str) -> None:
        status, reason, message = self._refusal or (400, "malformed_request", msg)
        self.refusals.add(reason)
        self._disarm()
        self.transport.write(_response(status, message))
        self.transport.close()


class CollectorHttpProtocol(GuardedHttpToolsProtocol, PixelFastPath):
    """The protocol the collector serves with: the guards see every parser callback first, then the pixel
    fast path answers the event GETs it can, and uvicorn's protocol the rest."""


def http_protocol(limits: ServerSettings, refusals: RefusalCounts) -> type[asyncio.Protocol]:
    """What ``uvicorn.Config(http=…)`` takes: the protocol class with ``limits`` and ``refusals`` bound in.

    ``CollectorHttpProtocol`` when the installed uvicorn has every internal the fast path relies on;
    otherwise ``GuardedHttpToolsProtocol`` (every request through the ASGI application: the same answers,
    at a higher cost per event) and one warning that names what is missing.
    """
    protocol: type[GuardedHttpToolsProtocol] = CollectorHttpProtocol
    missing = missing_uvicorn_internals()
    if missing:
        log.warning(
            "The installed uvicorn lacks what the pixel fast path needs (%s): events are answered through the "
            "ASGI application instead, at a higher cost per event. Install the uvicorn version pyproject.toml "
            "names to get the fast path back.",
            ", ".join(missing),
        )
        protocol = GuardedHttpToolsProtocol
    # uvicorn only calls what it is given (server.py: config.http_protocol_class(config=…, …)), so a partial
    # of the class does; its annotation asks for a class.
    return cast("type[asyncio.Protocol]", functools.partial(protocol, limits=limits, refusals=refusals))
