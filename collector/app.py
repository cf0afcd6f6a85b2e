"""``build_app(settings)``: the collector as one standard ASGI application, and its lifecycle.

Routing: the event and tracker paths of every source are exact-path lookups in a small front door that
runs before Starlette, because they carry nearly all traffic and Starlette's routing costs more than the
handlers themselves. Everything else (``/ping``, ``/ready``, the demo page, 404s) is a Starlette app. A path
that is not an exact hit is routed as Divolte's router routes it (``collector.protocol.request_path``:
``//csc-event``, ``/csc-event/``, ``/csc-event;jsessionid=1`` reach the event endpoint, ``/ping/`` is
``/ping``). A query (or path) that Divolte's server refuses before routing gets 400 on every path, as there.
Every response carries ``Server: divolte``, as Divolte's do.

Lifecycle (Starlette lifespan): start-up starts the sink runners and the processor; shutdown drains the
intake through the processor into the sinks, then closes the sinks (publishing every file). Components are
built in ``Collector.__init__``, so configuration problems (a missing directory, an unsupported sink)
stop the process before it binds its port.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from importlib import resources
from typing import Protocol

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest, start_http_server
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, Response
from starlette.routing import Route

from collector.config.settings import BrowserSourceSettings, HdfsSinkSettings, Settings
from collector.counters import HttpCounts, RefusalCounts
from collector.enrich.dedup import DuplicateMemory
from collector.enrich.geo import GeoDatabase
from collector.enrich.useragent import UserAgentParser
from collector.errors import CollectorError
from collector.inspect.recorder import Inspector
from collector.inspect.render import Source
from collector.inspect.web import inspector_routes
from collector.mapping.vocabulary import Environment
from collector.metrics import registry_for
from collector.pipeline.intake import Intake
from collector.pipeline.process import Processor, ProcessorSettings
from collector.pipeline.topology import build_topology
from collector.protocol.query import refusal
from collector.protocol.request_path import route_path
from collector.sinks.hdfs_config import is_remote
from collector.sources.browser import REFUSED_QUERY, PixelEndpoint
from collector.sources.http import SERVER_HEADER, Message, Receive, Scope, Send, send_text
from collector.sources.json import JsonEndpoint
from collector.sources.tracker import TrackerEndpoint
from collector.supervise import report_unobserved

log = logging.getLogger(__name__)

ASGIEndpoint = PixelEndpoint | TrackerEndpoint | JsonEndpoint


class Fleet(Protocol):
    """The other worker processes, when this collector is one of several (``collector.server.workers``)."""

    index: int
    """This worker's index, 0 to processes - 1."""

    def duplicate_memories(self) -> list[DuplicateMemory]:
        """The duplicate memories every worker shares."""

    def others_ready(self) -> bool:
        """Whether every other worker is up and ready."""

    def metrics_registry(self, collector: Collector) -> CollectorRegistry:
        """A registry whose scrape shows the whole collector (blocking: scrape it off the event loop)."""

    async def start(self, collector: Collector) -> None:
        """After the components started: report readiness, answer the other workers' metric requests."""

    async def stop(self) -> None:
        """Before the drain: tell the others this worker is no longer ready."""


class Collector:
    """Every component of a running collector, built from ``settings``; started and stopped by the app."""

    def __init__(self, settings: Settings, fleet: Fleet | None = None) -> None:
        self.settings = settings
        self.fleet = fleet
        mapper = settings.global_.mapper
        self.intake = Intake(mapper.buffer_size * max(1, mapper.threads))
        self.user_agents = UserAgentParser(mapper.user_agent_parser.cache_size)
        self.geo = GeoDatabase.open(mapper.ip2geo_database) if mapper.ip2geo_database else None
        self.topology = build_topology(settings, Environment(self.user_agents, self.geo))
        memories = fleet.duplicate_memories() if fleet is not None else None
        inspecting = settings.global_.inspector
        self.inspector = Inspector(inspecting.max_events) if inspecting.enabled else None
        """The recent events shown at ``/inspect``; None (and no hook anywhere) when the inspector is off."""
        if self.inspector is not None:
            self.intake.on_overflow = self.inspector.overflow
        self.processor = Processor(self.intake, self.topology, ProcessorSettings.of(settings), memories, self.inspector)
        self.http = HttpCounts()
        self.refusals = RefusalCounts()
        """Requests the HTTP protocol refused (``server/protocol.py``); the server hands it to the protocol."""
        self.shutting_down = False
        self.started = False
        self.start_refused: str | None = None
        """Why start-up stopped, when a component refused to start (a missing bucket or topic, bad credentials)."""

    def begin_shutdown(self) -> None:
        """From now on ``/ping`` and ``/ready`` answer 503, so load balancers stop sending traffic."""
        self.shutting_down = True

    @property
    def ready_here(self) -> bool:
        """Whether this process is started, not stopping, and its processor and sinks work."""
        return (
            self.started
            and not self.shutting_down
            and self.processor.running
            and all(runner.statistics().healthy for runner in self.topology.sinks.values())
        )

    @property
    def ready(self) -> bool:
        """What ``/ready`` answers: this process and, with several, every other worker too."""
        return self.ready_here and (self.fleet is None or self.fleet.others_ready())

    async def start(self) -> None:
        asyncio.get_running_loop().set_exception_handler(report_unobserved)
        for runner in self.topology.sinks.values():
            await runner.start()
        self.processor.start()
        self.started = True
        if self.fleet is not None:
            await self.fleet.start(self)

    async def stop(self) -> None:
        """Drain: every accepted event goes through the mappings into the sinks, then the sinks close."""
        self.shutting_down = True
        if self.fleet is not None:
            await self.fleet.stop()
        await self.processor.drain()
        timeout = self.settings.global_.server.shutdown_timeout
        await asyncio.gather(*(runner.aclose(timeout) for runner in self.topology.sinks.values()))
        if self.geo is not None:
            self.geo.close()
        stats, processed = self.intake.statistics(), self.processor.statistics()
        log.info(
            "Stopped: %d events accepted, %d processed, %d dropped at intake, %d incomplete.",
            stats.accepted, processed.processed, stats.dropped, sum(processed.dropped.values()),
        )  # fmt: skip


