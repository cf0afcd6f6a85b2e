"""The inspector's HTTP side: the page at ``/inspect``, its assets, the JSON API and the live stream.

    GET  /inspect                      the page (HTML; its script and style below, nothing from elsewhere)
    GET  /inspect/assets/inspect.js    GET /inspect/assets/inspect.css
    GET  /inspect/api/events?outcome=&type=&party=&session=&source=&sink=&limit=   {"events": [...]} newest first
    GET  /inspect/api/summary          counts and rates per outcome
    POST /inspect/api/reset            forget every kept event
    GET  /inspect/api/stream?after=ID  Server-Sent Events: ``events`` (new events, oldest first; at most
                                       ``STREAM_MAX_EVENTS`` of them per ``STREAM_COALESCE``), ``summary``,
                                       ``reset``

Who may see it (the events carry personal data): a client on loopback that names a loopback host (a
``Host`` of ``localhost``, ``127.x`` or ``[::1]``, so a page on another site cannot reach it by DNS
rebinding) and came straight in (a request carrying ``X-Forwarded-For``, ``Forwarded`` or ``X-Real-IP``
came through a proxy, so its real client is elsewhere). Anyone else gets the 404 of an unknown path,
unless ``allow_remote = true``: then a request presenting the token (``Authorization: Bearer <token>``, or
``?token=<token>`` for the page and its stream, which browsers cannot give headers) is served, and one
without it gets 401. Tokens are compared in constant time (``hmac.compare_digest``). A ``POST`` whose
``Origin`` is another site gets 403: a page elsewhere cannot reset the inspector through a visitor's browser.
"""

from __future__ import annotations

import asyncio
import hmac
import html
import ipaddress
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from importlib import resources
from urllib.parse import urlencode, urlsplit

import orjson
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response, StreamingResponse
from starlette.routing import Route

from collector.config.settings import InspectorSettings
from collector.inspect.recorder import Inspector
from collector.inspect.render import FILTERS, Source, matches, render

PATH = "/inspect"
STREAM_HEARTBEAT = 1.0
"""Seconds between summaries on the live stream when no event arrives (also how soon a closed page's
stream ends, and how long a shutdown waits for streams)."""
STREAM_COALESCE = 0.25
"""Seconds a stream waits after a wake-up, so that a burst of events goes out as one message."""
STREAM_MAX_EVENTS = 100
"""Most events in one stream message: at high rates the live table shows the newest of each burst (rendering
an event takes tens of µs on the event loop that also answers the pixels); the summary counts every event."""
DEFAULT_LIMIT = 1000
"""Events ``GET /inspect/api/events`` returns without a ``limit`` (each is rendered on the event loop once)."""
PROXY_HEADERS = ("x-forwarded-for", "forwarded", "x-real-ip")
LOCAL_NAMES = ("localhost",)
SECURITY_HEADERS = {
    "content-security-policy": "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "cache-control": "no-store",
}
"""On every inspector response: nothing but our own files may run or load, and no token leaks by Referer."""
EVENT_STREAM = "text/event-stream"
ANY_METHOD = ["GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH"]
Handler = Callable[[Request], Response | AsyncIterator[bytes]]
_ASSETS = {"inspect.js": "text/javascript; charset=utf-8", "inspect.css": "text/css; charset=utf-8"}


def _is_loopback(host: str) -> bool:
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return host.lower() in LOCAL_NAMES
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_loopback


def _host_name(host_header: str) -> str:
    """The name part of a ``Host`` header: ``[::1]:8290`` → ``::1``, ``localhost:8290`` → ``localhost``."""
    if host_header.startswith("["):
        return host_header[1 : host_header.find("]")] if "]" in host_header else host_header
    return host_header.rsplit(":", 1)[0] if host_header.count(":") == 1 else host_header


def _same_origin(request: Request) -> bool:
    """Whether a browser's request came from a page of the collector itself (no ``Origin``: not a browser's
    cross-site request). Stops another site's page from resetting the inspector through its visitor."""
    origin = request.headers.get("origin")
    return origin is None or urlsplit(origin).netloc == request.headers.get("host", "")


class Access:
    """Decides who may see the inspector (see the module docstring)."""

    def __init__(self, settings: InspectorSettings) -> None:
        self.allow_remote = settings.allow_remote
        self._token = settings.token.encode("utf-8") if settings.token else None

    def local(self, request: Request) -> bool:
        client = request.client
        headers = request.headers
        return (
            client is not None
            and _is_loopback(client.host)
            and _is_loopback(_host_name(headers.get("host", "")))
            and not any(name in headers for name in PROXY_HEADERS)
        )

    def token_matches(self, request: Request) -> bool:
        if self._token is None:
            return False
        authorization = request.headers.get("authorization", "")
        scheme, _, presented = authorization.partition(" ")
        if scheme.lower() != "bearer":
            presented = request.query_params.get("token", "")
        return hmac.compare_digest(presented.strip().encode("utf-8"), self._token)

    def refusal(self, request: Request) -> Response | None:
        """None when the request may be served; else the answer: 404 as for any unknown path, or 401."""
        if self.local(request):
            return None
        if not self.allow_remote:
            return PlainTextResponse("Not Found", status_code=404)
        if self.token_matches(request):
            return None
        return PlainTextResponse(
            "The inspector needs its token: Authorization: Bearer <token>, or ?token=<token> for the page.",
            status_code=401,
            headers={"www-authenticate": 'Bearer realm="divolte inspector"'},
        )


