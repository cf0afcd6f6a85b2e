"""The batch processor: captured requests in, encoded records out to the sinks, after the reply was sent.

Per event: parse (a malformed event is dropped and counted by reason) → duplicate memory → every mapping of
the event's source (skipping corrupt or duplicate events where the mapping says so) → Avro bytes, encoded
once per mapping → offered to each sink of that mapping. One processor task runs per process and takes the
intake in FIFO order, so a party's events are mapped and written in arrival order.

A mapping that raises on one event loses that event only: it is logged (rate-limited) and counted, and the
rest of the batch carries on. Divolte loses the whole micro-batch and restarts the thread (its issues
#110, #113). Anything else that raises on one event (a bug in parsing or enrichment, ``MemoryError``) loses
that event only too, counted as ``processing_error`` and reported by ``collector.supervise``; the task itself
is supervised, so it cannot die silently.

With the event inspector on (``collector.inspect``), each event gets an ``Inspection`` that each step tells
what it decided; with it off, ``seen`` is None and each of those steps costs one ``is not None`` test.
"""

from __future__ import annotations

import asyncio
import collections
import functools
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from collector.config.settings import BrowserSourceSettings, MapperSettings, PrivacySettings, Settings
from collector.counters import LatencyHistogram
from collector.enrich.dedup import DuplicateMemory
from collector.enrich.privacy import anonymise_address, opted_out
from collector.errors import IncompleteRequest
from collector.events import CapturedRequest, DivolteEvent, EncodedRecord
from collector.inspect.recorder import Inspection, Inspector
from collector.mapping.base import DISCARD
from collector.pipeline.intake import Intake
from collector.pipeline.topology import Topology
from collector.protocol.browser_event import parse_browser_event
from collector.protocol.identifiers import affinity_hash
from collector.protocol.json_event import parse_json_event
from collector.ratelimit import RateLimitedLog
from collector.supervise import failure, supervise

log = logging.getLogger(__name__)

BATCH_SIZE = 256
"""Events per batch: large enough to amortise the loop overhead, small enough that a batch (a few ms)
never delays the replies the event loop owes to waiting clients."""

Parser = Callable[[CapturedRequest], DivolteEvent]


@dataclass(frozen=True, slots=True)
class ProcessorSettings:
    """What the processor takes from the configuration: the duplicate memories' size and count, privacy, and
    how to parse each source's requests."""

    mapper: MapperSettings
    privacy: PrivacySettings
    parsers: Mapping[str, Parser]
    """Source name → the parser of its captured requests."""

    @classmethod
    def of(cls, settings: Settings) -> ProcessorSettings:
        use_xff = settings.global_.server.use_x_forwarded_for
        browser = functools.partial(parse_browser_event, use_x_forwarded_for=use_xff)
        parsers: dict[str, Parser] = {}
        for name, source in settings.sources.items():
            if isinstance(source, BrowserSourceSettings):
                parsers[name] = browser
            else:
                parsers[name] = functools.partial(
                    parse_json_event, party_id_parameter=source.party_id_parameter, use_x_forwarded_for=use_xff
                )
        return cls(settings.global_.mapper, settings.global_.privacy, parsers)


@dataclass(frozen=True, slots=True)
class ProcessorStatistics:
    """The processor's counters at one moment (the dictionaries are copies)."""

    processed: int
    """Events parsed (and not dropped for privacy), whatever their mappings did."""
    duplicates: int
    corrupt: int
    dropped: dict[str, int]
    """Events lost before mapping, by reason: an ``IncompleteRequest`` reason, or ``privacy_opt_out``."""
    discarded: dict[str, int]
    """By mapping: events it dropped on purpose (``discard()``, ``discard_corrupted``/``_duplicates``)."""
    mapping_errors: dict[str, int]
    """By mapping: events it lost because mapping or encoding raised."""


