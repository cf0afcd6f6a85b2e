"""File sinks whose published files go to object storage: a local upload queue, retried until it is empty.

Shared by the S3 sink (``collector.sinks.s3``) and the Cloud Storage sink (``collector.sinks.gcs``). Files
are built locally by the file sink's own machinery (naming, ``.partial`` files, sync by count and duration,
roll, locks and crash recovery; see ``collector.sinks.file``) in ``<local>/``; a rolled file moves to
``<local>/upload/`` and is uploaded from there. An object appears in the bucket only when its upload
completes, so readers never see a partial file.

Reliability: the local file is deleted only once the store has confirmed the upload. A failed upload is
logged as an error with the backlog (files and bytes waiting) and retried with backoff (``retry_settings``:
``initial_retry_delay`` × ``retry_delay_multiplier`` up to ``max_retry_delay``, plus ``jitter_delay`` or
``jitter_factor`` when set), for as long as it takes; records keep flowing into local files meanwhile, so an
outage of the store costs local disk, not records. Files in the upload directory when the collector starts
(an outage that outlived the process, or a crash) are uploaded first, oldest first, and ``.partial`` files a
crash left are cut to their last complete block and uploaded too. For metrics: ``backlog_files``/
``backlog_bytes`` (waiting on local disk), ``uploaded_files``/``uploaded_bytes`` and ``failed_uploads``
(attempts, each retried).

A sink's local directory belongs to one process at a time for writing; a file being uploaded is locked, so a
second process sharing the directory skips it.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import fcntl
import logging
import os
import random
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import BinaryIO

from collector.avro.schemas import Schema
from collector.config.settings import FileStrategySettings, RetrySettings
from collector.errors import ConfigError, SinkError
from collector.sinks.file import FileSink
from collector.sinks.s3_store import FILE_NAME
from collector.supervise import failure, supervise

log = logging.getLogger(__name__)

RESCAN_SECONDS = 5.0
"""The upload directory is also scanned this often, for files another process (or a recovery) left there."""
CLOSE_UPLOAD_SECONDS = 20.0
"""On shutdown, how long to keep uploading; what is left is uploaded by the next start."""


async def _wait(event: asyncio.Event, timeout: float) -> None:
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(timeout):
            await event.wait()


def retry_delays(retry: RetrySettings) -> Iterator[float]:
    """Seconds to wait after each failed upload: exponential backoff, capped, with the configured jitter
    (``jitter_delay``: up to that many seconds more; ``jitter_factor``: up to that fraction more)."""
    delay = retry.initial_retry_delay
    while True:
        jitter = 0.0
        if retry.jitter_delay:
            jitter = random.uniform(0.0, retry.jitter_delay)
        elif retry.jitter_factor:
            jitter = random.uniform(0.0, retry.jitter_factor * delay)
        yield delay + jitter
        delay = min(delay * retry.retry_delay_multiplier, retry.max_retry_delay)


class UploadingSink(FileSink):
    """A file sink whose publish directory is a queue of uploads; subclasses say how one file goes up."""

    kind = "Upload"
    """The store's name in log lines and task labels (``S3``, ``GCS``)."""
    chunk_bytes = 8 * 1024 * 1024
    """An upload may take ``write_timeout`` for each started chunk of this size."""

    def __init__(
        self,
        name: str,
        strategy: FileStrategySettings,
        schema: Schema,
        shards: int,
        *,
        local: Path,
        local_key: str,
        retry: RetrySettings,
        hostname: str | None = None,
        write_timeout: float = 60.0,
    ) -> None:
        """``local``: the sink's own local directory (created here, with its ``upload/`` folder); ``local_key``:
        the configuration key that names it, for errors."""
        try:
            (local / "upload").mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ConfigError(f"{local_key}: cannot create {local / 'upload'}: {exc}") from exc
        strategy = replace(strategy, working_dir=str(local), publish_dir=str(local / "upload"))
        super().__init__(name, strategy, schema, shards, hostname=hostname, write_timeout=write_timeout)
        self.retry = retry
        self.upload_dir = local / "upload"
        self.uploaded_files = 0
        self.uploaded_bytes = 0
        self.recent_uploads: collections.deque[str] = collections.deque(maxlen=100)
        """The keys of the last uploads of this process, oldest first."""
        self.failed_uploads = 0
        """Upload attempts that failed, in all (each is retried)."""
        self.close_upload_seconds = CLOSE_UPLOAD_SECONDS
        self._failing = False
        self._wake = asyncio.Event()
        self._stop = asyncio.Event()
        self._draining = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._uploader: asyncio.Task[None] | None = None

    # -- what a store says -----------------------------------------------------------------------------

    @property
    def destination(self) -> str:
        """The bucket as a URL, for messages (``s3://bucket``)."""
        raise NotImplementedError

    def url(self, key: str) -> str:
        return f"{self.destination}/{key}"

    def object_key(self, file_name: str) -> str:
        """The key the published file ``file_name`` is uploaded under."""
        raise NotImplementedError

    async def _put(self, key: str, path: Path) -> None:
        """The one call that talks to the store: upload the file at ``path`` as ``key``."""
        raise NotImplementedError

    def expected_error(self, exc: Exception) -> bool:
        """Whether ``exc`` is an error of the store's client (a fault to retry quietly), not a bug."""
        return isinstance(exc, OSError)

    def describe_error(self, exc: BaseException) -> str:
        return f"{type(exc).__name__}: {exc}"

    # -- the backlog -------------------------------------------------------------------------------------

    def pending(self) -> list[Path]:
        """Complete files waiting for upload, oldest first (names start with their creation time)."""
        try:
            return sorted(p for p in self.upload_dir.iterdir() if FILE_NAME.match(p.name))
        except OSError:
            return []

    def _backlog(self) -> tuple[int, int]:
        files = size = 0
        for path in self.pending():
            with contextlib.suppress(OSError):
                size += path.stat().st_size
                files += 1
        return files, size

    @property
    def backlog_files(self) -> int:
        """Files waiting for upload (a scan of the upload directory: cheap, a few entries)."""
        return self._backlog()[0]

    @property
    def backlog_bytes(self) -> int:
        """Bytes waiting for upload: the local disk the store being unreachable costs."""
        return self._backlog()[1]

    # -- the sink contract ---------------------------------------------------------------------------------

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        await super().start()  # recovers .partial files into the upload directory
        files, size = await asyncio.to_thread(self._backlog)
        if files:
            log.warning("%s sink '%s': %d files (%d bytes) left by an earlier process wait in %s; uploading them.",
                        self.kind, self.name, files, size, self.upload_dir)  # fmt: skip
        self._uploader = supervise(f"{self.kind.lower()}-upload:{self.name}", self._upload_loop)

    async def heartbeat(self) -> None:
        """The file sink's periodic work; raises (retriable) while uploads fail, so the runner's failure clock
        runs: readiness turns red once uploads have failed for longer than ``supervision.failing_after``."""
        await super().heartbeat()
        if self._failing:
            raise SinkError(f"uploads to {self.destination} are failing (records kept on local disk)", retriable=True)

    async def aclose(self) -> None:
        """Publish every open file, then keep uploading for up to ``close_upload_seconds``; files still
        waiting stay in the upload directory for the next start."""
        await super().aclose()
        self._draining = True
        self._stop.set()
        self._wake.set()
        task = self._uploader
        if task is not None:
            done, _ = await asyncio.wait({task}, timeout=self.close_upload_seconds)
            if not done:
                task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        files, size = await asyncio.to_thread(self._backlog)
        if files:
            log.warning("%s sink '%s': %d files (%d bytes) not uploaded at shutdown; they stay in %s and are "
                        "uploaded on the next start.", self.kind, self.name, files, size, self.upload_dir)  # fmt: skip

    # -- uploading ---------------------------------------------------------------------------------------

    def _on_published(self, target: Path) -> None:
        super()._on_published(target)
        loop = self._loop
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(self._wake.set)

    async def _upload_loop(self) -> None:
        delays = retry_delays(self.retry)
        while True:
            self._wake.clear()
            files = await asyncio.to_thread(self.pending)
            failed = False
            for path in files:
                outcome = await self._upload(path)
                if outcome is False:
                    failed = True
                    break
            if failed:
                if self._draining:
                    return
                await _wait(self._stop, next(delays))
                continue
            delays = retry_delays(self.retry)
            if self._draining:
                remaining = await asyncio.to_thread(self.pending)
                if not remaining or remaining == files:  # done, or only files other processes hold
                    return
                continue
            await _wait(self._wake, RESCAN_SECONDS)

    async def _upload(self, path: Path) -> bool | None:
        """Upload one file and delete it; True when done, None when skipped, False when the store failed."""
        key = self.object_key(path.name)
        lock = await asyncio.to_thread(_lock, path)
        if lock is None:
            return None  # gone, or another process is uploading it
        try:
            size = os.fstat(lock.fileno()).st_size
            try:  # each started chunk may take write_timeout: a hung connection cannot stall the uploads
                async with asyncio.timeout(self.write_timeout * (1 + size // self.chunk_bytes)):
                    await self._put(key, path)
            except Exception as exc:  # the client's errors, OSError from reading the file, and anything unexpected
                if not self.expected_error(exc):
                    failure(f"{self.kind.lower()}-upload:{self.name}", exc, f"could not upload {path.name}")
                self.failed_uploads += 1
                self._failing = True
                files, backlog = await asyncio.to_thread(self._backlog)
                log.error(
                    "%s sink '%s': UPLOAD FAILED for %s → %s (%s). %d files (%d bytes) wait in %s; records are "
                    "kept on local disk and the upload is retried.", self.kind, self.name, path.name, self.url(key),
                    self.describe_error(exc), files, backlog, self.upload_dir,
                )  # fmt: skip
                return False
            await asyncio.to_thread(path.unlink, missing_ok=True)  # confirmed: the bucket has it
        finally:
            lock.close()
        self.uploaded_files += 1
        self.uploaded_bytes += size
        self.recent_uploads.append(key)
        if self._failing:
            log.info("%s sink '%s': uploads work again (%d failed attempts so far).", self.kind, self.name,
                     self.failed_uploads)  # fmt: skip
            self._failing = False
        log.info("%s sink '%s': uploaded %s (%d bytes).", self.kind, self.name, self.url(key), size)
        return True


def _lock(path: Path) -> BinaryIO | None:
    """The file opened and exclusively locked, or None when it is gone or locked by another process."""
    try:
        handle = open(path, "rb")  # noqa: SIM115 - closed by the caller after the upload
    except FileNotFoundError:
        return None
    except OSError as exc:  # e.g. permissions: say so at every scan, and go on with the other files
        log.error("Cannot read %s to upload it: %s", path, exc)
        return None
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        return None
    if not path.exists():  # uploaded and deleted by another process between open and lock
        handle.close()
        return None
    return handle
