"""The sink runner under failures it was not told about: any exception, a hang, a sink failing for long."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence

import pytest

from collector.config.settings import SupervisionSettings
from collector.events import EncodedRecord
from collector.sinks import runner as runner_module
from collector.sinks.runner import SinkRunner
from collector.supervise import TASK_FAILURES, supervise
from tests.unit.sinks.helpers import record, until


class BrokenSink:
    """Raises ``error`` (or hangs, for ``error = None``) on the first ``failures`` writes, then takes records."""

    def __init__(self, name: str, error: BaseException | None, failures: int) -> None:
        self.name = name
        self.error = error
        self.failures = failures
        self.taken: list[int] = []

    async def start(self) -> None:
        pass

    async def write_batch(self, records: Sequence[EncodedRecord]) -> None:
        if self.failures:
            self.failures -= 1
            error = self.error
            if error is None:
                await asyncio.sleep(3600)
                raise AssertionError("a hung write is cancelled before it wakes")
            raise error
        self.taken += [r.timestamp for r in records]

    async def heartbeat(self) -> None:
        pass

    async def aclose(self) -> None:
        pass


@pytest.mark.parametrize(
    "error", [RuntimeError("bug"), AssertionError("gssapi library required"), MemoryError(), OSError(5, "EIO"), None]
)
async def test_any_exception_or_a_hang_keeps_the_batch_logs_and_counts(
    error: BaseException | None, caplog: pytest.LogCaptureFixture
) -> None:
    name = f"broken-{type(error).__name__}"
    sink = BrokenSink(name, error, failures=2)
    runner = SinkRunner(sink, capacity=100, limits=SupervisionSettings(write_timeout=0.2))
    before = TASK_FAILURES[f"sink:{name}"]
    await runner.start()
    assert all(runner.offer(record(i)) for i in range(10))
    await until(lambda: len(sink.taken) == 10)
    assert sink.taken == list(range(10)), "nothing lost, order kept"
    assert runner.running and runner.healthy and not runner.statistics().failing
    assert TASK_FAILURES[f"sink:{name}"] - before == 2
    assert runner.retries == 2
    logged = [r for r in caplog.records if f"Task 'sink:{name}'" in r.getMessage()]
    assert logged and logged[0].exc_info is not None, "logged with its traceback"
    if error is None:
        assert "longer than supervision.write_timeout = 0.2 s" in logged[0].getMessage()
    await runner.aclose(timeout=1)


async def test_a_sink_failing_longer_than_failing_after_turns_red_and_says_so(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(runner_module, "MAX_BACKOFF_SECONDS", 0.1)
    sink = BrokenSink("stuck", RuntimeError("down"), failures=10**6)
    runner = SinkRunner(sink, capacity=100, limits=SupervisionSettings(failing_after=0.5))
    await runner.start()
    runner.offer(record(1))
    await until(lambda: runner.retries >= 1)
    assert not runner.healthy, "without a spool, a failing sink is not ready at once"
    await until(lambda: runner.statistics().failing_seconds > 0.5)
    await until(lambda: any("has been FAILING" in r.getMessage() for r in caplog.records))
    (line,) = [r.getMessage() for r in caplog.records if "has been FAILING" in r.getMessage()]
    assert "longer than supervision.failing_after = 0.5 s); last error: RuntimeError('down')" in line
    assert "Its records are kept (0 queued, 0 bytes spooled)" in line  # the batch in hand is kept for its retry
    sink.failures = 0
    await until(lambda: sink.taken == [1])
    assert runner.healthy and runner.statistics().failing_seconds == 0.0
    await runner.aclose(timeout=1)


async def test_a_supervised_task_that_raises_is_started_again(caplog: pytest.LogCaptureFixture) -> None:
    runs: list[int] = []

    async def body() -> None:
        runs.append(len(runs))
        if len(runs) < 3:
            raise ValueError(f"run {len(runs)}")

    before = TASK_FAILURES["unit-test-task"]
    with caplog.at_level(logging.ERROR):
        await asyncio.wait_for(supervise("unit-test-task", body), 5)
    assert runs == [0, 1, 2]
    assert TASK_FAILURES["unit-test-task"] - before == 2
    assert any("Task 'unit-test-task' stopped; starting it again" in r.getMessage() for r in caplog.records)
