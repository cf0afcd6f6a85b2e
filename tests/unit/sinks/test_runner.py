"""The sink runner with a disk spool: nothing lost while the sink is down, order kept, shutdown persists."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path

from collector.errors import SinkError
from collector.events import EncodedRecord
from collector.sinks.runner import SinkRunner
from collector.sinks.spool import Spool
from collector.sinks.spool_records import frame
from tests.unit.sinks.helpers import record, until


class FlakySink:
    """Refuses every batch (retriable) while ``down``; remembers what it took."""

    def __init__(self) -> None:
        self.name = "flaky"
        self.down = False
        self.taken: list[int] = []
        self.attempts = 0
        self.closed = False

    async def start(self) -> None:
        pass

    async def write_batch(self, records: Sequence[EncodedRecord]) -> None:
        self.attempts += 1
        await asyncio.sleep(0)
        if self.down:
            raise SinkError("unreachable", retriable=True)
        self.taken += [r.timestamp for r in records]

    async def heartbeat(self) -> None:
        pass

    async def aclose(self) -> None:
        self.closed = True


async def test_records_beyond_the_queue_are_spooled_and_delivered_in_order(tmp_path: Path) -> None:
    sink = FlakySink()
    sink.down = True
    runner = SinkRunner(sink, capacity=10, spool=Spool(tmp_path, 10**7))
    await runner.start()
    assert all(runner.offer(record(i)) for i in range(500))
    stats = runner.statistics()
    assert stats.spool_appended >= 490 and stats.dropped_queue_full == 0
    assert runner.healthy, "a sink whose records are safely spooled stays ready"
    await until(lambda: sink.attempts >= 2)
    assert runner.statistics().failing
    sink.down = False
    await until(lambda: len(sink.taken) == 500)
    assert sink.taken == list(range(500))
    assert runner.offer(record(500))  # back to the queue once the spool is replayed
    await until(lambda: len(sink.taken) == 501)
    assert runner.spool is not None and runner.spool.drained
    await runner.aclose(timeout=5)
    assert list(tmp_path.glob("*.spool")) == []


async def test_shutdown_while_down_keeps_everything_for_the_next_start(tmp_path: Path) -> None:
    first = FlakySink()
    first.down = True
    runner = SinkRunner(first, capacity=50, spool=Spool(tmp_path, 10**7))
    await runner.start()
    for i in range(120):
        runner.offer(record(i))
    await until(lambda: first.attempts >= 1)
    await asyncio.wait_for(runner.aclose(timeout=60), 5)  # must not wait out the timeout while down
    assert first.closed and first.taken == []

    second = FlakySink()
    again = SinkRunner(second, capacity=50, spool=Spool(tmp_path, 10**7))
    await again.start()
    for i in range(120, 130):
        again.offer(record(i))
    await until(lambda: len(second.taken) == 130)
    assert second.taken == list(range(130)), "the queue of the first run comes first, then its spool, then new"
    await again.aclose(timeout=5)


async def test_a_full_spool_drops_counts_and_fails_readiness(tmp_path: Path) -> None:
    sink = FlakySink()
    sink.down = True
    room = 8 + 20 * len(frame(record(0)))
    runner = SinkRunner(sink, capacity=5, spool=Spool(tmp_path, room))
    await runner.start()
    accepted = [runner.offer(record(i)) for i in range(40)]
    assert accepted == [True] * 25 + [False] * 15
    stats = runner.statistics()
    assert stats.dropped_spool_full == 15 and not stats.healthy
    sink.down = False
    await until(lambda: len(sink.taken) == 25)
    assert runner.offer(record(99))
    assert runner.healthy
    await runner.aclose(timeout=5)


async def test_without_a_spool_the_old_behaviour_holds(tmp_path: Path) -> None:
    sink = FlakySink()
    sink.down = True
    runner = SinkRunner(sink, capacity=3)
    await runner.start()
    assert [runner.offer(record(i)) for i in range(5)] == [True, True, True, False, False]
    await until(lambda: sink.attempts >= 1)
    assert not runner.healthy, "failing without a spool means records will be dropped: not ready"
    await runner.aclose(timeout=0.2)
    assert runner.statistics().lost_errors == 3


async def test_a_batch_read_from_the_spool_but_not_delivered_is_replayed_after_restart(tmp_path: Path) -> None:
    sink = FlakySink()
    runner = SinkRunner(sink, capacity=2, spool=Spool(tmp_path, 10**7))
    sink.down = True
    await runner.start()
    for i in range(10):
        runner.offer(record(i))
    sink.down = False
    await until(lambda: len(sink.taken) == 10)
    sink.down = True
    for i in range(10, 20):
        runner.offer(record(i))
    await until(lambda: sink.attempts >= 8)
    await runner.aclose(timeout=5)

    second = FlakySink()
    again = SinkRunner(second, capacity=2, spool=Spool(tmp_path, 10**7))
    await again.start()
    await until(lambda: len(second.taken) == 10)
    assert second.taken == list(range(10, 20))
    await again.aclose(timeout=5)


async def test_a_failing_sink_moves_its_queue_to_disk(tmp_path: Path) -> None:
    sink = FlakySink()
    sink.down = True
    runner = SinkRunner(sink, capacity=100, spool=Spool(tmp_path, 10**7))
    await runner.start()
    runner.offer(record(0))
    await until(lambda: sink.attempts >= 1)  # record 0 is the batch in flight
    for i in range(1, 30):
        runner.offer(record(i))
    stats = runner.statistics()
    assert stats.queued == 0 and stats.spool_appended == 29, "only the batch in flight stays in memory"
    sink.down = False
    await until(lambda: len(sink.taken) == 30)
    assert sink.taken == list(range(30))
    await runner.aclose(timeout=5)
