"""The S3 sink (``type = s3``): the file sink's Avro files, uploaded to a bucket once complete.

Files are built locally in ``<working_dir>/<sink name>/`` and uploaded on roll from its ``upload/`` folder
(``collector.sinks.uploads``: the upload queue, its retries, backlog and recovery), under
``<prefix><key_pattern>``, by default ``prefix/dt=YYYY-MM-DD/hour=HH/<file name>``, as a multipart upload
above 8 MiB. S3 makes an object visible only when its upload completes, so readers never see a partial file.
Uploads run on the event loop through obstore's async API (the transfer itself runs in obstore's Rust runtime).
"""

from __future__ import annotations

from pathlib import Path

import obstore
import obstore.exceptions
from obstore.store import S3Store

from collector.avro.schemas import Schema
from collector.config.settings import S3SinkSettings
from collector.sinks.file import check_directory, local_directory
from collector.sinks.s3_store import check_key_pattern, describe_error, object_key, open_store
from collector.sinks.uploads import UploadingSink

MULTIPART_CHUNK_BYTES = 8 * 1024 * 1024
"""Files larger than this are uploaded in parts of this size (S3's minimum part is 5 MiB)."""


class S3Sink(UploadingSink):
    """A file sink whose publish directory is a queue of uploads to S3."""

    kind = "S3"
    chunk_bytes = MULTIPART_CHUNK_BYTES

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
        super().__init__(
            settings.name, settings.file_strategy, schema, shards, local=base / settings.name, local_key=working_key,
            retry=settings.retry_settings, hostname=hostname, write_timeout=write_timeout,
        )  # fmt: skip
        self.settings = settings
        self.store = store or open_store(settings.bucket, region=settings.region, endpoint=settings.endpoint)

    @property
    def destination(self) -> str:
        return f"s3://{self.settings.bucket}"

    def object_key(self, file_name: str) -> str:
        return object_key(self.settings.prefix, self.settings.key_pattern, file_name, self.name)

    async def _put(self, key: str, path: Path) -> None:
        """The one call that talks to S3 (a multipart upload above ``MULTIPART_CHUNK_BYTES``)."""
        await obstore.put_async(self.store, key, path, chunk_size=MULTIPART_CHUNK_BYTES)

    def expected_error(self, exc: Exception) -> bool:
        return isinstance(exc, obstore.exceptions.BaseError | OSError)

    def describe_error(self, exc: BaseException) -> str:
        return describe_error(exc)
