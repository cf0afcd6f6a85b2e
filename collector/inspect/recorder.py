"""The inspector's memory: the last N events with what the collector decided about each, in a bounded ring.

The processor hands each event it handles to an ``Inspection`` (``Processor.process_one``): the captured
request, the parsed event, and per mapping what happened (recorded with its Avro bytes and the sinks that
took it, discarded, or failed with a message). Only references are kept: nothing is decoded or turned into
JSON until the page or the API asks (``collector.inspect.render``), so an event costs the processor a few
attribute writes and one small object. The ring is a ``collections.deque(maxlen=max_events)``: memory
stays flat however many events pass.

An event's one ``outcome``, in this order of precedence:

    dropped         lost before mapping (incomplete request, privacy opt-out, full intake, processing error)
    corrupt         the checksum did not match (``recorded`` says whether a sink still got it)
    duplicate       the duplicate memory had seen it (``recorded`` likewise)
    mapping_error   a mapping raised on it (``reason`` has the message)
    recorded        at least one mapping produced a record for its sinks
    discarded       every mapping dropped it on purpose (``discard()``, ``discard_corrupted``/``_duplicates``)
"""

from __future__ import annotations

import asyncio
import collections
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from collector.avro.schemas import Schema
from collector.events import CapturedRequest, DivolteEvent

OUTCOMES = ("recorded", "corrupt", "duplicate", "dropped", "discarded", "mapping_error")
RATE_WINDOW = 10
"""Seconds over which the per-outcome rates of the summary are averaged."""
OVERFLOW_MESSAGES = {
    "intake_full": "the intake queue was full (raise divolte.global.mapper.buffer_size); never processed",
    "intake_closed": "the collector was shutting down; never processed",
}


@dataclass(slots=True)
class MappingOutcome:
    """What one mapping did with the event."""

    mapping: str
    outcome: str
    """``recorded``, ``discarded`` or ``mapping_error``."""
    reason: str | None = None
    payload: bytes | None = None
    """The record's Avro binary (recorded only), decoded with ``schema`` when asked for."""
    schema: Schema | None = None
    sinks: tuple[tuple[str, bool], ...] = ()
    """(sink name, whether it took the record: False when its queue was full)."""


@dataclass(slots=True)
class Inspection:
    """One event on its way through the processor; filled in as it goes, then ``finish``-ed into the ring."""

    inspector: Inspector
    request: CapturedRequest
    event: DivolteEvent | None = None
    dropped: str | None = None
    """The drop reason (a metrics label), when the event never reached the mappings."""
    message: str | None = None
    mappings: list[MappingOutcome] = field(default_factory=list)
    id: int = 0
    outcome: str = ""
    reason: str | None = None
    recorded: bool = False
    rendered: dict[str, Any] | None = None
    """The JSON object of this event, built once on first request (``collector.inspect.render``)."""

    def drop(self, reason: str, message: str) -> None:
        self.dropped = reason
        self.message = message

    def discarded(self, mapping: str, why: str) -> None:
        self.mappings.append(MappingOutcome(mapping, "discarded", why))

    def failed(self, mapping: str, exc: Exception) -> None:
        self.mappings.append(MappingOutcome(mapping, "mapping_error", f"{type(exc).__name__}: {exc}"))

    def mapped(self, mapping: str, payload: bytes, schema: Schema, sinks: Iterable[tuple[str, bool]]) -> None:
        self.mappings.append(MappingOutcome(mapping, "recorded", None, payload, schema, tuple(sinks)))

    def finish(self) -> None:
        """Decide the outcome (see the module docstring) and keep the event in the ring."""
        mappings = self.mappings
        self.recorded = any(m.outcome == "recorded" for m in mappings)
        failure = next((m for m in mappings if m.outcome == "mapping_error"), None)
        event = self.event
        if self.dropped is not None or event is None:
            reason, message = self.dropped or "processing_error", self.message or ""
            self.outcome = "dropped"
            self.reason = message if message.startswith(reason) else f"{reason}: {message}"
        elif event.corrupt:
            self.outcome, self.reason = "corrupt", "the checksum does not match the event's parameters"
        elif event.duplicate:
            self.outcome, self.reason = "duplicate", "the duplicate memory has seen this party, session and event id"
        elif failure is not None:
            self.outcome, self.reason = "mapping_error", f"mapping '{failure.mapping}': {failure.reason}"
        elif self.recorded:
            self.outcome = "recorded"
        else:
            self.outcome = "discarded"
            self.reason = "; ".join(f"mapping '{m.mapping}': {m.reason}" for m in mappings) or (
                f"no mapping reads source '{self.request.source}'"
            )
        self.inspector.keep(self)


