"""Divolte's file sink (``type = hdfs``) on local directories: Avro container files, ``.partial`` → publish.

Protocol, as Divolte's ``FileFlusher`` (SPEC §9.3):
- each of the sink's ``threads`` shards keeps one open file, ``<working_dir>/<name>.partial``, named
  ``<yyyyMMddHHmmss>-divolte-tracking-<hostname>-<n>.avro``; records go to a shard by party, so a party's
  records stay in one file, in order;
- records are appended in memory and written as one Avro block on *sync*: after
  ``sync_file_after_records`` records, or ``sync_file_after_duration`` after the last sync if any record is
  waiting (checked on every write and on the once-a-second heartbeat, so it holds without traffic); a sync
  writes, flushes and fsyncs;
- after ``roll_every`` the file is synced, closed and renamed into ``publish_dir`` (atomic on POSIX);
  a file without records is deleted instead;
- on shutdown every file with records is published.

Deliberate differences from Divolte, both so that nothing accepted is lost: records appended but not yet
synced when a file rolls are synced and published (Divolte discards them when ``sync_file_after_duration``
exceeds ``roll_every``); and a failed write keeps the unsynced records in memory and retries them into a
fresh file (Divolte discards the whole open file). Files are opened on their first record rather than ahead
of time, so an idle collector leaves no empty files behind.

Crash safety: an open file holds an exclusive ``flock``. On start, ``.partial`` files in the working
directory that nobody holds (left by a crash or ``kill -9``) are cut back to their last complete block,
which is everything synced, and published; so a crash loses at most what was not yet synced
(``sync_file_after_records`` / ``sync_file_after_duration``) plus what was still queued in memory. A
sibling process sharing the directory keeps its locks, so its open files are never taken.

Blocking file work (write + fsync, rename) runs in a worker thread so it never stalls the event loop. A
failure of any kind there (``OSError`` such as ``ENOSPC``/``EIO``/``EACCES``, or anything a bug raises) is
handled in that same thread call: the file is cut back to its last good block and published, the records
not yet synced stay in memory for the retry, and the failure is logged and counted (``collector.supervise``).
So a call that outlives its caller (the runner gave up after ``supervision.write_timeout``) still leaves
the files consistent; the next call waits for it to finish before touching a file. A runner that retries
the same batch after such a timeout does not append it twice. A file that cannot be published (rename
refused) stays open and is published on the next heartbeat; on shutdown it is left as ``.partial`` for the
next start to recover.

Blocks are compressed with ``file_strategy.codec`` (an addition; Divolte's files are always ``null``).
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import itertools
import logging
import os
import re
import socket
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, TypeVar

from collector.avro.container import ContainerWriter, complete_prefix
from collector.avro.schemas import Schema
from collector.config.settings import FileStrategySettings
from collector.errors import ConfigError, SinkError
from collector.events import EncodedRecord
from collector.protocol.identifiers import affinity_hash
from collector.supervise import failure

log = logging.getLogger(__name__)
_T = TypeVar("_T")

PARTIAL_NAME = re.compile(r"^\d{14}-divolte-tracking-.+\.avro\.partial$")

CLOSE_RETRY_DELAYS = (0.1, 0.3, 1.0)
"""Seconds between the attempts to sync and publish a file when the sink closes."""

FILE_NUMBER_STRIDE = 1000
"""With several worker processes, worker ``i`` numbers its shards from ``i × FILE_NUMBER_STRIDE + 1``."""

_flusher_numbers = itertools.count(1)
"""Process-wide shard counter: the ``<n>`` in file names, as Divolte numbers its flusher instances."""


def number_files_for_worker(index: int) -> None:
    """Make this process's ``<n>`` run from ``index × FILE_NUMBER_STRIDE + 1``, so that the files of worker
    processes sharing a directory never share a name (worker 0 numbers as a single process does). Call it
    before any sink is built; a restarted worker takes its index, and so its numbers, again."""
    global _flusher_numbers
    _flusher_numbers = itertools.count(index * FILE_NUMBER_STRIDE + 1)


def next_file_number() -> int:
    """The next shard's ``<n>`` (shared by every sink writing Divolte's file names: local and HDFS)."""
    return next(_flusher_numbers)


def local_directory(value: str, key: str) -> Path:
    """A ``working_dir``/``publish_dir`` value as a local path: plain paths and ``file://`` URIs only."""
    if value.startswith("file://"):
        value = value[len("file://") :]
    elif "://" in value:
        scheme = value.split("://", 1)[0]
        raise ConfigError(
            f"{key}: '{value}' uses the '{scheme}://' scheme; this collector writes files to local "
            "directories only (a plain path or a file:// URI). For object storage use an s3 sink."
        )
    return Path(value)


