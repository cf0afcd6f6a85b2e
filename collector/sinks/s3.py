"""The S3 sink (``type = s3``): the file sink's Avro files, uploaded to a bucket once complete.

Files are built locally by the file sink's own machinery (naming, ``.partial`` files, sync by count and
duration, roll, locks and crash recovery; see ``collector.sinks.file``) in ``<working_dir>/<sink name>/``.
A rolled file moves to ``<working_dir>/<sink name>/upload/`` and is uploaded from there (a multipart upload
above 8 MiB), under ``<prefix><key_pattern>``, by default ``prefix/dt=YYYY-MM-DD/hour=HH/<file name>``. S3
makes an object visible only when its upload completes, so readers never see a partial file.

Reliability: the local file is deleted only once S3 has confirmed the upload. A failed upload is logged as an
error with the backlog (files and bytes waiting) and retried with backoff (``retry_settings``), for as long
as it takes; records keep flowing into local files meanwhile, so an outage of S3 costs local disk, not
records. Files in the upload directory when the collector starts (an outage that outlived the process, or
a crash) are uploaded first, oldest first, and ``.partial`` files a crash left are cut to their last
complete block and uploaded too. For metrics: ``backlog_files``/``backlog_bytes`` (waiting on local disk),
``uploaded_files``/``uploaded_bytes`` and ``failed_uploads`` (attempts, each retried). Uploads run on the
event loop through obstore's async API (the transfer itself runs in obstore's Rust runtime).

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
from dataclasses import replace
from pathlib import Path
from typing import BinaryIO

import obstore
import obstore.exceptions
from obstore.store import S3Store

from collector.avro.schemas import Schema
from collector.config.settings import S3SinkSettings
from collector.errors import ConfigError, SinkError
from collector.sinks.file import FileSink, check_directory, local_directory
from collector.sinks.s3_store import FILE_NAME, check_key_pattern, describe_error, object_key, open_store
from collector.supervise import failure, supervise

log = logging.getLogger(__name__)

MULTIPART_CHUNK_BYTES = 8 * 1024 * 1024
"""Files larger than this are uploaded in parts of this size (S3's minimum part is 5 MiB)."""
RESCAN_SECONDS = 5.0
"""The upload directory is also scanned this often, for files another process (or a recovery) left there."""
CLOSE_UPLOAD_SECONDS = 20.0
"""On shutdown, how long to keep uploading; what is left is uploaded by the next start."""


async def _wait(event: asyncio.Event, timeout: float) -> None:
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(timeout):
            await event.wait()


class S3Sink(FileSink):
    """A file sink whose publish directory is a queue of uploads to S3."""

    def __init__(
        self,
        settings: S3SinkSettings,
        schema: Schema,
        shards: int,
        *,
        hostname: str | None = None,
        store: S3Store | None = None,
        write_timeout: float = 60.0,
    ) -> None:
        key = f"divolte.sinks.{settings.name}"
        check_key_pattern(settings.key_pattern, f"{key}.key_pattern")
        working_key = f"{key}.file_strategy.working_dir"
        base = local_directory(settings.file_strategy.working_dir, working_key)
        check_directory(base, working_key)
        local = base / settings.name
        try:
            (local / "upload").mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ConfigError(f"{working_key}: cannot create {local / 'upload'}: {exc}") from exc
        strategy = replace(settings.file_strategy, working_dir=str(local), publish_dir=str(local / "upload"))
        super().__init__(settings.name, strategy, schema, shards, hostname=hostname, write_timeout=write_timeout)
        self.settings = settings
        self.upload_dir = local / "upload"
        self.store = store or open_store(settings.bucket, region=settings.region, endpoint=settings.endpoint)
        self.uploaded_files = 0
        self.uploaded_bytes = 0
        self.recent_uploads: collections.deque[str] = collections.deque(maxlen=100)
        """The keys of the last uploads of this process, oldest first."""
        self.failed_uploads = 0
        """Upload attempts that failed, in all (each is retried)."""
        self._failing = False
        self._wake = asyncio.Event()
        self._stop = asyncio.Event()
        self._draining = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._uploader: asyncio.Task[None] | None = None

    def url(self, key: str) -> str:
        return f"s3://{self.settings.bucket}/{key}"

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
        """Bytes waiting for upload: the local disk S3 being unreachable costs."""
        return self._backlog()[1]

    # -- the sink contract ---------------------------------------------------------------------------------

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        await super().start()  # recovers .partial files into the upload directory
        files, size = await asyncio.to_thread(self._backlog)
        if files:
            log.warning("S3 sink '%s': %d files (%d bytes) left by an earlier process wait in %s; uploading them.",
                        self.name, files, size, self.upload_dir)  # fmt: skip
        self._start_uploader()

    async def heartbeat(self) -> None:
        """The file sink's periodic work; raises (retriable) while uploads fail, so the runner's failure clock
        runs: readiness turns red once uploads have failed for longer than ``supervision.failing_after``."""
        await super().heartbeat()
        if self._failing:
            raise SinkError(f"uploads to s3://{self.settings.bucket} are failing (records kept on local disk)",
                            retriable=True)  # fmt: skip

    def _start_uploader(self) -> None:
        """The uploader is supervised: whatever it raises is logged, counted, and it starts again."""
        self._uploader = supervise(f"s3-upload:{self.name}", self._upload_loop)

    async def aclose(self) -> None:
        """Publish every open file, then keep uploading for up to ``CLOSE_UPLOAD_SECONDS``; files still
        waiting stay in the upload directory for the next start."""
        await super().aclose()
        self._draining = True
        self._stop.set()
        self._wake.set()
        task = self._uploader
        if task is not None:
            done, _ = await asyncio.wait({task}, timeout=CLOSE_UPLOAD_SECONDS)
            if not done:
                task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        files, size = await asyncio.to_thread(self._backlog)
        if files:
            log.warning("S3 sink '%s': %d files (%d bytes) not uploaded at shutdown; they stay in %s and are "
                        "uploaded on the next start.", self.name, files, size, self.upload_dir)  # fmt: skip

    # -- uploading ---------------------------------------------------------------------------------------

    def _on_published(self, target: Path) -> None:
        super()._on_published(target)
        loop = self._loop
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(self._wake.set)

    async def _upload_loop(self) -> None:
        retry = self.settings.retry_settings
        delay = retry.initial_retry_delay
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
                await _wait(self._stop, delay)
                delay = min(delay * retry.retry_delay_multiplier, retry.max_retry_delay)
                continue
            delay = retry.initial_retry_delay
            if self._draining:
                remaining = await asyncio.to_thread(self.pending)
                if not remaining or remaining == files:  # done, or only files other processes hold
                    return
                continue
            await _wait(self._wake, RESCAN_SECONDS)

    async def _put(self, key: str, path: Path) -> None:
        """The one call that talks to S3 (a multipart upload above ``MULTIPART_CHUNK_BYTES``)."""
        await obstore.put_async(self.store, key, path, chunk_size=MULTIPART_CHUNK_BYTES)

    async def _upload(self, path: Path) -> bool | None:
        """Upload one file and delete it; True when done, None when skipped, False when S3 failed."""
        key = object_key(self.settings.prefix, self.settings.key_pattern, path.name, self.name)
        lock = await asyncio.to_thread(_lock, path)
        if lock is None:
            return None  # gone, or another process is uploading it
        try:
            size = os.fstat(lock.fileno()).st_size
            try:  # each started chunk may take write_timeout: a hung connection cannot stall the uploads
                async with asyncio.timeout(self.write_timeout * (1 + size // MULTIPART_CHUNK_BYTES)):
                    await self._put(key, path)
            except Exception as exc:  # obstore's errors, OSError from reading the file, and anything unexpected
                if not isinstance(exc, obstore.exceptions.BaseError | OSError):
                    failure(f"s3-upload:{self.name}", exc, f"could not upload {path.name}")
                self.failed_uploads += 1
                self._failing = True
                files, backlog = await asyncio.to_thread(self._backlog)
                log.error(
                    "S3 sink '%s': UPLOAD FAILED for %s → %s (%s). %d files (%d bytes) wait in %s; records are "
                    "kept on local disk and the upload is retried.",
                    self.name, path.name, self.url(key), describe_error(exc), files, backlog, self.upload_dir,
                )  # fmt: skip
                return False
            await asyncio.to_thread(path.unlink, missing_ok=True)  # confirmed: the bucket has it
        finally:
            lock.close()
        self.uploaded_files += 1
        self.uploaded_bytes += size
        self.recent_uploads.append(key)
        if self._failing:
            log.info("S3 sink '%s': uploads work again (%d failed attempts so far).", self.name, self.failed_uploads)
            self._failing = False
        log.info("S3 sink '%s': uploaded %s (%d bytes).", self.name, self.url(key), size)
        return True


def _lock(path: Path) -> BinaryIO | None:
    """The file opened and exclusively locked, or None when it is gone or locked by another process."""
    try:
        handle = open(path, "rb")  # noqa: SIM115 - closed by the caller after the upload
    except FileNotFoundError:
        return None
    except OSError as exc:  # e.g. permissions: say so at every scan, and go on with the other files
        log.error("S3 sink: cannot read %s to upload it: %s", path, exc)
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
