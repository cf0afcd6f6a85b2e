"""The HTTP/1.1 protocol the collector serves with: uvicorn's httptools protocol, with limits it lacks.

A collector faces every bot and broken proxy on the internet. uvicorn (0.5x) puts no time limit on a
connection that has not finished sending a request's headers, and resets its idle timer on every byte, so a
client that opens connections and drips bytes (slowloris) holds them for ever. This protocol adds:

- a header deadline: a request's headers must be complete within ``request_header_timeout`` of its first
  byte, and a new connection must start a request within that time; otherwise 408 and close;
- ``max_url_length`` (414), ``max_headers`` and ``max_header_size`` (431), checked while parsing, before
  anything is allocated for the request;
- our own answers for refused requests (uvicorn's 400 has no ``Server: divolte``);
- header values read as leniently as Divolte's server reads them: control characters and obsolete line
  folds are accepted (llhttp refuses both by default; Undertow keeps the characters and joins the lines,
  see ``collector.protocol.header_values``). Framing stays strict: a duplicated or conflicting
  ``Content-Length``/``Transfer-Encoding`` is still refused;
- methods as Divolte's server takes them: any token. Undertow compares methods case-insensitively, so
  ``post`` and ``Post`` are POST (the application sees ``POST``), and a method it does not know
  (``CONNECTX``, and ``CONNECT``, which llhttp would take for a tunnel) reaches the application as written,
  whose endpoints answer 405. llhttp knows a fixed list of upper-case methods and refuses the rest, so the
  method of each request is rewritten before llhttp reads it (to its upper-case form, or to a stand-in
  that is put back in the ASGI scope). This covers a request at the start of a received chunk, which is
  every request but a second one pipelined in the same packet as the first; such a one with an unknown
  method still gets 400;
- a ``#fragment`` in the request target is refused with 400, as Undertow refuses it (a client never sends
  one; uvicorn would drop it silently).

The request target is collected in one growing buffer, so a target sent a few bytes at a time costs linear
time up to ``max_url_length``; targets beyond httptools' URL parser are handled by ``LongTargetProtocol``.
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
import re
from typing import Any, cast

from collector.config.settings import ServerSettings
from collector.counters import RefusalCounts
from collector.server.fast_path import PixelFastPath, missing_uvicorn_internals
from collector.server.long_targets import LongTargetProtocol

log = logging.getLogger(__name__)

_REASONS = {400: "Bad Request", 408: "Request Timeout", 414: "URI Too Long", 431: "Request Header Fields Too Large"}


_PLAIN_METHODS = frozenset({b"GET", b"HEAD", b"POST", b"PUT", b"DELETE", b"OPTIONS", b"PATCH", b"TRACE"})
"""Methods llhttp parses like any request and the application may get upper-cased (``post`` is POST)."""
_TOKEN = re.compile(rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_STAND_IN = b"PUT"
"""What llhttp reads in place of a method it does not know; the ASGI scope gets the method as sent."""
_LONGEST_METHOD = 64
"""A method split over two packets is held back up to this length; a longer token goes to llhttp as it is."""


class _Refused(Exception):
    """Raised inside a parser callback; httptools aborts parsing and uvicorn calls ``send_400_response``."""


def _response(status: int, message: str) -> bytes:
    body = message.encode("utf-8")
    return (
        f"HTTP/1.1 {status} {_REASONS[status]}\r\nserver: divolte\r\ncontent-type: text/plain; charset=utf-8\r\n"
        f"content-length: {len(body)}\r\nconnection: close\r\n\r\n"
    ).encode("ascii") + body


class GuardedHttpToolsProtocol(LongTargetProtocol):
    """uvicorn's protocol with the limits in the module docstring, counting refusals in ``refusals``."""

    def __init__(self, *args: Any, limits: ServerSettings, refusals: RefusalCounts, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.parser.set_dangerous_leniencies(lenient_headers=True)
        self._target = bytearray()
        self.max_url_length = limits.max_url_length
        self.max_headers = limits.max_headers
        self.max_header_size = limits.max_header_size
        self.header_timeout = limits.request_header_timeout
        self.refusals = refusals
        self._deadline: asyncio.TimerHandle | None = None
        self._refusal: tuple[int, str, str] | None = None
        self._header_count = 0
        self._header_bytes = 0
        self._at_request_start = True
        self._method_head = b""
        self._method_as_sent: str | None = None

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

    # -- methods -------------------------------------------------------------------------------------------

    def data_received(self, data: bytes) -> None:
        if self._at_request_start:
            data = self._with_known_method(data)
            if not data:
                return
        super().data_received(data)

    def _with_known_method(self, data: bytes) -> bytes:
        """``data`` (the start of a request) with its method in a form llhttp parses; b"" while the method is
        still incomplete."""
        data, self._method_head = self._method_head + data, b""
        start = len(data) - len(data.lstrip(b"\r\n"))  # llhttp skips empty lines between requests
        space = data.find(b" ", start, start + _LONGEST_METHOD + 1)
        if space < 0:
            if len(data) - start <= _LONGEST_METHOD and _TOKEN.fullmatch(data, start):
                self._method_head = data  # wait for the rest of the method
                return b""
            return data
        method = data[start:space]
        if method in _PLAIN_METHODS or not _TOKEN.fullmatch(method):
            return data
        upper = method.upper()
        if upper in _PLAIN_METHODS:
            return data[:start] + upper + data[space:]
        self._method_as_sent = method.decode("ascii")
        return data[:start] + _STAND_IN + data[space:]

    # -- parser callbacks ----------------------------------------------------------------------------------

    def on_message_begin(self) -> None:
        self._at_request_start = False
        super().on_message_begin()
        self._header_count = self._header_bytes = 0
        self._target.clear()
        self._arm()

    def on_url(self, url: bytes) -> None:
        # Not uvicorn's ``self.url += url``: that copies the whole target again for every piece.
        if len(self._target) + len(url) > self.max_url_length:
            self._refuse(414, "url_too_long", f"The request target is longer than {self.max_url_length} bytes.")
        if b"#" in url:
            self._refuse(400, "malformed_request", "The request target has a #fragment; Divolte refuses it too.")
        self._target += url

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
        self.url = bytes(self._target)
        super().on_headers_complete()
        if self._method_as_sent is not None:
            # The application has not run yet (uvicorn only scheduled it): it sees the method as sent.
            self.scope["method"] = self._method_as_sent

    def on_message_complete(self) -> None:
        self._method_as_sent = None
        self._at_request_start = True
        super().on_message_complete()

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