class Processor:
    """Drains the intake in batches and feeds the sinks; see the module docstring for the steps."""

    def __init__(
        self,
        intake: Intake,
        topology: Topology,
        settings: ProcessorSettings,
        memories: list[DuplicateMemory] | None = None,
        inspector: Inspector | None = None,
    ) -> None:
        """``memories``: the duplicate memories to use (shared by worker processes); default: our own.
        ``inspector``: where each event's path is kept when the inspector is on (None: it is off)."""
        self.intake = intake
        self.inspector = inspector
        self.topology = topology
        mapper = settings.mapper
        # One memory per configured mapper thread, chosen by party, as Divolte keeps one per thread.
        self._memories = memories or [
            DuplicateMemory(mapper.duplicate_memory_size) for _ in range(max(1, mapper.threads))
        ]
        self._parsers = dict(settings.parsers)
        self._processed = 0
        self._duplicates = 0
        self._corrupt = 0
        self._dropped: collections.Counter[str] = collections.Counter()
        self._discarded: collections.Counter[str] = collections.Counter()
        self._mapping_errors: collections.Counter[str] = collections.Counter()
        self._invalid_log = RateLimitedLog(log, 10.0)
        self._error_log = RateLimitedLog(log, 10.0)
        self._task: asyncio.Task[None] | None = None
        self.batch_latency = LatencyHistogram()
        privacy = settings.privacy
        active = privacy.anonymise_ip or privacy.honour_gpc or privacy.honour_dnt
        self._privacy: PrivacySettings | None = privacy if active else None

    def statistics(self) -> ProcessorStatistics:
        """A snapshot of the counters; safe from another thread (each copy is one C-level dict copy)."""
        return ProcessorStatistics(
            self._processed, self._duplicates, self._corrupt,
            dict(self._dropped), dict(self._discarded), dict(self._mapping_errors),
        )  # fmt: skip

    def start(self) -> None:
        self._task = supervise("processor", self.run)

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    async def run(self) -> None:
        while (batch := await self.intake.take_batch(BATCH_SIZE)) is not None:
            started = time.perf_counter()
            self.process_batch(batch)
            self.batch_latency.observe(time.perf_counter() - started)
            await asyncio.sleep(0)  # let the event loop answer waiting clients between batches

    async def drain(self) -> None:
        """Close the intake and wait until every queued event has been processed."""
        self.intake.close()
        if self._task is not None:
            await self._task

    def process_batch(self, batch: list[CapturedRequest]) -> None:
        inspector = self.inspector
        for request in batch:
            seen = None if inspector is None else inspector.begin(request)
            try:
                self.process_one(request, seen)
            except Exception as exc:  # one event lost, counted; never the batch or the task
                self._dropped["processing_error"] += 1
                failure("processor", exc, "lost an event")
                if seen is not None:
                    seen.drop("processing_error", f"{type(exc).__name__}: {exc}")
            if seen is not None:
                seen.finish()

    def _apply_privacy(self, event: DivolteEvent) -> bool:
        """Anonymise the stored address; True when the event must be dropped for an opt-out signal."""
        privacy = self._privacy
        assert privacy is not None
        if (privacy.honour_gpc or privacy.honour_dnt) and opted_out(
            event.headers, gpc=privacy.honour_gpc, dnt=privacy.honour_dnt
        ):
            self._dropped["privacy_opt_out"] += 1
            return True
        if privacy.anonymise_ip:
            if privacy.ip2geo_uses_full_ip:
                event.geo_address = event.remote_host
            event.remote_host = anonymise_address(event.remote_host)
        return False

    def process_one(self, request: CapturedRequest, seen: Inspection | None = None) -> None:
        """Parse, check for duplicates, map and offer one event; ``seen`` (inspector on) is told each step."""
        parser = self._parsers.get(request.source)
        if parser is None:  # pragma: no cover - sources are registered from the same settings
            return
        try:
            event = parser(request)
        except IncompleteRequest as exc:
            self._dropped[exc.reason] += 1
            self._invalid_log.info("Dropping incomplete event from %s: %s (%d dropped so far).",
                                   request.peer, exc, sum(self._dropped.values()))  # fmt: skip
            if seen is not None:
                seen.drop(exc.reason, str(exc))
            return
        if self._privacy is not None and self._apply_privacy(event):
            if seen is not None:
                seen.drop("privacy_opt_out", "the browser sent an opt-out signal (Global Privacy Control or DNT)")
            return
        self._processed += 1
        memories = self._memories
        memory = memories[0] if len(memories) == 1 else memories[affinity_hash(event.party_id) % len(memories)]
        if memory.is_duplicate(event.party_id, event.session_id, event.event_id):
            event.duplicate = True
            self._duplicates += 1
        if event.corrupt:
            self._corrupt += 1
        if seen is not None:
            seen.parsed(event)
        for route in self.topology.routes.get(request.source, ()):
            if (event.duplicate and route.discard_duplicates) or (event.corrupt and route.discard_corrupted):
                self._discarded[route.name] += 1
                if seen is not None:
                    why = "discard_duplicates" if event.duplicate and route.discard_duplicates else "discard_corrupted"
                    seen.discarded(route.name, why)
                continue
            try:
                payload = route.map_encoded(event)
                if payload is DISCARD:
                    self._discarded[route.name] += 1
                    if seen is not None:
                        seen.discarded(route.name, "the mapping discarded it")
                    continue
            except Exception as exc:  # a mapping bug or a record its schema rejects: lose this event only
                self._mapping_errors[route.name] += 1
                self._error_log.warning(
                    "Mapping '%s' failed on an event of source '%s' and lost it: %r (%d lost so far).",
                    route.name, event.source, exc, self._mapping_errors[route.name],
                )  # fmt: skip
                if seen is not None:
                    seen.failed(route.name, exc)
                continue
            encoded = EncodedRecord(event.party_id, event.timestamp, payload, event.event_id)
            if seen is None:
                for sink in route.sinks:
                    sink.offer(encoded)
            else:
                taken = [(sink.name, sink.offer(encoded)) for sink in route.sinks]
                seen.mapped(route.name, payload, route.mapping.schema, taken)
