"""The S3 sink in this process against a real S3 server: multipart uploads, the backlog it reports while S3
is unreachable, and what shutdown does with files it cannot upload."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from collector.avro.encode import RecordEncoder
from collector.avro.schemas import parse_schema_text
from collector.config.settings import FileStrategySettings, RetrySettings, S3SinkSettings
from collector.events import EncodedRecord
from collector.sinks import uploads
from collector.sinks.s3 import MULTIPART_CHUNK_BYTES, S3Sink
from tests.integration.s3.moto_server import REGION, MotoServer, read_records

pytestmark = pytest.mark.integration

SCHEMA = parse_schema_text(
    '{"type": "record", "name": "Blob", "fields": [{"name": "n", "type": "int"}, {"name": "data", "type": "bytes"}]}',
    "test",
)
ENCODER = RecordEncoder(SCHEMA)


def make_sink(moto: MotoServer, tmp_path: Path, bucket: str = "blobs") -> S3Sink:
    settings = S3SinkSettings(
        name="lake", bucket=bucket, prefix="p/", region=REGION, endpoint=moto.endpoint,
        file_strategy=FileStrategySettings(working_dir=str(tmp_path), sync_file_after_records=100, codec="null"),
        retry_settings=RetrySettings(initial_retry_delay=0.1, retry_delay_multiplier=2.0, max_retry_delay=0.5),
    )  # fmt: skip
    return S3Sink(settings, SCHEMA, 1, hostname="testhost")


def blobs(start: int, count: int, size: int) -> list[EncodedRecord]:
    numbers = range(start, start + count)
    return [EncodedRecord("0:a:b", 0, ENCODER.encode({"n": n, "data": os.urandom(size)})) for n in numbers]


async def test_a_large_file_goes_up_in_parts(moto: MotoServer, tmp_path: Path) -> None:
    moto.create_bucket("blobs")
    sink = make_sink(moto, tmp_path)
    await sink.start()
    await sink.write_batch(blobs(0, 200, 100_000))  # 20 MB: three parts of 8 MiB
    await sink.aclose()
    (key,) = sink.recent_uploads
    assert (sink.uploaded_files, sink.failed_uploads) == (1, 0)
    assert sink.uploaded_bytes > 2 * MULTIPART_CHUNK_BYTES
    head = moto.client().head_object(Bucket="blobs", Key=key)
    assert head["ContentLength"] > 2 * MULTIPART_CHUNK_BYTES
    assert head["ETag"].endswith('-3"')  # S3's mark of a multipart upload: the number of parts
    (data,) = moto.objects("blobs").values()
    assert [r["n"] for r in read_records(data)] == list(range(200))
    assert sink.backlog_files == sink.backlog_bytes == 0


async def test_backlog_while_unreachable_and_shutdown_keeps_what_it_cannot_upload(
    moto: MotoServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(uploads, "CLOSE_UPLOAD_SECONDS", 2.0)
    sink = make_sink(moto, tmp_path, bucket="not-created-yet")
    await sink.start()
    await sink.write_batch(blobs(0, 10, 1000))
    await sink.aclose()  # publishes the file; the upload fails, so it stays for the next start
    assert sink.failed_uploads >= 1
    assert sink.backlog_files == 1
    assert sink.backlog_bytes > 10_000
    (waiting,) = sink.pending()
    assert waiting.parent == tmp_path / "lake" / "upload"

    moto.create_bucket("not-created-yet")
    again = make_sink(moto, tmp_path, bucket="not-created-yet")
    await again.start()  # uploads what the last process left
    await again.aclose()
    assert again.backlog_files == 0
    (data,) = moto.objects("not-created-yet").values()
    assert [r["n"] for r in read_records(data)] == list(range(10))