def check_directory(path: Path, key: str) -> None:
    if not path.is_dir():
        raise ConfigError(f"{key}: directory '{path}' does not exist. Create it, or point {key} elsewhere.")
    if not os.access(path, os.W_OK | os.X_OK):
        raise ConfigError(f"{key}: directory '{path}' is not writable by this process.")


@dataclass(slots=True)
class _OpenFile:
    name: str
    partial: Path
    handle: BinaryIO
    writer: ContainerWriter
    opened_at: float
    """Monotonic time the file was opened (for ``roll_every``)."""
    last_sync: float
    synced_records: int = 0
    good_size: int = 0
    """File size after the last successful sync: a failed write is truncated back to it."""


@dataclass(slots=True)
class _Shard:
    number: int
    pending: list[bytes] = field(default_factory=list)
    file: _OpenFile | None = None
    broken: bool = False


class FileSink:
    """Writes a sink's records into rolling Avro container files in a local directory."""

    def __init__(
        self,
        name: str,
        strategy: FileStrategySettings,
        schema: Schema,
        shards: int,
        *,
        hostname: str | None = None,
        write_timeout: float = 60.0,
    ) -> None:
        self.name = name
        self.strategy = strategy
        self.write_timeout = write_timeout
        """A blocking step (sync, publish) still running after this long has failed: a hung disk is reported
        and the step is retried once the hung call has finished."""
        self.schema = schema
        prefix = f"divolte.sinks.{name}.file_strategy"
        self.working_dir = local_directory(strategy.working_dir, f"{prefix}.working_dir")
        self.publish_dir = local_directory(strategy.publish_dir, f"{prefix}.publish_dir")
        check_directory(self.working_dir, f"{prefix}.working_dir")
        check_directory(self.publish_dir, f"{prefix}.publish_dir")
        self.hostname = hostname or socket.gethostname() or "localhost"
        self._shards = [_Shard(next_file_number()) for _ in range(max(1, shards))]
        self.published: list[Path] = []
        self.task_label = f"sink:{name}"
        self._blocking: asyncio.Future[object] | None = None
        """The last blocking call handed to a worker thread (it may outlive a caller that timed out)."""
        self._taken: Sequence[EncodedRecord] | None = None
        """The last batch taken: a retry of the same batch after a timeout is not appended again."""

    async def start(self) -> None:
        """Recover files a crashed process left behind; new files open on demand."""
        await asyncio.to_thread(self.recover_partials)

    def recover_partials(self) -> list[Path]:
        """Publish the intact part of every unlocked ``.partial`` file in the working directory."""
        recovered = []
        for partial in sorted(self.working_dir.iterdir()):
            if not PARTIAL_NAME.match(partial.name):
                continue
            target = self.publish_dir / partial.name.removesuffix(".partial")
            try:
                with open(partial, "r+b") as handle:
                    try:
                        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    except BlockingIOError:
                        continue  # a live process is writing it
                    data = handle.read()
                    if not data or not partial.exists():
                        # Empty: a live process created it and is about to lock it. Gone: another process
                        # recovered it while we waited for the lock. Either way it is not ours to take.
                        continue
                    length, records = complete_prefix(data)
                    handle.truncate(length)
                    handle.flush()
                    os.fsync(handle.fileno())
                    # Rename or delete while the lock is held, so a sibling's recovery cannot take it too.
                    if records == 0:
                        partial.unlink()
                        log.info("File sink '%s': removed %s left behind (no complete block).", self.name, partial)
                        continue
                    os.rename(partial, target)
            except FileNotFoundError:
                continue  # recovered by a sibling process between listing and opening
            except OSError as exc:
                log.error("File sink '%s': could not recover %s: %s", self.name, partial, exc)
                continue
            recovered.append(target)
            self._on_published(target)
            log.warning(
                "File sink '%s': recovered %s left by an earlier process (%d records up to its last sync).",
                self.name, target, records,
            )  # fmt: skip
        return recovered

    # -- the sink contract ---------------------------------------------------------------------------

    async def write_batch(self, records: Sequence[EncodedRecord]) -> None:
        for shard in self._shards:
            if shard.broken:
                await self._try_sync(shard)
                if shard.broken:
                    raise SinkError(f"file sink '{self.name}' cannot write to {self.working_dir}", retriable=True)
        if records is not self._taken:
            self._take(records)
            self._taken = records
        limit = self.strategy.sync_file_after_records
        for shard in self._shards:
            if len(shard.pending) >= limit:
                await self._try_sync(shard)

    def _take(self, records: Sequence[EncodedRecord]) -> None:
        shards = self._shards
        if len(shards) == 1:
            shards[0].pending.extend(record.payload for record in records)
        else:
            count = len(shards)
            for record in records:
                shards[affinity_hash(record.party_id) % count].pending.append(record.payload)

    async def heartbeat(self) -> None:
        """Sync by duration and roll by age; raises (retriable) while a shard cannot write or publish, so the
        runner shows the sink failing even without traffic."""
        now = time.monotonic()
        for shard in self._shards:
            current = shard.file
            if shard.pending and (current is None or now - current.last_sync >= self.strategy.sync_file_after_duration):
                await self._try_sync(shard)
            current = shard.file
            if current is not None and now - current.opened_at > self.strategy.roll_every and not shard.broken:
                await self._publish(shard)
        if any(shard.broken for shard in self._shards):
            raise SinkError(f"file sink '{self.name}' cannot write to {self.working_dir}", retriable=True)

    async def aclose(self) -> None:
        """Sync and publish every file; a failure is tried again after ``CLOSE_RETRY_DELAYS`` (a passing fault
        must not cost the records at shutdown), then a file is left for the next start to recover."""
        for shard in self._shards:
            for delay in (0.0, *CLOSE_RETRY_DELAYS):
                if not shard.pending and shard.file is None:
                    break
                await asyncio.sleep(delay)
                if shard.pending:
                    await self._try_sync(shard)
                if not shard.pending and shard.file is not None:
                    await self._publish(shard)
            if shard.file is not None:
                with contextlib.suppress(TimeoutError):
                    await self._run(self._leave_for_recovery_blocking, shard)
            if shard.pending:
                log.error(
                    "File sink '%s': %d records could not be written before shutdown.",
                    self.name, len(shard.pending),
                )  # fmt: skip

    # -- internals -----------------------------------------------------------------------------------

    def _on_published(self, target: Path) -> None:
        """A complete file is in the publish directory. Runs in a worker thread; subclasses (the S3 sink)
        extend it to hand the file on."""
        self.published.append(target)

    async def _run(self, func: Callable[[_Shard], _T], shard: _Shard) -> _T:
        """``func(shard)`` in a worker thread, one call at a time: a call that outlived a caller who gave up
        on it (a hung disk) finishes before the next starts."""
        previous = self._blocking
        if previous is not None and not previous.done():
            await asyncio.wait({previous})
        future = asyncio.get_running_loop().run_in_executor(None, func, shard)
        self._blocking = future  # type: ignore[assignment]
        async with asyncio.timeout(self.write_timeout):
            return await asyncio.shield(future)

    def _hung(self) -> TimeoutError:
        return TimeoutError(f"the file system did not answer within supervision.write_timeout = {self.write_timeout} s")

    async def _try_sync(self, shard: _Shard) -> None:
        pending = len(shard.pending)
        try:
            error = await self._run(self._sync_safely_blocking, shard)
        except TimeoutError:
            shard.broken = True  # until the hung call finishes and a sync succeeds
            error = self._hung()
        if error is not None:
            failure(self.task_label, error, f"could not write {pending} records to {self.working_dir} (kept for retry)")

    async def _publish(self, shard: _Shard) -> bool:
        """Publish the shard's file; False (logged and counted) when it could not, the file then stays open."""
        try:
            error = await self._run(self._publish_safely_blocking, shard)
        except TimeoutError:
            error = self._hung()
        if error is not None:
            failure(self.task_label, error, f"could not publish a file into {self.publish_dir} (retried)")
        return error is None

    def _sync_safely_blocking(self, shard: _Shard) -> Exception | None:
        """Sync, or on any failure cut the file back to its last good block and mark the shard broken."""
        try:
            self._sync_blocking(shard)
        except Exception as exc:  # ENOSPC, EIO, EACCES, a library's error or a bug: the records stay pending
            shard.broken = True
            self._abandon_blocking(shard)
            return exc
        shard.broken = False
        return None

    def _publish_safely_blocking(self, shard: _Shard) -> Exception | None:
        if shard.pending:
            error = self._sync_safely_blocking(shard)
            if error is not None:
                return error
        try:
            self._publish_blocking(shard)
        except Exception as exc:  # the file stays open, complete up to its last sync
            return exc
        return None

    def _leave_for_recovery_blocking(self, shard: _Shard) -> None:
        """Shutdown with a file that could not be published: release it as ``.partial``; the next start
        cuts it to its last complete block and publishes it."""
        current, shard.file = shard.file, None
        if current is not None:
            with contextlib.suppress(OSError):
                current.handle.close()
            log.error("File sink '%s': left %s for the next start to recover.", self.name, current.partial)

    def _open_blocking(self, shard: _Shard) -> _OpenFile:
        stamp = time.strftime("%Y%m%d%H%M%S", time.localtime())
        name = f"{stamp}-divolte-tracking-{self.hostname}-{shard.number}.avro"
        attempt = 1
        while (self.working_dir / f"{name}.partial").exists() or (self.publish_dir / name).exists():
            attempt += 1  # two files of one shard within a second (tiny roll_every): keep both
            name = f"{stamp}-divolte-tracking-{self.hostname}-{shard.number}-{attempt}.avro"
        partial = self.working_dir / f"{name}.partial"
        handle = open(partial, "xb")  # noqa: SIM115 - the file stays open across calls until published
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)  # "in use": recovery in other processes skips it
            writer = ContainerWriter(handle, self.schema.json, self.strategy.codec)
            handle.flush()
            os.fsync(handle.fileno())
        except OSError:
            with contextlib.suppress(OSError):  # closing flushes the header again: on a full disk, that fails too
                handle.close()
            partial.unlink(missing_ok=True)
            raise
        now = time.monotonic()
        return _OpenFile(name, partial, handle, writer, now, now, good_size=handle.tell())

    def _sync_blocking(self, shard: _Shard) -> None:
        if shard.file is None:
            shard.file = self._open_blocking(shard)
        current = shard.file
        if shard.pending:
            current.writer.write_block(shard.pending)
            current.handle.flush()
            os.fsync(current.handle.fileno())
            current.synced_records += len(shard.pending)
            current.good_size = current.handle.tell()
            shard.pending = []
        current.last_sync = time.monotonic()

    def _publish_blocking(self, shard: _Shard) -> None:
        """Close a synced file and rename it into the publish directory (or delete it if empty). On failure the
        file stays the shard's open file."""
        current = shard.file
        if current is None:
            return
        # Rename or delete while the lock is held, so no other process's recovery can take the file first.
        if current.synced_records == 0:
            current.partial.unlink(missing_ok=True)
            shard.file = None
            current.handle.close()
            return
        target = self.publish_dir / current.name
        os.rename(current.partial, target)
        shard.file = None
        current.handle.close()
        self._on_published(target)
        log.info("File sink '%s': published %s (%d records).", self.name, target, current.synced_records)

    def _abandon_blocking(self, shard: _Shard) -> None:
        """After a failed write: cut the file back to its last good block and publish what it holds."""
        current = shard.file
        if current is None:
            return
        shard.file = None
        try:
            current.handle.truncate(current.good_size)
            if current.synced_records:
                target = self.publish_dir / current.name
                os.rename(current.partial, target)
                self._on_published(target)
            else:
                current.partial.unlink(missing_ok=True)
        except OSError as exc:
            log.error("File sink '%s': could not tidy %s after a failure: %s", self.name, current.partial, exc)
        finally:
            with contextlib.suppress(OSError):
                current.handle.close()
