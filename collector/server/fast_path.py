"""Answer ``GET <prefix>csc-event`` inside uvicorn's HTTP protocol: one socket write, no ASGI round trip.

Through ASGI, every pixel costs uvicorn a scope, a request/response cycle object, an asyncio task, a
coroutine chain (front door → endpoint), two ``send`` calls that validate each response header with two
regular expressions, and two socket writes. For a request whose whole answer is known in advance that is
most of the collector's per-event cost. This protocol mixin recognises a plain keep-alive
``GET <event path>`` when its headers are complete, captures the request exactly as ``PixelEndpoint`` does
(same ``CapturedRequest``, same counters) and writes the precomputed response bytes, byte for byte what the
ASGI path sends, in one ``transport.write``.

Anything else goes the ordinary way, through the ASGI application: other paths and methods, HTTP/1.0 and
``Connection: close``, a percent-encoded or dot-segment path, a request pipelined behind an unfinished
response, a connection whose writes are paused, access logging, a response delay. The application stays
a standard ASGI app that any server can run; this only makes uvicorn's side of the hot path shorter.

Use: ``server/protocol.py``'s ``CollectorHttpProtocol`` places the mixin right above uvicorn's
``HttpToolsProtocol``, below the protocol that guards the parser (limits, deadlines), so that the guards
see every callback first.

The mixin reads and calls uvicorn's internals, not its public API: ``UVICORN_NAMES`` and
``UVICORN_ATTRIBUTES``.
``pyproject.toml`` bounds uvicorn to the versions it was written against, and ``missing_uvicorn_internals``
checks at start-up that each name is still there, so a uvicorn that renamed one serves through ASGI (see
``http_protocol``) instead of failing on the first event.
"""

from __future__ import annotations

import dis
from typing import Any

import httptools
from uvicorn.protocols.http import httptools_impl
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from collector.sources.browser import PixelEndpoint

UVICORN_NAMES = ("STATUS_LINE", "HttpToolsProtocol", "RequestResponseCycle", "FlowControl", "ServerState")
"""What the fast path takes from uvicorn's ``httptools_impl`` module (the classes it defines or imports)."""
UVICORN_ATTRIBUTES: dict[str, tuple[str, ...]] = {
    "HttpToolsProtocol": (
        "app", "root_path", "access_log", "limit_concurrency", "parser", "url", "headers", "client", "transport",
        "pipeline", "cycle", "flow", "server_state",
        "on_headers_complete", "on_body", "on_message_complete", "on_response_complete",
    ),
    "RequestResponseCycle": ("response_complete",),
    "FlowControl": ("write_paused",),
    "ServerState": ("default_headers",),
}  # fmt: skip
"""What the fast path uses of each of those classes: attributes (instance attributes included) and methods."""


def _attributes(cls: type) -> set[str]:
    """The class attributes of ``cls`` and the attributes its methods assign (``self.x = …``): the names an
    instance may have. (A method compiled to machine code shows no assignments: its names count as missing.)"""
    names: set[str] = set()
    for klass in cls.__mro__:
        for name, value in vars(klass).items():
            names.add(name)
            code = getattr(value, "__code__", None)
            if code is not None:
                names.update(str(i.argval) for i in dis.get_instructions(code) if i.opname == "STORE_ATTR")
    return names


def missing_uvicorn_internals() -> list[str]:
    """What the installed uvicorn lacks of ``UVICORN_NAMES`` and ``UVICORN_ATTRIBUTES`` (``httptools_impl.NAME``,
    ``Class.attribute``); empty when it has everything."""
    missing = [f"httptools_impl.{name}" for name in UVICORN_NAMES if not hasattr(httptools_impl, name)]
    for class_name, needed in UVICORN_ATTRIBUTES.items():
        cls = getattr(httptools_impl, class_name, None)
        if isinstance(cls, type):  # a missing class is reported above
            present = _attributes(cls)
            missing += [f"{class_name}.{name}" for name in needed if name not in present]
    return missing


class PixelFastPath(HttpToolsProtocol):
    """uvicorn's httptools protocol, answering the application's pixel endpoints itself."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        endpoints = getattr(self.app, "endpoints", {})  # the FrontDoor's exact-path table
        self._pixels: dict[bytes, PixelEndpoint] = {}
        if not self.root_path and not self.access_log and self.limit_concurrency is None:
            self._pixels = {
                path.encode(): endpoint
                for path, endpoint in endpoints.items()
                if isinstance(endpoint, PixelEndpoint) and not endpoint.response_delay
            }
        self._pixel: tuple[PixelEndpoint, bytes] | None = None
        self._defaults: list[tuple[bytes, bytes]] | None = None
        self._responses: dict[tuple[PixelEndpoint, int], bytes] = {}

    def _fast_endpoint(self) -> tuple[PixelEndpoint, bytes] | None:
        """The pixel endpoint and query of this request, if the fast path may answer it."""
        parser = self.parser
        if (
            parser.get_method() != b"GET"
            or parser.get_http_version() != "1.1"
            or not parser.should_keep_alive()
            or parser.should_upgrade()
            or self.pipeline
            or (self.cycle is not None and not self.cycle.response_complete)
            or self.flow.write_paused
        ):
            return None
        url = httptools.parse_url(self.url)
        endpoint = self._pixels.get(url.path)
        return None if endpoint is None else (endpoint, url.query or b"")

    def on_headers_complete(self) -> None:
        self._pixel = self._fast_endpoint() if self._pixels else None
        if self._pixel is None:
            super().on_headers_complete()

    def on_body(self, body: bytes) -> None:
        if self._pixel is None:
            super().on_body(body)
        # A body on the event GET is ignored, as the ASGI endpoint ignores it.

    def on_message_complete(self) -> None:
        if self._pixel is None:
            super().on_message_complete()
            return
        endpoint, query = self._pixel
        self._pixel = None
        client = self.client
        status = endpoint.handle(query, self.headers, client[0] if client else "")
        self.transport.write(self._response(endpoint, status))
        self.on_response_complete()  # uvicorn's bookkeeping: request count, keep-alive timer, pipelining

    def _response(self, endpoint: PixelEndpoint, status: int) -> bytes:
        """Status line, uvicorn's default headers (the date, renewed each second), the endpoint's headers
        and body: what the ASGI path writes, joined once per second per endpoint and status."""
        defaults = self.server_state.default_headers
        if defaults is not self._defaults:
            self._defaults = defaults
            self._responses.clear()
        response = self._responses.get((endpoint, status))
        if response is None:
            headers, body = endpoint.response(status)
            lines = [httptools_impl.STATUS_LINE[status]]
            lines += [name + b": " + value + b"\r\n" for name, value in [*defaults, *headers]]
            response = self._responses[(endpoint, status)] = b"".join([*lines, b"\r\n", body])
        return response
