"""The inspector's ring: each event's outcome as the processor decided it, a bounded memory, lazy JSON."""

from __future__ import annotations

import functools
import time
from typing import Any

from collector.config.settings import BrowserSourceSettings, GlobalSettings, MapperSettings, Settings
from collector.events import CapturedRequest
from collector.inspect.recorder import OUTCOMES, Inspector
from collector.inspect.render import Source, matches, render
from collector.pipeline.intake import Intake
from collector.pipeline.process import Processor, ProcessorSettings
from collector.pipeline.topology import MappingRoute, Topology
from collector.protocol.browser_event import parse_browser_event
from collector.protocol.checksum import canonical_string, murmur3_32_signed
from collector.protocol.query import decode_query
from collector.sinks.runner import SinkRunner
from tests.unit.pipeline.test_process import QUERY, ExplodingMapping, MemorySink

TARGETS = {"browser": Source("GET", "/csc-event", functools.partial(parse_browser_event, use_x_forwarded_for=False))}
DIGITS = "0123456789abcdefghijklmnopqrstuvwxyz"


def signed(query: str) -> bytes:
    """``query`` with the checksum ``x`` divolte.js would add (a signed base-36 murmur3 of its parameters)."""
    value = murmur3_32_signed(canonical_string(decode_query(query.encode())).encode())
    number, text = abs(value), ""
    while True:
        number, digit = divmod(number, 36)
        text = DIGITS[digit] + text
        if not number:
            break
    return f"{query}&x={'-' if value < 0 else ''}{text}".encode()


def request(n: int, event_type: str = "pageView", extra: str = "") -> CapturedRequest:
    """An intact event (its checksum matches) of party 'party'."""
    now_ms = time.time_ns() // 1_000_000  # the rates count events by their receive time
    return CapturedRequest("browser", signed(QUERY.format(n=n, t=event_type) + extra), (), "127.0.0.1", now_ms)


def inspected(max_events: int = 100, capacity: int = 100, **route: bool) -> tuple[Processor, Inspector, SinkRunner]:
    """A processor with the inspector on: one mapping (raises on 'boom', discards 'skip') into one sink."""
    inspector = Inspector(max_events)
    runner = SinkRunner(MemorySink(), capacity=capacity)
    flags = {"discard_corrupted": False, "discard_duplicates": False, **route}
    mapping_route = MappingRoute("m", ExplodingMapping(), (runner,), **flags)
    settings = Settings(
        GlobalSettings(mapper=MapperSettings(duplicate_memory_size=100)),
        {"browser": BrowserSourceSettings("browser")},
        {},
        {},
    )
    topology = Topology({"browser": (mapping_route,)}, {"memory": runner})
    intake = Intake(capacity)
    intake.on_overflow = inspector.overflow
    return Processor(intake, topology, ProcessorSettings.of(settings), None, inspector), inspector, runner


def outcomes(inspector: Inspector) -> list[tuple[str, bool]]:
    return [(i.outcome, i.recorded) for i in reversed(inspector.recent())]


async def test_each_outcome_as_the_processor_decided_it() -> None:
    processor, inspector, runner = inspected()
    corrupt = CapturedRequest("browser", QUERY.format(n=7, t="pageView").encode() + b"&x=wrong", (), "127.0.0.1", 1)
    broken = CapturedRequest("browser", b"p=nonsense", (), "127.0.0.1", 1)
    processor.process_batch([request(1), request(1), corrupt, broken, request(2, "skip"), request(3, "boom")])
    assert outcomes(inspector) == [
        ("recorded", True), ("duplicate", True), ("corrupt", True), ("dropped", False),
        ("discarded", False), ("mapping_error", False),
    ]  # fmt: skip
    newest = inspector.recent()
    assert newest[0].reason == "mapping 'm': ZeroDivisionError: bug in a mapping"
    assert newest[1].reason == "mapping 'm': the mapping discarded it"
    assert newest[2].reason is not None and newest[2].reason.startswith("invalid_party_id")
    assert runner.statistics().queued == 3  # recorded, duplicate and corrupt went to the sink
    assert inspector.summary()["counts"] == dict.fromkeys(OUTCOMES, 1)


async def test_discarding_mappings_make_corrupt_and_duplicate_events_unrecorded() -> None:
    processor, inspector, _ = inspected(discard_corrupted=True, discard_duplicates=True)
    corrupt = CapturedRequest("browser", QUERY.format(n=7, t="pageView").encode() + b"&x=wrong", (), "127.0.0.1", 1)
    processor.process_batch([request(1), request(1), corrupt])
    assert outcomes(inspector) == [("recorded", True), ("duplicate", False), ("corrupt", False)]
    rendered = render(inspector.recent()[0], TARGETS)
    assert rendered["mappings"] == [
        {"mapping": "m", "outcome": "discarded", "reason": "discard_corrupted", "record": None, "sinks": []}
    ]


