"""What the server tests share: the collector app under uvicorn in the test's event loop, with or without the
pixel fast path, and the ways to talk to it."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import re
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any, cast

import pytest
import uvicorn

from collector.app import FrontDoor, build_app
from collector.config import load
from collector.config.settings import ServerSettings
from collector.counters import RefusalCounts
from collector.events import CapturedRequest
from collector.server.protocol import CollectorHttpProtocol, GuardedHttpToolsProtocol

SENTINEL = b'"6b3edc43-20ec-4078-bc47-e965dd76b88a"'
"""Divolte's ETag for the pixel: a browser that sends it back gets 304."""


class Server:
    """The collector app under uvicorn in this event loop, without its lifespan (the intake just fills)."""

    def __init__(self, app: FrontDoor, server: uvicorn.Server, task: asyncio.Task[None]) -> None:
        self.app = app
        self.server = server
        self.task = task

    @property
    def port(self) -> int:
        return int(self.server.servers[0].sockets[0].getsockname()[1])

    def captured(self) -> list[CapturedRequest]:
        return list(self.app.collector.intake._items)

    async def exchange(self, request: bytes) -> bytes:
        """Send ``request`` in one write and read until the server closes or stays quiet."""
        reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
        writer.write(request)
        await writer.drain()
        data = b""
        while True:
            try:
                chunk = await asyncio.wait_for(reader.read(65536), 0.2)
            except TimeoutError:
                break
            if not chunk:
                break
            data += chunk
        writer.close()
        return re.sub(rb"date: [^\r]+", b"date: <now>", data)


def protocol(fast: bool) -> Callable[[ServerSettings, RefusalCounts], type[asyncio.Protocol]]:
    """The collector's protocol with its pixel fast path, or the same limits without it (every request
    through ASGI), as ``http_protocol`` binds them."""
    cls = CollectorHttpProtocol if fast else GuardedHttpToolsProtocol
    return lambda limits, refusals: cast(Any, functools.partial(cls, limits=limits, refusals=refusals))


def without_access_log(monkeypatch: pytest.MonkeyPatch) -> None:
    """pytest attaches its capture handlers to every logger during a test, which reads as access logging
    switched on (the fast path then steps aside); the collector runs with none."""
    monkeypatch.setattr(logging.getLogger("uvicorn.access"), "handlers", [])


def status(response: bytes) -> int:
    """The status code of the first response in ``response``."""
    return int(response.split(b" ", 2)[1])


@contextlib.asynccontextmanager
async def serving(config: str, fast: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Server]:
    """The collector app of ``config`` (a template with ``{dir}``: a file sink's folder) under uvicorn with
    the collector's protocol, with the pixel fast path or without it, until the block ends."""
    without_access_log(monkeypatch)
    (tmp_path / "files").mkdir()
    path = tmp_path / "collector.conf"
    path.write_text(config.format(dir=tmp_path / "files"))
    settings = load(path)
    app = build_app(settings)
    uvicorn_config = uvicorn.Config(
        app, host="127.0.0.1", port=0, http=protocol(fast)(settings.global_.server, app.collector.refusals),
        lifespan="off", server_header=False, proxy_headers=False, log_config=None, access_log=False,
    )  # fmt: skip
    uvicorn_server = uvicorn.Server(uvicorn_config)
    running = Server(app, uvicorn_server, asyncio.create_task(uvicorn_server.serve()))
    while not uvicorn_server.started:
        await asyncio.sleep(0.01)
    try:
        yield running
    finally:
        running.server.should_exit = True
        await running.task
