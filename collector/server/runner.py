"""Run the collector under uvicorn: the protocol with its limits and the pixel fast path, Divolte's shutdown order.

Shutdown (SIGTERM or SIGINT) follows Divolte's order: ``/ping`` answers 503 at once, then after
``shutdown_delay`` the listener closes, in-flight requests get up to ``shutdown_timeout``, then every
queued event is mapped and written and every file published. A second signal forces an immediate exit.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import signal
import socket
from collections.abc import Generator
from pathlib import Path

import uvicorn

from collector import __version__
from collector.app import Collector, FrontDoor, build_app
from collector.config.settings import (
    BrowserSourceSettings,
    GcpsSinkSettings,
    GcsSinkSettings,
    HdfsSinkSettings,
    S3SinkSettings,
    Settings,
)
from collector.server.protocol import http_protocol
from collector.sinks.hdfs_config import default_fs, is_remote

log = logging.getLogger("collector")


class CollectorServer(uvicorn.Server):
    """uvicorn's server with Divolte's shutdown order (see the module docstring)."""

    def __init__(self, config: uvicorn.Config, collector: Collector) -> None:
        super().__init__(config)
        self.collector = collector

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, self._on_signal, sig)
        try:
            yield
        finally:
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.remove_signal_handler(sig)

    def _on_signal(self, sig: int) -> None:
        if self.collector.shutting_down:
            log.warning("Second %s: exiting without waiting for in-flight requests.", signal.Signals(sig).name)
            self.force_exit = True
            self.should_exit = True
            return
        delay = self.collector.settings.global_.server.shutdown_delay
        log.info("%s received: /ping answers 503; stopping in %.1f s.", signal.Signals(sig).name, delay)
        self.collector.begin_shutdown()
        asyncio.get_running_loop().call_later(delay, self._stop)

    def _stop(self) -> None:
        self.should_exit = True


def describe(settings: Settings, host: str, port: int) -> list[str]:
    """Start-up lines a person needs: where to point a browser, and where events go."""
    base = f"http://{host}:{port}"
    lines = []
    if settings.global_.server.serve_static_resources:
        lines.append(f"Demo page:  {base}/")
    inspector = settings.global_.inspector
    if inspector.enabled:
        remote = "loopback and token holders" if inspector.allow_remote else "loopback only"
        lines.append(f"Inspector:  {base}/inspect (last {inspector.max_events} events, {remote})")
    for name, source in settings.sources.items():
        if isinstance(source, BrowserSourceSettings):
            lines.append(f"Source '{name}': tracker {base}{source.prefix}{source.javascript.name}, "
                         f"events {base}{source.prefix}{source.event_suffix}")  # fmt: skip
        else:
            lines.append(f"Source '{name}': JSON events POST {base}{source.event_path}"
                         f"?{source.party_id_parameter}=<party id>")  # fmt: skip
    on_hdfs = is_remote(settings.global_.hdfs.client)
    for name, sink in settings.sinks.items():
        if isinstance(sink, HdfsSinkSettings) and settings.global_.hdfs.enabled and on_hdfs:
            fs = sink.file_strategy
            lines.append(f"Sink '{name}': files written in {fs.working_dir}, published to {fs.publish_dir} on "
                         f"{default_fs(settings.global_.hdfs.client or {})} (replication {sink.replication}, "
                         f"sync every {fs.sync_file_after_records} records or {fs.sync_file_after_duration:g} s, "
                         f"roll every {fs.roll_every:g} s)")  # fmt: skip
        elif isinstance(sink, HdfsSinkSettings) and settings.global_.hdfs.enabled:
            fs = sink.file_strategy
            lines.append(f"Sink '{name}': files written in {Path(fs.working_dir).resolve()}, "
                         f"published to {Path(fs.publish_dir).resolve()} "
                         f"(sync every {fs.sync_file_after_records} records or {fs.sync_file_after_duration:g} s, "
                         f"roll every {fs.roll_every:g} s)")  # fmt: skip
        elif isinstance(sink, S3SinkSettings) and settings.global_.s3.enabled:
            fs = sink.file_strategy
            lines.append(f"Sink '{name}': files built in {(Path(fs.working_dir) / name).resolve()}, uploaded to "
                         f"s3://{sink.bucket}/{sink.prefix}{sink.key_pattern} "
                         f"(roll every {fs.roll_every:g} s, codec {fs.codec})")  # fmt: skip
        elif isinstance(sink, GcpsSinkSettings) and settings.global_.gcps.enabled:
            lines.append(
                f"Sink '{name}': Pub/Sub topic projects/{settings.global_.gcps.project_id}/topics/{sink.topic}"
            )
        elif isinstance(sink, GcsSinkSettings) and settings.global_.gcs.enabled:
            fs = sink.file_strategy
            lines.append(f"Sink '{name}': files built in {(Path(sink.local_dir) / name).resolve()}, uploaded to "
                         f"gs://{sink.bucket.removeprefix('gs://')}/{fs.publish_dir}/ on roll "
                         f"(roll every {fs.roll_every:g} s, codec {fs.codec})")  # fmt: skip
    return lines


def serve(
    settings: Settings,
    host: str | None,
    port: int | None,
    *,
    app: FrontDoor | None = None,
    sockets: list[socket.socket] | None = None,
) -> int:
    """Serve until a signal stops the collector; 0 on a clean stop, 1 when start-up failed.

    A worker process (``collector.server.workers``) passes its ``app`` and the listening ``sockets`` it
    inherited from the supervisor; ``host`` and ``port`` then only name them in the log."""
    server_settings = settings.global_.server
    host = host or server_settings.host or "127.0.0.1"
    port = port or server_settings.port
    app = app or build_app(settings)
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        loop="uvloop",
        # The limits protocol, with the pixel answered inside uvicorn's protocol (server/fast_path.py).
        http=http_protocol(server_settings, app.collector.refusals),
        lifespan="on",
        server_header=False,
        proxy_headers=False,  # X-Forwarded-For is honoured only as configured (use_x_forwarded_for)
        access_log=server_settings.debug_requests,
        timeout_graceful_shutdown=max(1, int(server_settings.shutdown_timeout)),
        timeout_keep_alive=max(1, math.ceil(server_settings.keep_alive_timeout)),
        log_config=None,
    )
    if sockets is None:
        log.info("divolte-collector %s, configuration: %s", __version__, settings.origin)
        for line in describe(settings, host, port):
            log.info("%s", line)
    server = CollectorServer(config, app.collector)
    server.run(sockets=sockets)
    return 0 if app.collector.started or not server.started else 1
