"""Runs one sink: a bounded queue in front of it, batches out of the queue, retries on retriable errors.

Enqueueing never blocks the event loop. A retriable ``SinkError`` keeps the batch and retries it with
exponential backoff while the queue absorbs new records; a non-retriable one loses the batch, logs it and
counts it. Anything else a sink raises (a library's own error, ``OSError``, ``MemoryError``, a bug's
``RuntimeError`` or ``AssertionError``), and a write, heartbeat or close that takes longer than
``supervision.write_timeout``, is treated as a retriable failure too: logged with its traceback
(rate-limited) and counted by ``collector.supervise``, the batch kept and retried. The runner's own tasks are
supervised, so they cannot die silently. A sink failing for longer than ``supervision.failing_after`` turns
readiness red and is logged as an error every minute until it writes again; its records are kept.

Without a spool, a full queue drops records, counted and logged at a bounded rate, as Divolte does.

With a spool (``collector.sinks.spool``), nothing is dropped while the disk has room: once the queue is
full, or as soon as a write fails (then the queue itself moves to disk, where a crash cannot lose it),
records go to the spool, and from then on *every* new record goes there until the spool has been replayed
completely, so records leave in the order they arrived. The queue is written first (it holds the
oldest records), then the spool, oldest first. A spooling sink stays *ready*: the records are safe. Only a
full spool drops records, which turns readiness red and is logged as an error. On shutdown, queued records
that cannot be written are put in front of the spool, and the next process replays them.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import os
import time
from dataclasses import dataclass

from collector.config.settings import SupervisionSettings
from collector.counters import LatencyHistogram
from collector.errors import RecordsRejected, SinkError
from collector.events import EncodedRecord
from collector.ratelimit import RateLimitedLog
from collector.sinks.base import Sink
from collector.sinks.deadletter import DeadLetters
from collector.sinks.spool import Spool
from collector.supervise import failure, supervise

log = logging.getLogger(__name__)

MAX_BATCH = 1024
HEARTBEAT_SECONDS = 1.0
MAX_BACKOFF_SECONDS = 5.0
"""Retries back off from 0.1 s to this: a sink that comes back is written to within seconds."""
SPOOL_SYNC_SECONDS = 1.0
CLOSE_SECONDS = 30.0
"""Closing a sink (its last syncs and publishes, S3 uploads, stopping the Kafka producer) may take this long
beyond ``write_timeout``; a close still running then is given up (logged, counted), and the next start finds
what it left (``.partial`` files, the spool, the upload folder)."""
STILL_FAILING_LOG_SECONDS = 60.0
"""A sink failing for longer than ``failing_after`` says so this often."""


@dataclass(slots=True)
class SinkStatistics:
    queued: int
    capacity: int
    written: int
    dropped_queue_full: int
    lost_errors: int
    retries: int
    healthy: bool
    failing: bool = False
    """The last write failed (the sink's destination is unreachable or refuses records)."""
    spooled_bytes: int = 0
    spool_appended: int = 0
    spool_replayed: int = 0
    dropped_spool_full: int = 0
    failing_seconds: float = 0.0
    """How long the sink has been failing without a successful write (0 when it is not failing)."""


async def _wait(event: asyncio.Event, timeout: float) -> None:
    """Wait for ``event`` up to ``timeout`` seconds. (``asyncio.timeout``, not ``wait_for``: on Python 3.11,
    ``wait_for`` can swallow a cancellation that arrives together with its timeout.)"""
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(timeout):
            await event.wait()


class SinkRunner:
    """Feeds one sink from a bounded queue (and a disk spool behind it); ``offer`` is called for every record."""

    def __init__(
        self,
        sink: Sink,
        capacity: int,
        spool: Spool | None = None,
        dead_letters: DeadLetters | None = None,
        limits: SupervisionSettings | None = None,
    ) -> None:
        self.sink = sink
        self.dead_letters = dead_letters
        self.name = sink.name
        self.capacity = capacity
        self.spool = spool
        self.limits = limits or SupervisionSettings()
        self.task_label = f"sink:{sink.name}"
        """This sink's label in ``divolte_task_failures_total{task}``."""
        self._queue: collections.deque[EncodedRecord] = collections.deque()
        self._wakeup = asyncio.Event()
        self._closing = False
        self._closing_event = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.write_latency = LatencyHistogram()
        """Duration of successful ``write_batch`` calls (a metric)."""
        self._sync_task: asyncio.Task[None] | None = None
        self.written = 0
        self.dropped_queue_full = 0
        self.dropped_spool_full = 0
        self.lost_errors = 0
        self.retries = 0
        self._failing = False
        self._failing_since: float | None = None
        self._last_error = ""
        self._periodic_failed = False
        self._spool_full = False
        self._drop_log = RateLimitedLog(log, 10.0)
        self._spool_log = RateLimitedLog(log, 10.0)
        self._still_failing_log = RateLimitedLog(log, STILL_FAILING_LOG_SECONDS)
        self._periodic_log = RateLimitedLog(log, 10.0)

    # --- intake ----------------------------------------------------------------------------------------

    def offer(self, record: EncodedRecord) -> bool:
        """Queue (or spool) a record; False, and counted, when it had to be dropped."""
        spool = self.spool
        if self._closing:
            self.dropped_queue_full += 1
            return False
        if spool is not None and (self._failing or len(self._queue) >= self.capacity or not spool.drained):
            return self._offer_to_spool(spool, record)
        if len(self._queue) >= self.capacity:
            self.dropped_queue_full += 1
            self._drop_log.warning(
                "Sink '%s': queue full (%d records); dropping records (%d dropped so far).",
                self.name, self.capacity, self.dropped_queue_full,
            )  # fmt: skip
            return False
        self._queue.append(record)
        self._spool_full = False
        if not self._wakeup.is_set():
            self._wakeup.set()
        return True

    def _offer_to_spool(self, spool: Spool, record: EncodedRecord) -> bool:
        if spool.drained:
            log.warning(
                "Sink '%s': %s; spooling to %s until the sink catches up.", self.name,
                "writes are failing" if self._failing else f"queue full ({self.capacity} records)", spool.directory,
            )  # fmt: skip
        if spool.append(record):
            self._spool_full = False
            if not self._wakeup.is_set():
                self._wakeup.set()
            return True
        if spool.disk_error is not None and len(self._queue) < self.capacity:
            # The disk refuses the spool (full, failing): memory is the only place left. (Such records may
            # overtake spooled ones; losing them would be worse.)
            self._queue.append(record)
            self._spool_log.error(
                "Sink '%s': the spool in %s cannot be written (%s); keeping records in memory (%d queued of %d).",
                self.name, spool.directory, spool.disk_error, len(self._queue), self.capacity,
            )  # fmt: skip
            return True
        self._spool_full = True
        self.dropped_spool_full += 1
        self._spool_log.error(
            "Sink '%s': SPOOL FULL (%d of %d bytes in %s) and the queue is full; DROPPING records "
            "(%d dropped so far). Readiness is failing until the sink catches up.",
            self.name, spool.bytes, spool.max_bytes, spool.directory, self.dropped_spool_full,
        )  # fmt: skip
        return False

    # --- lifecycle -------------------------------------------------------------------------------------

    async def start(self) -> None:
        if self.spool is not None:
            self.spool.open()
        await self.sink.start()
        self._task = supervise(self.task_label, self._run)
        spool = self.spool
        if spool is not None:
            self._sync_task = supervise(f"spool:{self.name}", lambda: self._sync_spool(spool))

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    @property
    def failing_seconds(self) -> float:
        since = self._failing_since
        return 0.0 if since is None else time.monotonic() - since

    @property
    def healthy(self) -> bool:
        """Ready to take traffic: running, nothing being dropped, not failing (writes or periodic work) for
        longer than ``failing_after``, and, without a spool, its writes not failing at all (records would pile
        up in memory)."""
        if not self.running or self.failing_seconds > self.limits.failing_after:
            return False
        return not self._spool_full if self.spool is not None else not self._failing

    def statistics(self) -> SinkStatistics:
        spool = self.spool.statistics() if self.spool is not None else None
        return SinkStatistics(
            queued=len(self._queue),
            capacity=self.capacity,
            written=self.written,
            dropped_queue_full=self.dropped_queue_full,
            lost_errors=self.lost_errors,
            retries=self.retries,
            healthy=self.healthy,
            failing=self._failing,
            spooled_bytes=spool.bytes if spool else 0,
            spool_appended=spool.appended if spool else 0,
            spool_replayed=spool.replayed if spool else 0,
            dropped_spool_full=self.dropped_spool_full,
            failing_seconds=self.failing_seconds,
        )

    # --- the loop --------------------------------------------------------------------------------------

    async def _run(self) -> None:
        next_heartbeat = time.monotonic() + HEARTBEAT_SECONDS
        while True:
            spool = self.spool
            spooled = spool is not None and not spool.drained
            if not self._queue and not spooled:
                if self._closing:
                    return
                self._wakeup.clear()
                timeout = max(0.0, next_heartbeat - time.monotonic())
                await _wait(self._wakeup, timeout)
            if self._queue:
                count = min(len(self._queue), MAX_BATCH)
                batch = [self._queue.popleft() for _ in range(count)]
                try:
                    delivered = await self._write_with_retry(batch)
                except asyncio.CancelledError:
                    self._queue.extendleft(reversed(batch))  # kept (or spooled) by aclose
                    raise
                if not delivered:
                    self._queue.extendleft(reversed(batch))
                    return
            elif spool is not None and not spool.drained:
                if self._closing and self._failing:
                    return  # the spool stays on disk for the next start
                batch = spool.read(MAX_BATCH)
                if batch:
                    if not await self._write_with_retry(batch):
                        return  # not acknowledged: read again on the next start
                    spool.ack(len(batch))
                    self._spool_full = False  # there is room again
                    if spool.drained:
                        log.info("Sink '%s': spool replayed; records go straight to the sink again.", self.name)
            if time.monotonic() >= next_heartbeat:
                await self._heartbeat()
                next_heartbeat = time.monotonic() + HEARTBEAT_SECONDS

    async def _heartbeat(self) -> None:
        try:
            async with asyncio.timeout(self.limits.write_timeout):
                await self.sink.heartbeat()
        except SinkError as exc:
            self._periodic_failed = True
            self._started_failing(str(exc))
            self._periodic_log.error("Sink '%s': periodic work failed: %s", self.name, exc)
        except Exception as exc:  # a hang (TimeoutError), a library's error or a bug: the sink carries on
            self._periodic_failed = True
            self._started_failing(repr(exc))
            failure(self.task_label, exc, "failed in its periodic work")
        else:
            if self._periodic_failed and not self._failing:
                self._failing_since = None
            self._periodic_failed = False

    def _started_failing(self, error: str) -> None:
        """Start the clock of a failure episode (once), and say so every minute once it is too long."""
        self._last_error = error
        if self._failing_since is None:
            self._failing_since = time.monotonic()
        failing = self.failing_seconds
        if failing > self.limits.failing_after:
            self._still_failing_log.error(
                "Sink '%s' has been FAILING for %.0f s (longer than supervision.failing_after = %g s); last "
                "error: %s. Its records are kept (%d queued, %d bytes spooled); readiness fails until it writes "
                "again.", self.name, failing, self.limits.failing_after, error, len(self._queue),
                self.spool.bytes if self.spool else 0,
            )  # fmt: skip

    async def _write_with_retry(self, batch: list[EncodedRecord]) -> bool:
        """Write the batch, retrying failed writes; False only when closing with a spool to fall back on."""
        backoff = 0.1
        while True:
            started = time.perf_counter()
            deadline = asyncio.timeout(self.limits.write_timeout)
            try:
                async with deadline:
                    await self.sink.write_batch(batch)
            except Exception as exc:
                if self._write_failed(exc, batch, hung=deadline.expired()):
                    return True
                self._failing = True
                self.retries += 1
                if self._closing and self.spool is not None:
                    return False
                self._spill_queue()
                log.warning(
                    "Sink '%s': write failed, retrying in %.1f s (%d queued, %d bytes spooled): %s",
                    self.name, backoff, len(self._queue), self.spool.bytes if self.spool else 0, exc,
                )  # fmt: skip
                await _wait(self._closing_event, backoff)
                backoff = min(backoff * 2, MAX_BACKOFF_SECONDS)
                await self._heartbeat()
                continue
            if self._failing:
                log.info("Sink '%s': writing again after %d failed attempts.", self.name, self.retries)
            self._failing = False
            self._failing_since = None
            self.written += len(batch)
            self.write_latency.observe(time.perf_counter() - started)
            return True

    def _write_failed(self, exc: Exception, batch: list[EncodedRecord], *, hung: bool) -> bool:
        """Every exception a write raised, in one place: True when the batch is settled (lost, counted), False
        when it is kept and retried. A hang past ``write_timeout`` arrives here as ``TimeoutError``."""
        if isinstance(exc, RecordsRejected):
            self._dead_letter(exc, len(batch))
            return True
        if isinstance(exc, SinkError):
            if not exc.retriable:
                self.lost_errors += len(batch)
                log.error("Sink '%s': %d records lost: %s", self.name, len(batch), exc)
                return True
            self._started_failing(str(exc))
            return False
        if hung:
            exc = TimeoutError(f"the write took longer than supervision.write_timeout = {self.limits.write_timeout} s")
        failure(self.task_label, exc, f"could not write a batch of {len(batch)} records (kept for a retry)")
        self._started_failing(repr(exc))
        return False

    def _dead_letter(self, exc: RecordsRejected, batch_size: int) -> None:
        """The sink wrote the batch except ``exc.records``, which it refuses for good: they go to the dead-letter
        folder (``collector.sinks.deadletter``; it logs and counts) so that they never hold up the records behind."""
        self.written += batch_size - len(exc.records)
        self._failing = False
        self._failing_since = None
        if self.dead_letters is None:
            self.lost_errors += len(exc.records)
            log.error("Sink '%s': %d records refused for good and lost (no dead-letter folder): %s",
                      self.name, len(exc.records), exc)  # fmt: skip
        else:
            self.dead_letters.store(exc)

    def _spill_queue(self) -> None:
        """While the sink fails, keep its records on disk rather than in memory, where a crash would lose them:
        the queue (older than anything spooled, which is unread meanwhile) goes in front of the spool, and
        new records follow it there. Only when the whole queue fits."""
        spool = self.spool
        if spool is None or not self._queue or not spool.fits(self._queue):
            return
        records = list(self._queue)
        if not spool.prepend(records):
            return  # the disk refuses the spool: the queue stays in memory
        self._queue.clear()
        log.warning(
            "Sink '%s': writes are failing; spooling to %s (the %d queued records, then every new one) until "
            "the sink catches up.", self.name, spool.directory, len(records),
        )  # fmt: skip

    async def _sync_spool(self, spool: Spool) -> None:
        """Once a second, hand spooled records to the disk (``fsync`` in a thread, on a duplicate descriptor
        so that a segment closed meanwhile cannot pull the descriptor away)."""
        while True:
            await asyncio.sleep(SPOOL_SYNC_SECONDS)
            try:
                fd = spool.flush()
                if fd is None:
                    continue
                duplicate = os.dup(fd)
            except OSError as exc:  # e.g. a full disk: the bytes stay in the buffer for the next flush
                failure(f"spool:{self.name}", exc, f"could not flush the spool in {spool.directory} (kept buffered)")
                continue
            try:
                await asyncio.to_thread(os.fsync, duplicate)
            except OSError as exc:
                failure(f"spool:{self.name}", exc, f"could not sync the spool in {spool.directory}")
            finally:
                os.close(duplicate)

    async def aclose(self, timeout: float | None = None) -> None:
        """Stop taking records and write what is queued (up to ``timeout`` seconds). With a spool, what could
        not be written is kept on disk for the next start; without one, it is lost (and counted)."""
        self._closing = True
        self._wakeup.set()
        self._closing_event.set()
        task = self._task
        if task is not None:
            if not (self._failing and self.spool is not None):
                await asyncio.wait({task}, timeout=timeout)
            if not task.done():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        if self._sync_task is not None:
            self._sync_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sync_task
        self._keep_or_lose_queue(timeout)
        try:
            async with asyncio.timeout(self.limits.write_timeout + CLOSE_SECONDS):
                await self.sink.aclose()
        except Exception as exc:  # what it could not finish is where the next start finds it
            failure(self.task_label, exc, "could not close cleanly (a restart recovers its files and spool)")
        finally:
            if self.spool is not None:
                try:
                    self.spool.close()
                except OSError as exc:  # a full disk at the last flush: what was still buffered is lost
                    failure(self.task_label, exc, "could not flush its spool at shutdown")

    def _keep_or_lose_queue(self, timeout: float | None) -> None:
        remaining = list(self._queue)
        self._queue.clear()
        if not remaining:
            return
        if self.spool is not None:
            stored = self.spool.prepend(remaining)
            self.dropped_spool_full += len(remaining) - stored
            log.warning(
                "Sink '%s': %d records not written at shutdown; %d kept in the spool %s for the next start%s.",
                self.name, len(remaining), stored, self.spool.directory,
                "" if stored == len(remaining) else f", {len(remaining) - stored} LOST (spool full)",
            )  # fmt: skip
            return
        log.error(
            "Sink '%s': %d records still queued after %.0f s; closing anyway (they are lost).",
            self.name, len(remaining), timeout or 0,
        )  # fmt: skip
        self.lost_errors += len(remaining)