async def test_an_event_the_full_intake_refused_is_shown_dropped() -> None:
    processor, inspector, _ = inspected(capacity=1)
    assert processor.intake.offer(request(1))
    assert not processor.intake.offer(request(2))
    assert outcomes(inspector) == [("dropped", False)]
    assert "buffer_size" in str(inspector.recent()[0].reason)


async def test_the_ring_keeps_the_newest_events_only() -> None:
    processor, inspector, _ = inspected(max_events=5, capacity=1000)
    processor.process_batch([request(i) for i in range(50)])
    assert [i.id for i in inspector.recent()] == [50, 49, 48, 47, 46]
    assert [i.id for i in inspector.since(47)] == [48, 49, 50]
    summary = inspector.summary()
    assert (summary["total"], summary["kept"], summary["counts"]["recorded"]) == (50, 5, 50)
    assert summary["per_second"]["recorded"] == 50 / summary["rate_window_seconds"]
    inspector.reset()
    assert inspector.recent() == [] and inspector.summary()["total"] == 0 and inspector.resets == 1


async def test_the_json_shows_the_request_the_parameters_and_the_record_as_the_sink_got_it() -> None:
    processor, inspector, _ = inspected()
    headers = ((b"user-agent", b"Mozilla/5.0  <b>\xe9</b>"), (b"x-one", b"1"))
    query = signed(QUERY.format(n=1, t="addToBasket") + "&u=(ssku!A-1!jprice!12.5!atags!sx!sy!.)")
    processor.process_batch([CapturedRequest("browser", query, headers, "10.1.2.3", 1234)])
    started = time.perf_counter()
    event: dict[str, Any] = render(inspector.recent()[0], TARGETS)
    assert render(inspector.recent()[0], TARGETS) is event  # built once, then kept
    assert time.perf_counter() - started < 1
    assert event["outcome"] == "recorded" and event["event_type"] == "addToBasket"
    assert event["request"]["method"] == "GET" and event["request"]["target"] == "/csc-event?" + query.decode()
    assert event["request"]["remote_address"] == "10.1.2.3"
    assert event["request"]["headers"] == [["user-agent", "Mozilla/5.0 <b>é</b>"], ["x-one", "1"]]
    assert event["request"]["query"]["t"] == ["addToBasket"]
    assert event["parameters"] == {"sku": "A-1", "price": 12.5, "tags": ["x", "y"]}
    (mapped,) = event["mappings"]
    assert mapped["sinks"] == [{"sink": "memory", "queued": True}] and event["sinks"] == ["memory"]
    assert mapped["record"]["eventType"] == "addToBasket"
    assert mapped["record"]["remoteHost"] == "10.1.2.3" and mapped["record"]["timestamp"] == 1234
    assert matches(event, {"outcome": "recorded", "type": "addToBasket", "sink": "memory"})
    assert not matches(event, {"party": "someone else"})


async def test_parameters_that_are_not_mincode_are_shown_with_the_error() -> None:
    processor, inspector, _ = inspected()
    processor.process_batch(
        [CapturedRequest("browser", (QUERY.format(n=1, t="x") + "&u=%3Cscript%3E").encode(), (), "", 1)]
    )
    parameters = render(inspector.recent()[0], TARGETS)["parameters"]
    assert parameters["raw"] == "<script>" and parameters["error"].startswith("not valid mincode")


async def test_values_json_lacks_are_shown_as_text() -> None:
    processor, inspector, _ = inspected()
    processor.process_batch([request(1, "big", "&u=(dhuge!zzzzzzzzzzzzzzzzzzzz!)")])  # mincode allows any integer
    assert render(inspector.recent()[0], TARGETS)["parameters"] == {"huge": str(int("z" * 20, 36))}


async def test_without_the_inspector_nothing_is_kept() -> None:
    processor, inspector, runner = inspected()
    processor.inspector = None
    processor.process_batch([request(1), request(2, "boom")])
    assert inspector.recent() == [] and runner.statistics().queued == 1


async def test_the_discard_reason_names_the_setting_that_applied() -> None:
    processor, inspector, _ = inspected(discard_corrupted=True)  # duplicates are kept by this mapping
    corrupt = CapturedRequest("browser", QUERY.format(n=7, t="pageView").encode() + b"&x=wrong", (), "127.0.0.1", 1)
    processor.process_batch([corrupt, corrupt])  # the second is corrupt and a duplicate
    newest = render(inspector.recent()[0], TARGETS)
    assert (newest["outcome"], newest["corrupt"], newest["duplicate"]) == ("corrupt", True, True)
    assert newest["mappings"][0]["reason"] == "discard_corrupted"
