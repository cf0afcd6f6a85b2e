"""Small ASGI helpers shared by the endpoints: precomputed plain responses and Divolte's 405."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from collector.events import CapturedRequest

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

SERVER_HEADER = (b"server", b"divolte")
TEXT_PLAIN = (b"content-type", b"text/plain; charset=utf-8")
_JAVA_TRIM = "".join(chr(code) for code in range(0x21))
"""Java's ``String.trim()`` strips every character up to and including the space."""


async def send_text(send: Send, status: int, text: str, extra: list[tuple[bytes, bytes]] | None = None) -> None:
    body = text.encode("utf-8")
    headers = [SERVER_HEADER, TEXT_PLAIN, (b"content-length", str(len(body)).encode()), *(extra or [])]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def method_not_allowed(send: Send, method: str, allowed: str) -> None:
    """Divolte's (Undertow's) 405: ``Allow`` names the one method, the body says which was refused."""
    await send_text(send, 405, f"HTTP method {method} not allowed.", [(b"allow", allowed.encode())])


def capture(source: str, scope: Scope, body: bytes = b"") -> CapturedRequest:
    """The raw request as the pipeline keeps it: query bytes, headers, peer, receive time (no parsing)."""
    client = scope.get("client")
    return CapturedRequest(
        source,
        scope["query_string"],
        tuple(scope["headers"]),
        client[0] if client else "",
        time.time_ns() // 1_000_000,
        body,
    )


def if_none_match_tags(value: bytes) -> list[str]:
    """The entity tags an ``If-None-Match`` value lists, read as Divolte's server (Undertow) reads them.

    Undertow's reader is lenient in its own way, and which requests get 304 follows from it: text outside
    quotes is skipped, so a bare ``*`` lists nothing (the event is recorded) while ``"*"`` is a tag;
    ``W/"x"`` is the weak tag ``x``; a quoted tag is trimmed and may lack its closing quote at the end; a
    ``W`` not followed by ``/`` or ``"`` ends the list.
    """
    text = value.decode("latin-1")
    tags: list[str] = []
    position, end = 0, len(text)
    while position < end:
        char = text[position]
        if char == '"':
            close = text.find('"', position + 1)
            stop = end if close < 0 else close
            tags.append(text[position + 1 : stop].strip(_JAVA_TRIM))
            position = stop + 1
        elif char == "W":
            position += 1
            while position < end and text[position] == "/":
                position += 1
            if position < end and text[position] != '"':
                break  # malformed: Undertow reads nothing more of the list
        else:
            position += 1
    return tags


def etag_matches(if_none_match: bytes, etag: bytes) -> bool:
    """True when an ``If-None-Match`` value names ``etag`` (a strong tag; its weak form matches too) or ``"*"``.

    The caller passes the first ``If-None-Match`` header only, as Undertow reads only that one.
    """
    tags = if_none_match_tags(if_none_match)
    return etag.decode("latin-1").strip('"') in tags or "*" in tags
