"""The GCS sink in this process against a real Cloud Storage emulator: object names, content, the resumable
upload of a large file, the start-up checks of bucket and credentials, and a shutdown that cannot upload."""

from __future__ import annotations

import io
import json
import os
import re
from pathlib import Path
from typing import Any, cast

import avro.datafile
import avro.io
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from collector.avro.encode import RecordEncoder
from collector.avro.schemas import parse_schema_text
from collector.config.settings import FileStrategySettings, GcsSinkSettings, RetrySettings
from collector.errors import ConfigError, SinkError
from collector.events import EncodedRecord
from collector.sinks import uploads
from collector.sinks.gcs import GcsSink
from collector.tools.cat import cat
from tests.servers.gcs.server import FakeGcsServer, free_port

pytestmark = pytest.mark.integration

SCHEMA = parse_schema_text(
    '{"type": "record", "name": "Blob", "fields": [{"name": "n", "type": "int"}, {"name": "data", "type": "bytes"}]}',
    "test",
)
ENCODER = RecordEncoder(SCHEMA)


def make_sink(tmp_path: Path, bucket: str, *, publish_dir: str = "/divolte/published") -> GcsSink:
    settings = GcsSinkSettings(
        name="lake", bucket=bucket, local_dir=str(tmp_path / "local"),
        file_strategy=FileStrategySettings(working_dir="/divolte/inflight", publish_dir=publish_dir,
                                           sync_file_after_records=100),
        retry_settings=RetrySettings(initial_retry_delay=0.1, retry_delay_multiplier=2.0, max_retry_delay=0.5,
                                     jitter_delay=0.05),
    )  # fmt: skip
    return GcsSink(settings, SCHEMA, 1, hostname="testhost")


def blobs(start: int, count: int, size: int) -> list[EncodedRecord]:
    numbers = range(start, start + count)
    return [EncodedRecord("0:a:b", 0, ENCODER.encode({"n": n, "data": os.urandom(size)})) for n in numbers]


def apache_records(data: bytes) -> list[dict[str, Any]]:
    return [cast(dict[str, Any], r) for r in avro.datafile.DataFileReader(io.BytesIO(data), avro.io.DatumReader())]


async def test_files_are_published_under_publish_dir_as_divolte_names_them(
    gcs: FakeGcsServer, bucket: str, tmp_path: Path
) -> None:
    sink = make_sink(tmp_path, f"gs://{bucket}")
    await sink.start()
    await sink.write_batch(blobs(0, 250, 100))
    await sink.aclose()
    (name,) = gcs.names(bucket)
    assert re.fullmatch(r"/divolte/published/\d{14}-divolte-tracking-testhost-\d+\.avro", name), name
    assert sink.recent_uploads[-1] == name
    assert [r["n"] for r in apache_records(gcs.read(bucket, name))] == list(range(250))
    assert (sink.uploaded_files, sink.failed_uploads, sink.backlog_files) == (1, 0, 0)


async def test_a_large_file_goes_up_as_a_resumable_upload(gcs: FakeGcsServer, bucket: str, tmp_path: Path) -> None:
    sink = make_sink(tmp_path, bucket, publish_dir="published")
    await sink.start()
    await sink.write_batch(blobs(0, 80, 100_000))  # 8 MB: above the 5 MiB of a single-request upload
    await sink.aclose()
    (name,) = gcs.names(bucket, "published/")
    data = gcs.read(bucket, name)
    assert len(data) > 8_000_000
    assert [r["n"] for r in apache_records(data)] == list(range(80))


async def test_a_missing_bucket_stops_the_start_with_the_fix(gcs: FakeGcsServer, tmp_path: Path) -> None:
    sink = make_sink(tmp_path, "no-such-bucket")
    with pytest.raises(SinkError) as raised:
        await sink.start()
    message = str(raised.value)
    assert "divolte.sinks.lake: bucket 'no-such-bucket' does not exist" in message
    assert "gcloud storage buckets create gs://no-such-bucket" in message
    assert not raised.value.retriable


