"""The JSON event endpoint (``POST <event_path>?p=<party id>``) for apps and servers, as Divolte's JSON source.

The status is decided before the JSON is parsed (SPEC §4), in Divolte's order: 405 for another method;
415 unless there is exactly one ``Content-Type`` and it is ``application/json``; 413 when the declared or
received body exceeds the capacity (``maximum_body_size`` rounded up to whole 4096-byte chunks, as
Divolte allocates); 400 for an empty body, a body shorter than its ``Content-Length``, or a missing or
invalid party id; otherwise 204, and the raw body is queued. A body that turns out not to be a valid event
is dropped and counted later, after the 204, as in Divolte.

Methods reach this endpoint as Divolte's server compares them, without regard to case: the collector's HTTP
protocol hands ``post`` over as ``POST``, and a method it does not know (``CONNECTX``) as sent, for a 405.

CORS (an addition, off by default): with ``cors_allowed_origins`` set, a browser page of an allowed origin
may POST events directly; its preflight ``OPTIONS`` is answered 204, and every answer names the origin.

Deliberate difference: ``application/json`` with parameters (``; charset=utf-8``, what most HTTP clients
send) is accepted; Divolte answers 415. Bodies longer than their ``Content-Length`` cannot be told apart
from a second pipelined request in HTTP/1.1: the extra bytes are refused by the HTTP parser with 400.
"""

from __future__ import annotations

from collector.config.settings import JsonSourceSettings
from collector.counters import HttpCounts
from collector.errors import IncompleteRequest
from collector.pipeline.intake import Intake
from collector.protocol import identifiers
from collector.protocol.query import decode_query
from collector.sources.http import (
    SERVER_HEADER,
    Message,
    Receive,
    Scope,
    Send,
    capture,
    method_not_allowed,
    send_text,
)

CHUNK = 4096
_PREFLIGHT = [
    (b"access-control-allow-methods", b"POST"),
    (b"access-control-allow-headers", b"Content-Type"),
    (b"access-control-max-age", b"86400"),
]


def _cors_headers(origin: bytes) -> list[tuple[bytes, bytes]]:
    # The request's own origin, never "*", so that credentialed requests work too; Vary keeps caches honest.
    return [(b"access-control-allow-origin", origin), (b"vary", b"Origin")]


def body_capacity(maximum_body_size: int) -> int:
    """Divolte reads bodies into whole 4096-byte chunks, so the real limit is rounded up to a multiple."""
    return -(-maximum_body_size // CHUNK) * CHUNK


def is_json_content_type(value: bytes) -> bool:
    media_type, _, params = value.decode("latin-1").partition(";")
    if media_type.strip().lower() != "application/json":
        return False
    charset = [p.split("=", 1)[1].strip().strip('"').lower() for p in params.split(";") if "=" in p]
    return all(c in ("utf-8", "utf8") for c in charset)


class JsonEndpoint:
    """``POST <event_path>`` for one JSON source."""

    def __init__(
        self, source: JsonSourceSettings, intake: Intake, http: HttpCounts | None = None, path: str = ""
    ) -> None:
        self.source = source.name
        self._http = http or HttpCounts()
        self._path = path or source.event_path
        self.party_parameter = source.party_id_parameter
        self.capacity = body_capacity(source.maximum_body_size)
        self.cors_origins = frozenset(source.cors_allowed_origins)
        self._offer = intake.offer
        self._no_content = {"type": "http.response.start", "status": 204, "headers": [SERVER_HEADER]}
        self._empty = {"type": "http.response.body", "body": b""}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        allow_origin = self._allowed_origin(scope) if self.cors_origins else None

        async def counted(message: Message) -> None:
            if message["type"] == "http.response.start":
                self._http.add(self._path, message["status"])
                if allow_origin is not None:
                    message = {**message, "headers": [*message.get("headers", []), *_cors_headers(allow_origin)]}
            await send(message)

        if allow_origin is not None and scope["method"] == "OPTIONS":
            await counted({"type": "http.response.start", "status": 204, "headers": [SERVER_HEADER, *_PREFLIGHT]})
            await send({"type": "http.response.body", "body": b""})
            return
        await self._handle(scope, receive, counted)

    def _allowed_origin(self, scope: Scope) -> bytes | None:
        """The ``Origin`` to allow, when the request has one this source accepts."""
        for name, value in scope["headers"]:
            if name == b"origin":
                origin: bytes = value
                if "*" in self.cors_origins or origin.decode("latin-1") in self.cors_origins:
                    return origin
                return None
        return None

    async def _handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["method"] != "POST":
            await method_not_allowed(send, scope["method"], "POST")
            return
        content_types = [value for name, value in scope["headers"] if name == b"content-type"]
        if len(content_types) != 1 or not is_json_content_type(content_types[0]):
            await send_text(send, 415, "Content type must be application/json.")
            return
        declared = self._declared_length(scope)
        if declared is not None and declared > self.capacity:
            await self._too_large(send)
            return
        body = bytearray()
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return  # the client went away mid-body: nothing to answer, nothing recorded
            body += message.get("body", b"")
            if len(body) > self.capacity:
                await self._too_large(send)
                return
            if not message.get("more_body"):
                break
        if declared is not None and declared != len(body):
            await send_text(send, 400, "The body is shorter than its Content-Length.")
            return
        if not body:
            await send_text(send, 400, "The request body is empty; send one JSON object.")
            return
        if not self._valid_party(scope["query_string"]):
            await send_text(
                send, 400, f"Query parameter '{self.party_parameter}' must be a Divolte party id (0:<ts36>:<id>)."
            )
            return
        self._offer(capture(self.source, scope, bytes(body)))
        await send(self._no_content)
        await send(self._empty)

    @staticmethod
    def _declared_length(scope: Scope) -> int | None:
        for name, value in scope["headers"]:
            if name == b"content-length":
                try:
                    return int(value)
                except ValueError:
                    return None
        return None

    async def _too_large(self, send: Send) -> None:
        # Close the connection: the unread rest of the body must not be taken for the next request.
        await send_text(
            send,
            413,
            f"The body exceeds this source's limit of {self.capacity} bytes (maximum_body_size).",
            [(b"connection", b"close")],
        )

    def _valid_party(self, query: bytes) -> bool:
        try:
            values = decode_query(query).get(self.party_parameter)
        except IncompleteRequest:
            return False
        return values is not None and bool(values) and identifiers.parse(values[0]) is not None
