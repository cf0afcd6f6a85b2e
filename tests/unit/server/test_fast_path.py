"""The pixel fast path answers exactly what the ASGI path answers, keeps the same events, and steps aside
for every request it does not handle (other paths and methods, HTTP/1.0, close, pipelining, odd paths)."""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any, cast

import pytest
import uvicorn
from uvicorn.protocols.http import httptools_impl
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from collector.app import build_app
from collector.config import load
from collector.config.settings import ServerSettings
from collector.counters import RefusalCounts
from collector.events import CapturedRequest
from collector.server.fast_path import PixelFastPath
from collector.server.protocol import CollectorHttpProtocol, GuardedHttpToolsProtocol, http_protocol
from collector.sources.browser import PixelEndpoint
from tests.unit.server.harness import SENTINEL, Server, protocol, without_access_log

EVENT = b"/csc-event?p=0%3Ai1t84hgy%3Aparty&s=0%3Ai1t84hgy%3As&v=0%3Av&e=0%3Ave&c=i1t8q2b6&n=t&f=t&t=pageView"

CASES: dict[str, bytes] = {
    "event": b"GET " + EVENT + b" HTTP/1.1\r\nHost: x\r\nUser-Agent: t\r\nX-Forwarded-For: 1.2.3.4\r\n\r\n",
    "no query": b"GET /csc-event HTTP/1.1\r\nHost: x\r\n\r\n",
    "cached pixel (304)": b"GET " + EVENT + b" HTTP/1.1\r\nHost: x\r\nIf-None-Match: " + SENTINEL + b"\r\n\r\n",
    "pipelined": b"GET /csc-event?a=1 HTTP/1.1\r\nHost: x\r\n\r\nGET /ping HTTP/1.1\r\nHost: x\r\n\r\n"
    b"GET /csc-event?b=2 HTTP/1.1\r\nHost: x\r\n\r\nGET /csc-event?c=3 HTTP/1.1\r\nHost: x\r\n\r\n",
    "HEAD": b"HEAD /csc-event?a=1 HTTP/1.1\r\nHost: x\r\n\r\n",
    "POST": b"POST /csc-event?a=1 HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nhi",
    "GET with a body": b"GET /csc-event?a=1 HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc"
    b"GET /csc-event?a=2 HTTP/1.1\r\nHost: x\r\n\r\n",
    "HTTP/1.0": b"GET /csc-event?a=1 HTTP/1.0\r\nHost: x\r\n\r\n",
    "Connection: close": b"GET /csc-event?a=1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    "escaped path": b"GET /csc%2Devent?a=1 HTTP/1.1\r\nHost: x\r\n\r\n",
    "dot segments": b"GET /x/../csc-event?a=1 HTTP/1.1\r\nHost: x\r\n\r\n",
    "absolute form": b"GET http://x/csc-event?a=1 HTTP/1.1\r\nHost: x\r\n\r\n",
    "trailing slash": b"GET /csc-event/?a=1 HTTP/1.1\r\nHost: x\r\n\r\n",
    "doubled slash": b"GET //csc-event?a=1 HTTP/1.1\r\nHost: x\r\n\r\n",
    "path parameter": b"GET /csc-event;jsessionid=1?a=1 HTTP/1.1\r\nHost: x\r\n\r\n",
    "refused query (400)": b"GET /csc-event?a=%zz HTTP/1.1\r\nHost: x\r\n\r\n",
    "bare * If-None-Match": b"GET " + EVENT + b" HTTP/1.1\r\nHost: x\r\nIf-None-Match: *\r\n\r\n",
    "target over 64 KiB": b"GET /csc-event?a=" + b"b" * 70000 + b" HTTP/1.1\r\nHost: x\r\n\r\n",
    "tracker": b"GET /divolte.js HTTP/1.1\r\nHost: x\r\n\r\n",
}

CONFIG = """
divolte {{
  global.server.serve_static_resources = false
  sources.browser.type = browser
  sinks.files {{ type = hdfs, file_strategy {{ working_dir = "{dir}", publish_dir = "{dir}" }} }}
  mappings.m {{ sources = [browser], sinks = [files] }}
}}
"""


async def start(
    tmp_path: Path, fast: bool, http: Callable[[ServerSettings, RefusalCounts], type[asyncio.Protocol]] | None = None
) -> Server:
    """The app under uvicorn, served with ``http`` (by default the protocol ``fast`` says)."""
    (tmp_path / "files").mkdir(parents=True)
    path = tmp_path / "collector.conf"
    path.write_text(CONFIG.format(dir=tmp_path / "files"))
    settings = load(path)
    app = build_app(settings)
    choose = http or protocol(fast)
    config = uvicorn.Config(
        app, host="127.0.0.1", port=0, http=choose(settings.global_.server, app.collector.refusals),
        lifespan="off", server_header=False, proxy_headers=False, log_config=None, access_log=False,
    )  # fmt: skip
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.01)
    return Server(app, server, task)


