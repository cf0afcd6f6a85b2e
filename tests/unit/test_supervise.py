"""Supervision outside the sinks: the processor loses one event to a bug, not its task; a scrape whose
statistics raise still exports the rest and counts the failure."""

from __future__ import annotations

import asyncio
import gc
import logging
import ssl
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import generate_latest

from collector.app import build_app
from collector.config import load
from collector.events import CapturedRequest, DivolteEvent
from collector.metrics import registry_for
from collector.supervise import TASK_FAILURES, report_unobserved
from tests.integration.faults import send, until


def config(tmp_path: Path) -> Path:
    path = tmp_path / "collector.conf"
    path.write_text(f"""
divolte {{
  sources.browser.type = browser
  sinks.files {{ type = hdfs, file_strategy {{ working_dir = "{tmp_path}", publish_dir = "{tmp_path}" }} }}
  mappings.m {{ sources = [browser], sinks = [files] }}
}}
""")
    return path


async def test_an_event_that_makes_processing_raise_is_dropped_alone(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    app = build_app(load(config(tmp_path), env={}))
    processor = app.collector.processor
    parse = processor._parsers["browser"]

    def buggy(request: CapturedRequest) -> DivolteEvent:
        event = parse(request)
        if event.party_id.startswith("0:kx1:"):
            raise RuntimeError("a bug that only party 1 triggers")
        return event

    processor._parsers["browser"] = buggy
    before = TASK_FAILURES["processor"]
    await app.collector.start()
    events = [(party, n) for n in range(3) for party in range(3)]
    assert await send(app, events) == (9, 9)
    assert await until(lambda: processor.statistics().processed == 6, 10)
    assert processor.statistics().dropped["processing_error"] == 3
    assert TASK_FAILURES["processor"] - before == 3
    assert processor.running and app.collector.ready
    assert any("a bug that only party 1 triggers" in r.getMessage() for r in caplog.records)
    assert (
        'divolte_events_dropped_total{reason="processing_error"} 3.0'
        in generate_latest(registry_for(app.collector)).decode()
    )
    await app.collector.stop()
    assert app.collector.topology.sinks["files"].written == 6


async def test_a_scrape_survives_a_component_whose_statistics_raise(tmp_path: Path) -> None:
    app = build_app(load(config(tmp_path), env={}))

    def broken() -> object:
        raise MemoryError

    app.collector.intake.statistics = broken  # type: ignore[method-assign,assignment]
    before = TASK_FAILURES["metrics"]
    text = generate_latest(registry_for(app.collector)).decode()
    assert "divolte_events_accepted_total" not in text, "the group that raised is left out of this scrape"
    assert "divolte_user_agent_cache_hits_total" in text, "the groups that work are exported"
    assert TASK_FAILURES["metrics"] > before
    assert 'divolte_task_failures_total{task="metrics"}' in text


@pytest.mark.parametrize("exception", [ssl.SSLError(1, "[SSL: SSLV3_ALERT_BAD_CERTIFICATE]"), ConnectionResetError()])
def test_a_library_connection_future_nobody_awaited_is_an_info_line(
    exception: Exception, caplog: pytest.LogCaptureFixture
) -> None:
    """aiokafka can leave a TLS refusal in a future nobody awaits; its sink already reported the refusal."""
    caplog.set_level(logging.INFO)
    loop = asyncio.new_event_loop()
    loop.set_exception_handler(report_unobserved)
    before = TASK_FAILURES["unobserved"]
    try:
        future: asyncio.Future[None] = loop.create_future()
        future.set_exception(exception)
        del future
        gc.collect()  # the future's finaliser calls the handler, as asyncio does for "exception was never retrieved"
    finally:
        loop.close()
    (line,) = [r for r in caplog.records if "connection failed with nobody waiting" in r.getMessage()]
    assert line.levelno == logging.INFO and repr(exception) in line.getMessage()
    assert not [r for r in caplog.records if "never retrieved" in r.getMessage()]
    assert TASK_FAILURES["unobserved"] == before


@pytest.mark.parametrize("failed", ["task", "other exception"])
def test_anything_else_nobody_awaited_is_counted_and_left_to_asyncio(failed: str) -> None:
    """A task of ours, or a non-network exception, is asyncio's error line (with its traceback) and counted."""
    loop = asyncio.new_event_loop()
    handed_on: list[dict[str, Any]] = []
    loop.default_exception_handler = handed_on.append  # type: ignore[method-assign,assignment]
    before = TASK_FAILURES["unobserved"]
    try:
        future: asyncio.Future[None]
        if failed == "task":  # even a network error: a task is ours, and ours must not fail unobserved
            future = loop.create_task(asyncio.sleep(0))
            loop.run_until_complete(future)
            exception: Exception = ConnectionResetError()
        else:
            future = loop.create_future()
            exception = RuntimeError("a bug")
        context: dict[str, Any] = {"message": "exception was never retrieved", "exception": exception, "future": future}
        report_unobserved(loop, context)
    finally:
        loop.close()
    assert handed_on == [context]
    assert TASK_FAILURES["unobserved"] == before + 1
