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


def etag_matches(if_none_match: bytes, etag: bytes) -> bool:
    """True when an ``If-None-Match`` value names ``etag`` (weak or strong) or is a wildcard."""
    for candidate in if_none_match.split(b","):
        candidate = candidate.strip()
        if candidate.startswith(b"W/"):
            candidate = candidate[2:]
        if candidate == etag or candidate in (b"*", b'"*"'):
            return True
    return False