def _json(value: object, status_code: int = 200) -> Response:
    return Response(orjson.dumps(value), status_code=status_code, media_type="application/json")


def _limit(text: str | None, maximum: int) -> int | None:
    """``limit=``: a positive count (at most the ring's size; ``DEFAULT_LIMIT`` when not given); None when it
    is not one."""
    if text is None or text == "":
        return min(DEFAULT_LIMIT, maximum)
    if not text.isdigit() or int(text) < 1:
        return None
    return min(int(text), maximum)


def _sse(name: str, data: object) -> bytes:
    return b"event: " + name.encode() + b"\ndata: " + orjson.dumps(data) + b"\n\n"


def inspector_routes(
    inspector: Inspector, settings: InspectorSettings, sources: Mapping[str, Source], stopping: Callable[[], bool]
) -> list[Route]:
    """The inspector's routes, for the collector's Starlette app; ``stopping`` ends live streams at shutdown."""
    access = Access(settings)
    files = resources.files("collector.resources")
    page = files.joinpath("inspect.html").read_text("utf-8")
    assets = {name: files.joinpath(name).read_bytes() for name in _ASSETS}

    def guarded(handler: Handler, methods: tuple[str, ...]) -> Callable[[Request], Awaitable[Response]]:
        """The handler behind the access check; methods are checked after it, so that a refused client
        gets the same 404 whatever it asks (never a 405 that shows the path exists)."""

        async def endpoint(request: Request) -> Response:
            refused = access.refusal(request)
            if refused is not None:
                return refused
            if request.method not in methods:
                return PlainTextResponse("Method Not Allowed", 405, headers={"allow": ", ".join(methods)})
            if request.method == "POST" and not _same_origin(request):
                return PlainTextResponse("Another site's page may not change the inspector.", 403)
            result = handler(request)
            response = result if isinstance(result, Response) else StreamingResponse(result, media_type=EVENT_STREAM)
            response.headers.update(SECURITY_HEADERS)
            return response

        return endpoint

    def show_page(request: Request) -> Response:
        # A browser cannot give its script and style requests a header: a page opened with ?token= passes
        # the token on in their URLs (never to another origin: the policy allows only this one).
        token = request.query_params.get("token")
        query = html.escape("?" + urlencode({"token": token})) if token else ""
        return Response(page.replace("{{TOKEN_QUERY}}", query), media_type="text/html; charset=utf-8")

    def asset(request: Request) -> Response:
        name = request.path_params["name"]
        if name not in assets:
            return PlainTextResponse("Not Found", status_code=404)
        return Response(assets[name], media_type=_ASSETS[name])

    def events(request: Request) -> Response:
        params = request.query_params
        limit = _limit(params.get("limit"), inspector.max_events)
        if limit is None:
            return _json({"error": "limit: expected a positive whole number"}, 400)
        unknown = sorted(set(params) - {*FILTERS, "limit", "token"})
        if unknown:
            return _json({"error": f"unknown parameters {unknown}; filters are {list(FILTERS)}, and limit"}, 400)
        wanted = {key: params[key] for key in FILTERS if params.get(key)}
        found = []
        for inspection in inspector.recent():
            rendered = render(inspection, sources)
            if matches(rendered, wanted):
                found.append(rendered)
                if len(found) >= limit:
                    break
        return _json({"events": found})

    def summary(request: Request) -> Response:
        return _json(inspector.summary())

    def reset(request: Request) -> Response:
        inspector.reset()
        return _json(inspector.summary())

    async def stream(request: Request) -> AsyncIterator[bytes]:
        after = request.query_params.get("after", "0")
        last = int(after) if after.isdigit() else 0
        resets = inspector.resets
        listener = inspector.listen()
        try:
            yield _sse("summary", inspector.summary())
            while not stopping():
                if inspector.resets != resets:
                    resets, last = inspector.resets, inspector.last_id
                    yield _sse("reset", inspector.summary())
                newer = inspector.since(last)
                if newer:
                    last = newer[-1].id
                    yield _sse("events", [render(inspection, sources) for inspection in newer[-STREAM_MAX_EVENTS:]])
                    yield _sse("summary", inspector.summary())
                listener.clear()
                try:
                    await asyncio.wait_for(listener.wait(), STREAM_HEARTBEAT)
                    await asyncio.sleep(STREAM_COALESCE)
                except TimeoutError:
                    yield _sse("summary", inspector.summary())
        finally:
            inspector.unlisten(listener)

    read = ("GET", "HEAD")
    # Every route takes every method, so that the access check answers first (see ``guarded``).
    return [
        Route(PATH, guarded(show_page, read), methods=ANY_METHOD),
        Route(PATH + "/assets/{name}", guarded(asset, read), methods=ANY_METHOD),
        Route(PATH + "/api/events", guarded(events, read), methods=ANY_METHOD),
        Route(PATH + "/api/summary", guarded(summary, read), methods=ANY_METHOD),
        Route(PATH + "/api/reset", guarded(reset, ("POST",)), methods=ANY_METHOD),
        Route(PATH + "/api/stream", guarded(stream, ("GET",)), methods=ANY_METHOD),
    ]
