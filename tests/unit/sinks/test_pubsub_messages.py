"""Pub/Sub messages as Divolte builds them: fingerprint, ISO_INSTANT timestamps, attributes, request grouping,
the retry loop of one publish request, and the ``divolte.global.gcps`` keys."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any

import grpc
import pytest

from collector.config import load
from collector.config.settings import RetrySettings
from collector.events import EncodedRecord
from collector.sinks.pubsub import publish_with_retry
from collector.sinks.pubsub_messages import (
    InstantFormatter,
    MessageBuilder,
    confluent_attribute,
    requests,
    schema_fingerprint,
)
from tests.paths import DEFAULT_SCHEMA_FILE


def test_the_default_schemas_fingerprint_is_the_one_divolte_computes() -> None:
    assert schema_fingerprint(DEFAULT_SCHEMA_FILE.read_text()) == "zfEZRrGHh1PcoqLiFMzy8LVVg46vbqHfkSsbEN-yZnY"


def test_the_fingerprint_ignores_what_the_canonical_form_drops_and_sees_what_it_keeps() -> None:
    schema = json.loads(DEFAULT_SCHEMA_FILE.read_text())
    documented = {**schema, "doc": "added documentation", "fields": [{**f, "doc": "x"} for f in schema["fields"]]}
    assert schema_fingerprint(json.dumps(documented, indent=4)) == schema_fingerprint(json.dumps(schema))
    renamed = {**schema, "fields": [{**schema["fields"][0], "name": "renamed"}, *schema["fields"][1:]]}
    assert schema_fingerprint(json.dumps(renamed)) != schema_fingerprint(json.dumps(schema))
    fingerprint = schema_fingerprint(json.dumps(schema))
    assert len(fingerprint) == 43 and "=" not in fingerprint and "+" not in fingerprint and "/" not in fingerprint


@pytest.mark.parametrize(
    ("millis", "text"),
    [
        (0, "1970-01-01T00:00:00Z"),
        (1472045379412, "2016-08-24T13:29:39.412Z"),
        (1472045379000, "2016-08-24T13:29:39Z"),
        (1472045379010, "2016-08-24T13:29:39.010Z"),
        (1472045379100, "2016-08-24T13:29:39.100Z"),
        (-1, "1969-12-31T23:59:59.999Z"),
    ],
)
def test_timestamps_are_javas_iso_instant(millis: int, text: str) -> None:
    assert InstantFormatter()(millis) == text


def test_the_formatter_reuses_a_second_only_for_that_second() -> None:
    instant = InstantFormatter()
    assert [instant(t) for t in (1000, 1999, 2000, 1500)] == [
        "1970-01-01T00:00:01Z", "1970-01-01T00:00:01.999Z", "1970-01-01T00:00:02Z", "1970-01-01T00:00:01.500Z",
    ]  # fmt: skip


def test_confluent_ids_are_javas_to_hex_string() -> None:
    assert confluent_attribute(0x252) == "0x252"
    assert confluent_attribute(0x1DEFACED) == "0x1defaced"
    assert confluent_attribute(-1) == "0xffffffff"


def test_attributes_are_exactly_divoltes() -> None:
    record = EncodedRecord("0:party:p", 1472045379412, b"avro", "0:event:e")
    plain = MessageBuilder(dict, "fp", None).attributes(record)
    assert plain == {
        "schemaFingerprint": "fp", "partyIdentifier": "0:party:p", "eventIdentifier": "0:event:e",
        "timestamp": "2016-08-24T13:29:39.412Z",
    }  # fmt: skip
    assert MessageBuilder(dict, "fp", 594).attributes(record) == {**plain, "schemaConfluentId": "0x252"}


def sized(*sizes: int) -> list[EncodedRecord]:
    return [EncodedRecord("p", 0, b"x" * size, "e") for size in sizes]


def test_requests_close_before_the_byte_threshold_and_at_the_count_threshold() -> None:
    records = sized(430, 430, 430, 430, 430)
    assert list(requests(records, range(5), 100, 1000)) == [[0, 1], [2, 3], [4]]
    assert list(requests(records, range(5), 2, 10**6)) == [[0, 1], [2, 3], [4]]
    assert list(requests(records, [1, 3, 4], 100, 10**6)) == [[1, 3, 4]]
    assert list(requests(sized(5000, 10), range(2), 100, 1000)) == [[0], [1]]  # a large message goes alone


def test_requests_stay_within_pubsubs_limits() -> None:
    many = sized(*[1] * 2500)
    assert [len(group) for group in requests(many, range(2500), 10**9, 10**12)] == [1000, 1000, 500]
    big = sized(*[4 * 1024 * 1024] * 3)
    assert list(requests(big, range(3), 100, 10**12)) == [[0, 1], [2]]


def failure(code: grpc.StatusCode) -> grpc.aio.AioRpcError:
    return grpc.aio.AioRpcError(code, grpc.aio.Metadata(), grpc.aio.Metadata(), details="injected")


class Flaky:
    """A publish call that fails ``failures`` times with ``code``, then answers; records each attempt."""

    def __init__(self, failures: int, code: grpc.StatusCode = grpc.StatusCode.UNAVAILABLE) -> None:
        self.failures = failures
        self.code = code
        self.attempts: list[tuple[float, float]] = []

    async def __call__(self, request: Any, *, timeout: float) -> str:
        self.attempts.append((time.monotonic(), timeout))
        if len(self.attempts) <= self.failures:
            raise failure(self.code)
        return "published"


RETRY = RetrySettings(total_timeout=5.0, initial_retry_delay=0.01, retry_delay_multiplier=2.0, max_retry_delay=0.04,
                      initial_rpc_timeout=1.0, rpc_timeout_multiplier=2.0, max_rpc_timeout=3.0)  # fmt: skip


def test_retriable_failures_are_retried_with_growing_delays_and_rpc_timeouts() -> None:
    publish = Flaky(4)
    assert asyncio.run(publish_with_retry(publish, "request", RETRY)) == "published"
    assert len(publish.attempts) == 5
    gaps = [b[0] - a[0] for a, b in zip(publish.attempts, publish.attempts[1:], strict=False)]
    assert gaps[0] >= 0.01 and gaps[1] >= 0.02 and gaps[2] >= 0.04 and gaps[3] >= 0.04  # capped by max_retry_delay
    assert [round(t, 1) for _, t in publish.attempts[:3]] == [1.0, 2.0, 3.0]  # capped by max_rpc_timeout


def test_max_attempts_and_total_timeout_end_the_retries() -> None:
    limited = Flaky(10)
    with pytest.raises(grpc.aio.AioRpcError):
        asyncio.run(publish_with_retry(limited, "request", RetrySettings(**{**_fields(RETRY), "max_attempts": 3})))
    assert len(limited.attempts) == 3
    timed = Flaky(10**6)
    started = time.monotonic()
    with pytest.raises(grpc.aio.AioRpcError):
        asyncio.run(publish_with_retry(timed, "request", RetrySettings(**{**_fields(RETRY), "total_timeout": 0.3})))
    assert 0.2 < time.monotonic() - started < 1.0


def test_a_code_that_is_not_retriable_fails_at_once() -> None:
    missing = Flaky(1, grpc.StatusCode.NOT_FOUND)
    with pytest.raises(grpc.aio.AioRpcError):
        asyncio.run(publish_with_retry(missing, "request", RETRY))
    assert len(missing.attempts) == 1


def _fields(settings: RetrySettings) -> dict[str, Any]:
    return {name: getattr(settings, name) for name in RetrySettings.__dataclass_fields__}


def test_the_gcps_spool_keys(tmp_path: Path) -> None:
    config = tmp_path / "c.conf"
    config.write_text('divolte.global.gcps { enabled = true, project_id = p, spool_dir = "/var/spool/x", '
                      "spool_max_bytes = 1000 }")  # fmt: skip
    gcps = load(config, env={}).global_.gcps
    assert (gcps.project_id, gcps.spool_dir, gcps.spool_max_bytes, gcps.threads) == ("p", "/var/spool/x", 1000, 2)
    assert load(None, env={"GOOGLE_CLOUD_PROJECT": "from-env"}).global_.gcps.spool_dir == "/tmp/divolte-spool"


def test_each_worker_process_spools_pubsub_records_in_a_folder_of_its_own() -> None:
    from collector.server.workers import settings_for

    settings = load(None, env={})
    assert settings_for(settings, 0).global_.gcps.spool_dir == "/tmp/divolte-spool"
    assert settings_for(settings, 3).global_.gcps.spool_dir == "/tmp/divolte-spool/worker-3"
