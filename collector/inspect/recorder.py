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


MappingOutcome = tuple[str, str, str | None, bytes | None, Schema | None, list[tuple[str, bool]]]
"""What one mapping did with the event: (mapping name, ``recorded``/``discarded``/``mapping_error``, the
reason, the record's Avro bytes, their schema, and each sink with whether it took the record (False: its
queue was full)). A plain tuple: one is made per mapping per event, on the processor's path."""

_NO_SINKS: list[tuple[str, bool]] = []


class Inspection:
    """One event on its way through the processor; filled in as it goes, then ``finish``-ed into the ring.

    It keeps the captured request (raw bytes, as received) and the facts the processor learnt, never the
    parsed event: that one is parsed again from the request when the page asks (parsing is a pure function
    of the request), so the ring holds as little as possible and the processor frees what it would free
    without the inspector."""

    __slots__ = ("corrupt", "dropped", "duplicate", "id", "inspector", "mappings", "message", "outcome",
                 "recorded", "rendered", "request")  # fmt: skip

    def __init__(self, inspector: Inspector, request: CapturedRequest) -> None:
        self.inspector = inspector
        self.request = request
        self.dropped: str | None = None
        """The drop reason (a metrics label), when the event never reached the mappings."""
        self.message = ""
        self.corrupt = False
        self.duplicate = False
        self.mappings: list[MappingOutcome] = []
        self.id = 0
        self.outcome = ""
        self.recorded = False
        self.rendered: dict[str, Any] | None = None
        """The JSON object of this event, built once on first request (``collector.inspect.render``)."""

    def drop(self, reason: str, message: str) -> None:
        self.dropped = reason
        self.message = message

    def parsed(self, event: DivolteEvent) -> None:
        """The event reached the duplicate memory and the mappings (its flags are final)."""
        self.corrupt = event.corrupt
        self.duplicate = event.duplicate

    def discarded(self, mapping: str, why: str) -> None:
        self.mappings.append((mapping, "discarded", why, None, None, _NO_SINKS))

    def failed(self, mapping: str, exc: Exception) -> None:
        self.mappings.append((mapping, "mapping_error", f"{type(exc).__name__}: {exc}", None, None, _NO_SINKS))

    def mapped(self, mapping: str, payload: bytes, schema: Schema, sinks: list[tuple[str, bool]]) -> None:
        self.mappings.append((mapping, "recorded", None, payload, schema, sinks))

    def finish(self) -> None:
        """Decide the outcome (see the module docstring) and keep the event in the ring."""
        failed = False
        for mapped in self.mappings:
            if mapped[1] == "recorded":
                self.recorded = True
            elif mapped[1] == "mapping_error":
                failed = True
        if self.dropped is not None:
            self.outcome = "dropped"
        elif self.corrupt:
            self.outcome = "corrupt"
        elif self.duplicate:
            self.outcome = "duplicate"
        elif failed:
            self.outcome = "mapping_error"
        else:
            self.outcome = "recorded" if self.recorded else "discarded"
        self.inspector.keep(self)

    @property
    def reason(self) -> str | None:
        """Why the event has its outcome, in words (None for a plain ``recorded``)."""
        outcome = self.outcome
        if outcome == "dropped":
            reason = self.dropped or "processing_error"
            return self.message if self.message.startswith(reason) else f"{reason}: {self.message}"
        if outcome == "corrupt":
            return "the checksum does not match the event's parameters"
        if outcome == "duplicate":
            return "the duplicate memory has seen this party, session and event id"
        if outcome == "mapping_error":
            return next(f"mapping '{m[0]}': {m[2]}" for m in self.mappings if m[1] == "mapping_error")
        if outcome == "discarded":
            return "; ".join(f"mapping '{m[0]}': {m[2]}" for m in self.mappings) or (
                f"no mapping reads source '{self.request.source}'"
            )
        return None


class Inspector:
    """The ring of recent inspections, totals and rates per outcome, and the live listeners (the page)."""

    def __init__(self, max_events: int) -> None:
        self.max_events = max_events
        self._ring: collections.deque[Inspection] = collections.deque(maxlen=max_events)
        self._last_id = 0
        self._totals = dict.fromkeys(OUTCOMES, 0)
        self._seconds: collections.deque[tuple[int, dict[str, int]]] = collections.deque(maxlen=RATE_WINDOW + 1)
        """Events per outcome in each of the last seconds (by receive time), for the rates."""
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
        second = inspection.request.received_ms // 1000
        seconds = self._seconds
        if not seconds or seconds[-1][0] != second:
            seconds.append((second, dict.fromkeys(OUTCOMES, 0)))
        seconds[-1][1][outcome] += 1
        for listener in self._listeners:
            listener.set()

    def reset(self) -> None:
        """Forget every kept event, total and rate (the API's ``POST /inspect/api/reset``)."""
        self._ring.clear()
        self._totals = dict.fromkeys(OUTCOMES, 0)
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
        now = int(time.time())
        window = dict.fromkeys(OUTCOMES, 0)
        for second, counts in self._seconds:
            if now - RATE_WINDOW < second <= now:
                for outcome, count in counts.items():
                    window[outcome] += count
        return {
            "counts": dict(self._totals),
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
