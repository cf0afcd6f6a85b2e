"""Runs one sink: a bounded queue in front of it, batches out of the queue, retries on retriable errors.

Enqueueing never blocks the event loop: when the queue is full the record is dropped and counted (and
logged at a bounded rate), as Divolte does, but never silently. A retriable ``SinkError`` keeps the batch
and retries it with exponential backoff while the queue absorbs new records; a non-retriable one loses the
batch, logs it and counts it. If the runner's task dies, pending work fails loudly and readiness turns red.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import time
from dataclasses import dataclass

from collector.errors import SinkError
from collector.events import EncodedRecord
from collector.ratelimit import RateLimitedLog
from collector.sinks.base import Sink

log = logging.getLogger(__name__)

MAX_BATCH = 1024
HEARTBEAT_SECONDS = 1.0
MAX_BACKOFF_SECONDS = 30.0


@dataclass(slots=True)
class SinkStatistics:
    queued: int
    capacity: int
    written: int
    dropped_queue_full: int
    lost_errors: int
    retries: int
    healthy: bool


class SinkRunner:
    """Feeds one sink from a bounded queue; ``offer`` is called from the pipeline for every record."""

    def __init__(self, sink: Sink, capacity: int) -> None:
        self.sink = sink
        self.name = sink.name
        self.capacity = capacity
        self._queue: collections.deque[EncodedRecord] = collections.deque()
        self._wakeup = asyncio.Event()
        self._closing = False
        self._task: asyncio.Task[None] | None = None
        self.written = 0
        self.dropped_queue_full = 0
        self.lost_errors = 0
        self.retries = 0
        self.healthy = True
        self._drop_log = RateLimitedLog(log, 10.0)

    def offer(self, record: EncodedRecord) -> bool:
        """Queue a record; False (and counted) when the queue is full."""
        if len(self._queue) >= self.capacity or self._closing:
            self.dropped_queue_full += 1
            self._drop_log.warning(
                "Sink '%s': queue full (%d records); dropping records (%d dropped so far).",
                self.name, self.capacity, self.dropped_queue_full,
            )  # fmt: skip
            return False
        self._queue.append(record)
        if not self._wakeup.is_set():
            self._wakeup.set()
        return True

    async def start(self) -> None:
        await self.sink.start()
        self._task = asyncio.create_task(self._run(), name=f"sink-{self.name}")

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    def statistics(self) -> SinkStatistics:
        return SinkStatistics(
            queued=len(self._queue),
            capacity=self.capacity,
            written=self.written,
            dropped_queue_full=self.dropped_queue_full,
            lost_errors=self.lost_errors,
            retries=self.retries,
            healthy=self.healthy and self.running,
        )

    async def _run(self) -> None:
        next_heartbeat = time.monotonic() + HEARTBEAT_SECONDS
        while True:
            if not self._queue:
                if self._closing:
                    return
                self._wakeup.clear()
                timeout = max(0.0, next_heartbeat - time.monotonic())
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wakeup.wait(), timeout)
            if self._queue:
                count = min(len(self._queue), MAX_BATCH)
                batch = [self._queue.popleft() for _ in range(count)]
                await self._write_with_retry(batch)
            if time.monotonic() >= next_heartbeat:
                await self._heartbeat()
                next_heartbeat = time.monotonic() + HEARTBEAT_SECONDS

    async def _heartbeat(self) -> None:
        try:
            await self.sink.heartbeat()
        except SinkError as exc:
            self.healthy = False
            log.error("Sink '%s': periodic work failed: %s", self.name, exc)

    async def _write_with_retry(self, batch: list[EncodedRecord]) -> None:
        backoff = 0.1
        while True:
            try:
                await self.sink.write_batch(batch)
            except SinkError as exc:
                if not exc.retriable:
                    self.lost_errors += len(batch)
                    log.error("Sink '%s': %d records lost: %s", self.name, len(batch), exc)
                    return
                self.healthy = False
                self.retries += 1
                log.warning("Sink '%s': write failed, retrying in %.1f s: %s", self.name, backoff, exc)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, MAX_BACKOFF_SECONDS)
                await self._heartbeat()
                continue
            self.healthy = True
            self.written += len(batch)
            return

    async def aclose(self, timeout: float | None = None) -> None:
        """Stop taking records, write what is queued (up to ``timeout`` seconds), then close the sink."""
        self._closing = True
        self._wakeup.set()
        if self._task is not None:
            try:
                await asyncio.wait_for(asyncio.shield(self._task), timeout)
            except TimeoutError:
                log.error(
                    "Sink '%s': %d records still queued after %.0f s; closing anyway (they are lost).",
                    self.name, len(self._queue), timeout or 0,
                )  # fmt: skip
                self._task.cancel()
                self.lost_errors += len(self._queue)
        await self.sink.aclose()
