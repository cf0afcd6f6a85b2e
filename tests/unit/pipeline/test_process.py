"""The pipeline's queues and failure handling: overflow is counted, never blocking; one bad event loses itself only."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

import pytest

from collector.avro.encode import RecordEncoder
from collector.avro.schemas import default_schema
from collector.config.settings import BrowserSourceSettings, GlobalSettings, MapperSettings, Settings
from collector.enrich.useragent import UserAgentParser
from collector.errors import SinkError
from collector.events import CapturedRequest, DivolteEvent, EncodedRecord
from collector.mapping.default import DefaultMapping
from collector.pipeline.intake import Intake
from collector.pipeline.process import Processor, ProcessorSettings
from collector.pipeline.topology import MappingRoute, Topology
from collector.sinks.runner import SinkRunner

QUERY = "p=0%3Ai1t84hgy%3Aparty&s=0%3Ai1t84hgy%3Asession&v=0%3ApageView&e=0%3AeventId{n}&c=i1t8q2b6&n=f&f=f&t={t}"


def request(n: int, event_type: str = "pageView") -> CapturedRequest:
    return CapturedRequest("browser", QUERY.format(n=n, t=event_type).encode(), (), "127.0.0.1", 1)


def record(n: int) -> EncodedRecord:
    return EncodedRecord("0:a:b", n, b"x")


class MemorySink:
    """A sink that keeps what it is given; ``failures`` retriable errors are raised first."""

    def __init__(self, failures: int = 0) -> None:
        self.name = "memory"
        self.batches: list[list[EncodedRecord]] = []
        self.failures = failures
        self.closed = False

    async def start(self) -> None:
        pass

    async def write_batch(self, records: Sequence[EncodedRecord]) -> None:
        if self.failures:
            self.failures -= 1
            raise SinkError("temporarily unavailable", retriable=True)
        self.batches.append(list(records))

    async def heartbeat(self) -> None:
        pass

    async def aclose(self) -> None:
        self.closed = True


async def test_intake_counts_overflow_without_blocking() -> None:
    intake = Intake(capacity=3)
    assert [intake.offer(request(i)) for i in range(5)] == [True, True, True, False, False]
    stats = intake.statistics()
    assert (stats.queued, stats.accepted, stats.dropped) == (3, 3, 2)
    batch = await intake.take_batch(2)
    assert batch is not None and len(batch) == 2
    intake.close()
    assert not intake.offer(request(9))
    rest = await intake.take_batch(10)
    assert rest is not None and len(rest) == 1
    assert await intake.take_batch(10) is None


async def test_sink_runner_drops_when_full_and_retries_retriable_errors() -> None:
    sink = MemorySink(failures=2)
    runner = SinkRunner(sink, capacity=4)
    accepted = [runner.offer(record(i)) for i in range(6)]
    assert accepted == [True] * 4 + [False] * 2
    await runner.start()
    await runner.aclose(timeout=10)
    assert [r.timestamp for batch in sink.batches for r in batch] == [0, 1, 2, 3]
    stats = runner.statistics()
    assert (stats.written, stats.dropped_queue_full, stats.retries, stats.lost_errors) == (4, 2, 2, 0)
    assert sink.closed


async def test_non_retriable_error_loses_the_batch_and_counts_it() -> None:
    class Broken(MemorySink):
        async def write_batch(self, records: Sequence[EncodedRecord]) -> None:
            raise SinkError("record too large", retriable=False)

    runner = SinkRunner(Broken(), capacity=10)
    for i in range(3):
        runner.offer(record(i))
    await runner.start()
    await runner.aclose(timeout=10)
    assert runner.statistics().lost_errors == 3


class ExplodingMapping:
    """Raises on one event type, as a buggy mapping would."""

    def __init__(self) -> None:
        self.inner = DefaultMapping(UserAgentParser(10))
        self.schema = self.inner.schema
        self.encoder = RecordEncoder(default_schema())

    def map(self, event: DivolteEvent) -> dict[str, Any] | None:
        if event.event_type == "boom":
            raise ZeroDivisionError("bug in a mapping")
        if event.event_type == "skip":
            return None
        return self.inner.map(event)

    def map_encoded(self, event: DivolteEvent) -> bytes | None:
        record = self.map(event)
        return None if record is None else self.encoder.encode(record)


def make_processor(mapping: Any, sink: MemorySink, capacity: int = 100) -> tuple[Processor, SinkRunner]:
    runner = SinkRunner(sink, capacity=capacity)
    route = MappingRoute("m", mapping, (runner,), False, False)
    settings = Settings(
        GlobalSettings(mapper=MapperSettings(duplicate_memory_size=100)),
        {"browser": BrowserSourceSettings(name="browser")},
        {},
        {},
    )
    topology = Topology({"browser": (route,)}, {"memory": runner})
    return Processor(Intake(capacity), topology, ProcessorSettings.of(settings)), runner


@pytest.mark.parametrize("bad_position", [0, 2, 4])
async def test_a_mapping_that_throws_loses_only_that_event(bad_position: int) -> None:
    sink = MemorySink()
    processor, runner = make_processor(ExplodingMapping(), sink)
    types = ["pageView"] * 5
    types[bad_position] = "boom"
    processor.process_batch([request(i, t) for i, t in enumerate(types)])
    assert processor.statistics().mapping_errors["m"] == 1
    assert runner.statistics().queued == 4


async def test_discard_and_incomplete_events_are_counted() -> None:
    sink = MemorySink()
    processor, runner = make_processor(ExplodingMapping(), sink)
    broken = CapturedRequest("browser", b"p=nonsense", (), "127.0.0.1", 1)
    processor.process_batch([request(1, "skip"), broken, request(2), request(2)])
    stats = processor.statistics()
    assert stats.discarded["m"] == 1
    assert stats.dropped["invalid_party_id"] == 1
    assert stats.duplicates == 1
    assert runner.statistics().queued == 2


async def test_processor_drains_everything_on_shutdown() -> None:
    sink = MemorySink()
    processor, runner = make_processor(ExplodingMapping(), sink, capacity=2000)
    await runner.start()
    processor.start()
    for i in range(1000):
        processor.intake.offer(request(i))
    await processor.drain()
    await runner.aclose(timeout=10)
    assert sum(len(batch) for batch in sink.batches) == 1000
    assert not processor.running
    await asyncio.sleep(0)