class Inspector:
    """The ring of recent inspections, totals and rates per outcome, and the live listeners (the page)."""

    def __init__(self, max_events: int) -> None:
        self.max_events = max_events
        self._ring: collections.deque[Inspection] = collections.deque(maxlen=max_events)
        self._last_id = 0
        self._totals: collections.Counter[str] = collections.Counter()
        self._seconds: collections.deque[tuple[int, collections.Counter[str]]] = collections.deque(
            maxlen=RATE_WINDOW + 1
        )
        self._listeners: set[asyncio.Event] = set()
        self.resets = 0
        """How many times the ring was emptied (``reset``): a live view reloads when it changes."""

    def begin(self, request: CapturedRequest) -> Inspection:
        return Inspection(self, request)

    def overflow(self, request: CapturedRequest, reason: str) -> None:
        """An event the intake could not take (``Intake.on_overflow``): it is lost before processing."""
        inspection = Inspection(self, request)
        inspection.drop(reason, OVERFLOW_MESSAGES.get(reason, "the intake did not take it"))
        inspection.finish()

    def keep(self, inspection: Inspection) -> None:
        self._last_id += 1
        inspection.id = self._last_id
        self._ring.append(inspection)
        outcome = inspection.outcome
        self._totals[outcome] += 1
        second = int(time.monotonic())
        seconds = self._seconds
        if not seconds or seconds[-1][0] != second:
            seconds.append((second, collections.Counter()))
        seconds[-1][1][outcome] += 1
        for listener in self._listeners:
            listener.set()

    def reset(self) -> None:
        """Forget every kept event, total and rate (the API's ``POST /inspect/api/reset``)."""
        self._ring.clear()
        self._totals.clear()
        self._seconds.clear()
        self.resets += 1
        for listener in self._listeners:
            listener.set()

    def recent(self) -> list[Inspection]:
        """The kept events, newest first."""
        return list(reversed(self._ring))

    def since(self, last_id: int) -> list[Inspection]:
        """Kept events newer than ``last_id``, oldest first."""
        newer: list[Inspection] = []
        for inspection in reversed(self._ring):
            if inspection.id <= last_id:
                break
            newer.append(inspection)
        newer.reverse()
        return newer

    @property
    def last_id(self) -> int:
        return self._last_id

    def summary(self) -> dict[str, Any]:
        """Counts per outcome since start (or the last reset), rates per second, and the ring's fill."""
        now = int(time.monotonic())
        window: collections.Counter[str] = collections.Counter()
        for second, counts in self._seconds:
            if now - RATE_WINDOW < second <= now:
                window.update(counts)
        return {
            "counts": {outcome: self._totals[outcome] for outcome in OUTCOMES},
            "total": sum(self._totals.values()),
            "per_second": {outcome: round(window[outcome] / RATE_WINDOW, 2) for outcome in OUTCOMES},
            "rate_window_seconds": RATE_WINDOW,
            "kept": len(self._ring),
            "max_events": self.max_events,
            "last_id": self._last_id,
            "resets": self.resets,
        }

    def listen(self) -> asyncio.Event:
        """An event set whenever an event is kept or the ring is reset; ``unlisten`` it when done."""
        listener = asyncio.Event()
        self._listeners.add(listener)
        return listener

    def unlisten(self, listener: asyncio.Event) -> None:
        self._listeners.discard(listener)
