"""Cloud Storage naming, URLs, credentials checks and error wording (no server needed), and the upload retry delays."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import aiohttp
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from collector.config.settings import RetrySettings
from collector.errors import ConfigError
from collector.sinks.gcs_store import (
    bucket_name,
    credentials_file,
    describe_credentials,
    describe_error,
    emulator,
    object_name,
    parse_gs_url,
)
from collector.sinks.uploads import retry_delays


def test_bucket_names_with_or_without_the_scheme() -> None:
    assert bucket_name("clicks", "k") == "clicks"
    assert bucket_name("gs://clicks", "k") == "clicks"
    assert bucket_name("gs://clicks/", "k") == "clicks"
    for bad in ("gs://bucket/folder", "", "gs://"):
        with pytest.raises(ConfigError, match=r"^k: .* is not a bucket name"):
            bucket_name(bad, "k")


def test_object_names_keep_publish_dir_verbatim_as_divolte() -> None:
    name = "20240131093055-divolte-tracking-host-1.avro"
    assert object_name("/tmp", name) == f"/tmp/{name}"  # Divolte's default publish_dir
    assert object_name("divolte/published", name) == f"divolte/published/{name}"


def test_gs_urls() -> None:
    assert parse_gs_url("gs://b/a/c.avro") == ("b", "a/c.avro")
    assert parse_gs_url("gs://b//tmp/") == ("b", "/tmp/")
    assert parse_gs_url("gs://b") == ("b", "")
    with pytest.raises(ValueError, match="names no bucket"):
        parse_gs_url("gs:///x")
    with pytest.raises(ValueError, match="not a gs:// URL"):
        parse_gs_url("s3://b/x")


def test_the_emulator_variable_as_google_clients_read_it() -> None:
    assert emulator({}) is None
    assert emulator({"STORAGE_EMULATOR_HOST": "127.0.0.1:4443"}) == "http://127.0.0.1:4443"
    assert emulator({"STORAGE_EMULATOR_HOST": "http://127.0.0.1:4443/"}) == "http://127.0.0.1:4443"
    assert describe_credentials({"STORAGE_EMULATOR_HOST": "h:1"}).startswith("none (the emulator at http://h:1")


def test_which_credentials_are_described(tmp_path: Path) -> None:
    assert describe_credentials({"HOME": str(tmp_path)}).startswith("the metadata server")
    well_known = tmp_path / ".config" / "gcloud" / "application_default_credentials.json"
    well_known.parent.mkdir(parents=True)
    well_known.write_text("{}")
    assert describe_credentials({"HOME": str(tmp_path)}) == f"gcloud's application default credentials ({well_known})"


def service_account(tmp_path: Path, **overrides: str) -> Path:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    data = {"type": "service_account", "client_email": "c@p.iam.gserviceaccount.com", "private_key": pem.decode()}
    path = tmp_path / "key.json"
    path.write_text(json.dumps({**data, **overrides}))
    return path


def test_a_valid_service_account_key_is_accepted(tmp_path: Path) -> None:
    path = service_account(tmp_path)
    env = {"GOOGLE_APPLICATION_CREDENTIALS": str(path)}
    assert credentials_file(env) == path
    assert describe_credentials(env) == f"GOOGLE_APPLICATION_CREDENTIALS={path}"
    assert credentials_file({}) is None


def test_broken_credentials_files_say_what_is_wrong(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.json"
    with pytest.raises(ConfigError, match=f"GOOGLE_APPLICATION_CREDENTIALS={missing}: cannot read the file"):
        credentials_file({"GOOGLE_APPLICATION_CREDENTIALS": str(missing)})
    user = tmp_path / "user.json"
    user.write_text('{"type": "authorized_user", "client_id": "x"}')
    with pytest.raises(ConfigError, match="the authorized_user credentials lack client_secret, refresh_token"):
        credentials_file({"GOOGLE_APPLICATION_CREDENTIALS": str(user)})
    with pytest.raises(ConfigError, match="is not a valid PEM key"):
        credentials_file({"GOOGLE_APPLICATION_CREDENTIALS": str(service_account(tmp_path, private_key="nope"))})


def test_errors_are_one_line_with_googles_message() -> None:
    body = '{"error": {"code": 403, "message": "c@p does not have storage.objects.create access"}}'
    exc = aiohttp.ClientResponseError(None, (), status=403, message=f"Forbidden: {body}")  # type: ignore[arg-type]
    assert describe_error(exc) == "HTTP 403: Forbidden: c@p does not have storage.objects.create access"
    assert describe_error(ConnectionRefusedError(111, "Connect call failed")) == (
        "ConnectionRefusedError: [Errno 111] Connect call failed"
    )
    assert describe_error(TimeoutError()) == "TimeoutError"


def test_retry_delays_grow_to_the_cap_with_jitter() -> None:
    plain = list(itertools.islice(retry_delays(RetrySettings(initial_retry_delay=1, max_retry_delay=5)), 5))
    assert plain == [1, 2, 4, 5, 5]
    jittered = list(itertools.islice(retry_delays(RetrySettings(max_retry_delay=64, jitter_delay=1.0)), 8))
    assert all(base <= delay <= base + 1 for base, delay in zip([1, 2, 4, 8, 16, 32, 64, 64], jittered, strict=True))
    factor = list(itertools.islice(retry_delays(RetrySettings(initial_retry_delay=10, jitter_factor=0.5)), 3))
    assert all(base <= delay <= base * 1.5 for base, delay in zip([10, 20, 40], factor, strict=True))
