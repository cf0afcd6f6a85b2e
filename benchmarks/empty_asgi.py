"""The reference ASGI application: answers every request with the collector's pixel and does nothing else.

Served by uvicorn with uvloop and httptools, one process, exactly as the collector is served, it measures
what the HTTP stack alone costs; the collector's figures are quoted as a ratio to it. It sends the same
status, headers and 37-byte GIF as ``/csc-event`` (built once), so the two differ only in the work the
collector does per request.
"""

from __future__ import annotations

from typing import Any

from collector.sources.browser import _CACHE_HEADERS, PIXEL

_START = {
    "type": "http.response.start",
    "status": 200,
    "headers": [(b"content-type", b"image/gif"), (b"content-length", str(len(PIXEL)).encode()), *_CACHE_HEADERS],
}
_BODY = {"type": "http.response.body", "body": PIXEL}


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    await send(_START)
    await send(_BODY)