def _demo_page(settings: Settings) -> str:
    browser = next((s for s in settings.sources.values() if isinstance(s, BrowserSourceSettings)), None)
    script = f"{browser.prefix}{browser.javascript.name}" if browser else ""
    template = resources.files("collector.resources").joinpath("index.html").read_text("utf-8")
    return template.replace("{{SCRIPT_SRC}}", script)


def _inspected_sources(settings: Settings) -> dict[str, Source]:
    """Each source's event method and path (to show a request as the client sent it) and its parser."""
    parsers = ProcessorSettings.of(settings).parsers
    return {
        name: Source("GET", source.prefix + source.event_suffix, parsers[name])
        if isinstance(source, BrowserSourceSettings)
        else Source("POST", source.event_path, parsers[name])
        for name, source in settings.sources.items()
    }


def _starlette(collector: Collector) -> Starlette:
    settings = collector.settings

    async def ping(request: Request) -> Response:
        if collector.shutting_down:
            return PlainTextResponse("No p*ng for you, shutting down", status_code=503)
        return PlainTextResponse("pong")

    async def ready(request: Request) -> Response:
        if collector.ready:
            return PlainTextResponse("ready")
        reason = "shutting down" if collector.shutting_down else "not ready: starting, or a component is failing"
        return PlainTextResponse(reason, status_code=503)

    routes = [
        Route("/ping", ping, methods=["GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH"]),
        Route("/ready", ready, methods=["GET", "HEAD"]),
    ]
    metrics = settings.global_.metrics
    fleet = collector.fleet
    registry = registry_for(collector) if fleet is None else fleet.metrics_registry(collector)
    if metrics.enabled and metrics.port == 0:

        async def metrics_endpoint(request: Request) -> Response:
            # In a thread: with several workers a scrape waits on the others' answers.
            return Response(await asyncio.to_thread(generate_latest, registry), media_type=CONTENT_TYPE_LATEST)

        routes.append(Route("/metrics", metrics_endpoint, methods=["GET"]))
    if collector.inspector is not None:
        routes += inspector_routes(
            collector.inspector,
            settings.global_.inspector,
            _inspected_sources(settings),
            lambda: collector.shutting_down,
        )
    if settings.global_.server.serve_static_resources:
        page = _demo_page(settings)

        async def index(request: Request) -> Response:
            return HTMLResponse(page)

        routes += [Route("/", index, methods=["GET", "HEAD"]), Route("/index.html", index, methods=["GET", "HEAD"])]

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        try:
            await collector.start()
        except CollectorError as exc:  # the cause and its fix, for the log without a traceback (see FrontDoor)
            collector.start_refused = str(exc)
            raise
        metrics_server = None
        if metrics.enabled and metrics.port and (fleet is None or fleet.index == 0):  # one port: worker 0's
            host = settings.global_.server.host or "127.0.0.1"
            metrics_server, _ = start_http_server(metrics.port, addr=host, registry=registry)
            log.info("Metrics: http://%s:%d/metrics", host, metrics.port)
        try:
            yield
        finally:
            if metrics_server is not None:
                metrics_server.shutdown()
            await collector.stop()

    return Starlette(routes=routes, lifespan=lifespan)