def test_cat_says_what_is_missing(gcs: FakeGcsServer, bucket: str) -> None:
    err = io.StringIO()
    status = cat([f"gs://{bucket}/none.avro", f"gs://{bucket}/empty/", "gs://no-such-bucket/x/"], out=io.BytesIO(),
                 err=err)  # fmt: skip
    assert status == 1
    assert err.getvalue().splitlines() == [
        f"Error: gs://{bucket}/none.avro: no such bucket or object",
        f"Error: gs://{bucket}/empty/: no .avro objects under this prefix",
        "Error: gs://no-such-bucket/x/: no such bucket or object",
    ]


async def test_cloud_storage_out_of_reach_stops_the_start(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", f"http://127.0.0.1:{free_port()}")  # nothing listens there
    monkeypatch.delenv("GOOGLE_APPLICATION_CREDENTIALS", raising=False)
    sink = make_sink(tmp_path, "clicks")
    with pytest.raises(SinkError) as raised:
        await sink.start()
    assert str(raised.value).startswith("divolte.sinks.lake: cannot reach Cloud Storage to check bucket 'clicks': ")


def test_a_folder_in_the_bucket_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=re.escape("lake.bucket: 'gs://bucket/folder' is not a bucket name")):
        make_sink(tmp_path, "gs://bucket/folder")


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("{not json", "the file is not JSON"),
        ('{"type": "service_account", "client_email": "a@b.iam.gserviceaccount.com"}', "lack private_key"),
        (
            '{"type": "service_account", "client_email": "a@b", "private_key": "-----BEGIN PRIVATE KEY-----\\nAAAA\\n'
            '-----END PRIVATE KEY-----\\n"}',
            "the private_key of a@b is not a valid PEM key",
        ),
        ('{"type": "api_key"}', "credentials of type 'api_key' are not supported"),
    ],
)
def test_bad_credentials_are_a_start_up_error_naming_the_file(
    gcs: FakeGcsServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, content: str, expected: str
) -> None:
    path = tmp_path / "key.json"
    path.write_text(content)
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(path))
    with pytest.raises(ConfigError) as raised:
        make_sink(tmp_path, "any")
    assert f"GOOGLE_APPLICATION_CREDENTIALS={path}: " in str(raised.value)
    assert expected in str(raised.value)


async def test_credentials_that_get_no_token_stop_the_start_naming_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A well-formed key whose token endpoint does not answer (a closed port on 127.0.0.1): no emulator, so the
    start-up fetches a token first, as Divolte does, and says which credentials failed."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    path = tmp_path / "key.json"
    path.write_text(
        json.dumps(
            {
                "type": "service_account",
                "client_email": "c@p.iam.gserviceaccount.com",
                "private_key": pem.decode(),
                "token_uri": f"http://127.0.0.1:{free_port()}/token",
            }
        )
    )
    monkeypatch.delenv("STORAGE_EMULATOR_HOST", raising=False)
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(path))
    sink = make_sink(tmp_path, "any")
    with pytest.raises(SinkError) as raised:
        await sink.start()
    message = str(raised.value)
    assert message.startswith(
        f"divolte.sinks.lake: could not obtain Google credentials from "
        f"GOOGLE_APPLICATION_CREDENTIALS={path}: ClientConnectorError"
    ), message
    assert "run `gcloud auth application-default login`" in message


async def test_shutdown_keeps_what_it_cannot_upload_for_the_next_start(
    gcs: FakeGcsServer, bucket: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(uploads, "CLOSE_UPLOAD_SECONDS", 2.0)
    sink = make_sink(tmp_path, bucket)
    await sink.start()
    await sink.write_batch(blobs(0, 10, 1000))
    sink.bucket = "deleted-meanwhile"  # as if the bucket went away after the start-up check
    await sink.aclose()
    assert sink.failed_uploads >= 1
    assert sink.backlog_files == 1
    assert gcs.names(bucket) == []

    again = make_sink(tmp_path, bucket)
    await again.start()  # uploads what the last process left
    await again.aclose()
    (name,) = gcs.names(bucket)
    assert [r["n"] for r in apache_records(gcs.read(bucket, name))] == list(range(10))
    assert again.recent_uploads[-1] == name
