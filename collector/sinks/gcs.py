"""Divolte's Cloud Storage sink (``type = gcs``): the file sink's Avro files, uploaded to a bucket once complete.

Files are named, synced and rolled exactly as by the file sink (``file_strategy``), built in a local directory,
``<local_dir>/<sink name>/`` (an addition, default ``/tmp/divolte-gcs``), and uploaded on roll (the upload
queue of ``collector.sinks.uploads``: retries with ``retry_settings``, backlog, recovery after a crash) to
``<publish_dir>/<file name>`` in ``bucket``, the name Divolte publishes under. Durability: records are on
local disk (fsync) at every sync and in the bucket once their file rolls; an outage of Cloud Storage or a
crash costs local disk, not records.

Deliberate difference from Divolte: Divolte uploads every sync as a part and composes it into an in-flight
object ``<working_dir>/<file name>``, so records show in the bucket while their file is open. That costs two
requests per sync and rewrites one object name per sync, which Cloud Storage rate-limits to about once a
second per object, and a failed request discards the file. Here ``working_dir`` has no objects; readers see
complete files only (the measurement is in the README's GCS section). ``retry_settings``: the delays and
jitter are used; ``max_attempts`` and ``total_timeout`` are accepted but uploads never give up, since giving
up would lose the file.

At start-up the credentials and the bucket are checked, as in Divolte (``collector.sinks.gcs_store``).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import aiohttp
from gcloud.aio.storage import Storage

from collector.avro.schemas import Schema
from collector.config.settings import GcsSinkSettings
from collector.errors import ConfigError
from collector.sinks.file import local_directory
from collector.sinks.gcs_store import (
    CONTENT_TYPE,
    bucket_name,
    check_access,
    credentials_file,
    describe_error,
    object_name,
    open_storage,
)
from collector.sinks.uploads import UploadingSink


class GcsSink(UploadingSink):
    """A file sink whose publish directory is a queue of uploads to Cloud Storage."""

    kind = "GCS"

    def __init__(
        self,
        settings: GcsSinkSettings,
        schema: Schema,
        shards: int,
        *,
        hostname: str | None = None,
        write_timeout: float = 60.0,
        env: Mapping[str, str] | None = None,
    ) -> None:
        key = f"divolte.sinks.{settings.name}"
        self.bucket = bucket_name(settings.bucket, f"{key}.bucket")
        self.env = os.environ if env is None else env
        credentials_file(self.env)  # a broken credentials file is a configuration error, reported with the others
        local_key = f"{key}.local_dir"
        base = local_directory(settings.local_dir, local_key)
        try:
            base.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ConfigError(f"{local_key}: cannot create {base}: {exc}") from exc
        super().__init__(
            settings.name, settings.file_strategy, schema, shards, local=base / settings.name, local_key=local_key,
            retry=settings.retry_settings, hostname=hostname, write_timeout=write_timeout,
        )  # fmt: skip
        self.settings = settings
        self.storage: Storage | None = None

    @property
    def destination(self) -> str:
        return f"gs://{self.bucket}"

    def object_key(self, file_name: str) -> str:
        return object_name(self.settings.file_strategy.publish_dir, file_name)

    async def start(self) -> None:
        """Check the credentials and the bucket (a ``SinkError`` that stops the start-up), then upload what an
        earlier process left and go on as the file sink."""
        storage = open_storage(self.env)
        try:
            await check_access(storage, self.bucket, f"divolte.sinks.{self.name}", self.env)
        except BaseException:
            await storage.close()
            raise
        self.storage = storage
        await super().start()

    async def aclose(self) -> None:
        await super().aclose()
        if self.storage is not None:
            await self.storage.close()

    async def _put(self, key: str, path: Path) -> None:
        """One upload (a single request up to 5 MiB, a resumable upload above), streamed from the file."""
        storage = self.storage
        assert storage is not None, "started"
        timeout = int(self.write_timeout * (1 + path.stat().st_size // self.chunk_bytes))
        with open(path, "rb") as data:
            await storage.upload(self.bucket, key, data, content_type=CONTENT_TYPE, timeout=timeout)

    def expected_error(self, exc: Exception) -> bool:
        return isinstance(exc, aiohttp.ClientError | TimeoutError | OSError)

    def describe_error(self, exc: BaseException) -> str:
        return describe_error(exc)