class ServerHeader:
    """Pure ASGI middleware: adds ``Server: divolte`` to every response that lacks it, and counts responses."""

    def __init__(self, app: Starlette, http: HttpCounts, paths: frozenset[str]) -> None:
        self.app = app
        self.http = http
        self.paths = paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        endpoint = scope["path"] if scope["path"] in self.paths else "other"

        async def send_with_server(message: Message) -> None:
            if message["type"] == "http.response.start":
                self.http.add(endpoint, message["status"])
                headers = list(message.get("headers", []))
                if not any(name.lower() == b"server" for name, _ in headers):
                    headers.append(SERVER_HEADER)
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_server)


class FrontDoor:
    """The ASGI application: exact-path hot endpoints first, then the Starlette app."""

    def __init__(self, collector: Collector, endpoints: dict[str, ASGIEndpoint], fallback: ServerHeader) -> None:
        self.collector = collector
        self.endpoints = endpoints
        self.fallback = fallback

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            if scope["type"] == "lifespan":
                send = self._plain_startup_failure(send)
            await self.fallback(scope, receive, send)
            return
        path = scope["path"]
        endpoint = self.endpoints.get(path)
        if endpoint is None:
            routed = route_path(scope.get("raw_path") or path.encode("utf-8"))
            if routed is None:
                await self._refuse(send, "The request path has a malformed %-escape; Divolte refuses it too.")
                return
            endpoint = self.endpoints.get(routed)
            if endpoint is None and routed != path and routed in self.fallback.paths:
                scope = {**scope, "path": routed, "raw_path": routed.encode("utf-8")}
        if isinstance(endpoint, PixelEndpoint):
            await endpoint(scope, receive, send)  # it answers a refused query itself, on the fast path too
            return
        if refusal(scope["query_string"]) is not None:
            await self._refuse(send, REFUSED_QUERY.decode("ascii"))
            return
        if endpoint is not None:
            await endpoint(scope, receive, send)
        else:
            await self.fallback(scope, receive, send)

    def _plain_startup_failure(self, send: Send) -> Send:
        """A start-up refused for a known cause is reported as that cause alone: uvicorn logs the message of
        ``lifespan.startup.failed``, which Starlette fills with a traceback that would bury the fix."""

        async def reporting(message: Message) -> None:
            if message["type"] == "lifespan.startup.failed" and self.collector.start_refused is not None:
                message = {**message, "message": f"Start-up stopped: {self.collector.start_refused}"}
            await send(message)

        return reporting

    async def _refuse(self, send: Send, message: str) -> None:
        """400, as Divolte's server answers a request it cannot parse (before any handler sees it)."""
        self.collector.http.add("other", 400)
        await send_text(send, 400, message)


def _check_supported(settings: Settings) -> None:
    """Warn (once, at start-up) about settings that are accepted for compatibility but change nothing here."""
    local = not is_remote(settings.global_.hdfs.client)  # on HDFS, replication is honoured
    replicated = [
        f"divolte.sinks.{name}.replication = {sink.replication}"
        for name, sink in settings.sinks.items()
        if isinstance(sink, HdfsSinkSettings) and sink.replication_configured and local
    ]
    if replicated:
        log.warning(
            "%s: no effect; these sinks write files to local (or mounted) directories, whose durability is the "
            "file system's own. Remove the setting to silence this warning.", ", ".join(replicated),
        )  # fmt: skip
    parser_type = settings.global_.mapper.user_agent_parser.type
    if parser_type != "non_updating":
        log.warning(
            "divolte.global.mapper.user_agent_parser.type = %s: the online user-agent database it needs was shut "
            "down in 2014; user agents are parsed with the bundled uap-core rules (as non_updating).",
            parser_type,
        )


def build_app(settings: Settings, fleet: Fleet | None = None) -> FrontDoor:
    """The collector's ASGI app; ``fleet`` when it is one of several worker processes."""
    _check_supported(settings)
    collector = Collector(settings, fleet)
    endpoints: dict[str, ASGIEndpoint] = {}
    for name, source in settings.sources.items():
        if isinstance(source, BrowserSourceSettings):
            event_path = source.prefix + source.event_suffix
            endpoints[event_path] = PixelEndpoint(
                name, collector.intake, source.http_response_delay, collector.http, event_path
            )
            endpoints[source.prefix + source.javascript.name] = TrackerEndpoint(source, http=collector.http)
        else:
            # An exact path: a JSON source on "/" takes the place of the demo page, as in Divolte.
            endpoints[source.event_path] = JsonEndpoint(source, collector.intake, collector.http)
    starlette = _starlette(collector)
    known = frozenset(route.path for route in starlette.routes if isinstance(route, Route))
    return FrontDoor(collector, endpoints, ServerHeader(starlette, collector.http, known))