@pytest.fixture
async def servers(tmp_path: Path) -> AsyncIterator[tuple[Server, Server]]:
    plain = await start(tmp_path / "plain", fast=False)
    fast = await start(tmp_path / "fast", fast=True)
    yield plain, fast
    for s in (plain, fast):
        s.server.should_exit = True
        await s.task


def comparable(requests: list[CapturedRequest]) -> list[tuple[Any, ...]]:
    return [(r.source, r.query, r.headers, r.peer) for r in requests]


@pytest.mark.parametrize("case", list(CASES))
async def test_same_bytes_and_same_events_as_the_asgi_path(
    servers: tuple[Server, Server], case: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    without_access_log(monkeypatch)
    plain, fast = servers
    assert await fast.exchange(CASES[case]) == await plain.exchange(CASES[case])
    assert comparable(fast.captured()) == comparable(plain.captured())
    assert fast.app.collector.http.counts == plain.app.collector.http.counts


async def test_plain_event_gets_never_reach_the_asgi_app(
    servers: tuple[Server, Server], monkeypatch: pytest.MonkeyPatch
) -> None:
    without_access_log(monkeypatch)
    plain, fast = servers
    calls: list[str] = []
    original: Callable[..., Any] = PixelEndpoint.__call__

    async def counting(self: PixelEndpoint, scope: Any, receive: Any, send: Any) -> None:
        calls.append(scope["path"])
        await original(self, scope, receive, send)

    monkeypatch.setattr(PixelEndpoint, "__call__", counting)
    await fast.exchange(CASES["event"] + CASES["cached pixel (304)"] + CASES["no query"])
    assert calls == []
    assert len(fast.captured()) == 2
    await fast.exchange(CASES["HEAD"] + CASES["escaped path"])
    assert calls == ["/csc-event", "/csc-event"]
    await plain.exchange(CASES["event"])
    assert len(calls) == 3
    monkeypatch.setattr(logging.getLogger("uvicorn.access"), "handlers", [logging.NullHandler()])
    await fast.exchange(CASES["event"])  # with access logging on, every request goes through ASGI (and the log)
    assert len(calls) == 4


def test_sits_between_the_guarded_protocol_and_uvicorns() -> None:
    mro = CollectorHttpProtocol.__mro__
    assert mro.index(GuardedHttpToolsProtocol) < mro.index(PixelFastPath) < mro.index(HttpToolsProtocol)
    served = http_protocol(load(None).global_.server, RefusalCounts())
    assert isinstance(served, functools.partial) and served.func is CollectorHttpProtocol


def _rename_status_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delattr(httptools_impl, "STATUS_LINE")


def _rename_pipeline(monkeypatch: pytest.MonkeyPatch) -> None:
    """An ``__init__`` that no longer assigns ``self.pipeline`` (the queue of pipelined requests)."""
    original = HttpToolsProtocol.__init__

    def init(self: HttpToolsProtocol, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        self.requests_in_line = self.pipeline  # type: ignore[attr-defined]
        del self.pipeline

    monkeypatch.setattr(HttpToolsProtocol, "__init__", init)


@pytest.mark.parametrize(
    ("rename", "missing"),
    [(_rename_status_line, "httptools_impl.STATUS_LINE"), (_rename_pipeline, "HttpToolsProtocol.pipeline")],
)
async def test_a_uvicorn_without_what_the_fast_path_needs_answers_through_asgi_with_one_warning(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    rename: Callable[[pytest.MonkeyPatch], None],
    missing: str,
) -> None:
    without_access_log(monkeypatch)
    chosen: list[Any] = []

    def at_start_up(limits: ServerSettings, refusals: RefusalCounts) -> type[asyncio.Protocol]:
        with monkeypatch.context() as patch:  # a uvicorn that renamed it, at start-up
            rename(patch)
            chosen.append(http_protocol(limits, refusals))
        return cast("type[asyncio.Protocol]", chosen[0])

    calls: list[str] = []
    original: Callable[..., Any] = PixelEndpoint.__call__

    async def counting(self: PixelEndpoint, scope: Any, receive: Any, send: Any) -> None:
        calls.append(scope["path"])
        await original(self, scope, receive, send)

    monkeypatch.setattr(PixelEndpoint, "__call__", counting)
    with caplog.at_level(logging.WARNING, logger="collector.server.protocol"):
        fallback = await start(tmp_path / "fallback", fast=True, http=at_start_up)
    plain = await start(tmp_path / "plain", fast=False)
    try:
        warnings = [r.getMessage() for r in caplog.records if r.name == "collector.server.protocol"]
        assert len(warnings) == 1 and missing in warnings[0] and "ASGI" in warnings[0]
        assert chosen[0].func is GuardedHttpToolsProtocol
        answer = await fallback.exchange(CASES["event"])
        assert answer.startswith(b"HTTP/1.1 200 OK\r\n") and answer == await plain.exchange(CASES["event"])
        assert calls == ["/csc-event", "/csc-event"]  # both through the ASGI endpoint
        assert comparable(fallback.captured()) == comparable(plain.captured())
    finally:
        for s in (fallback, plain):
            s.server.should_exit = True
            await s.task
