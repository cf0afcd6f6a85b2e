"""The Pub/Sub sink against a real Pub/Sub server (pstest): bytes and attributes as Divolte's, start-up errors.

Messages are pulled through a subscription with the official client and decoded with Apache Avro and Divolte's
schema file, independent of the sink's fastavro encoding and its own gRPC calls.
"""

from __future__ import annotations

import asyncio
import io
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import cast

import avro.io
import avro.schema
import pytest

from collector.config.settings import GcpsSinkSettings, RetrySettings
from collector.errors import ConfigError
from collector.events import EncodedRecord
from collector.sinks.pubsub import PubsubChannel, PubsubSink, default_credentials
from collector.sinks.runner import SinkRunner
from tests.integration.collector_process import StartCollector
from tests.integration.kafka.records import event_number, party_id, send_events
from tests.integration.pubsub.conftest import PROJECT, Pubsub
from tests.paths import DEFAULT_SCHEMA_FILE
from tests.vectors import load_vectors

pytestmark = pytest.mark.integration

DEFAULT_FINGERPRINT = "zfEZRrGHh1PcoqLiFMzy8LVVg46vbqHfkSsbEN-yZnY"
"""SPEC §9.5: the default schema's ``schemaFingerprint``, as Divolte computes it."""
SCHEMA = avro.schema.parse(DEFAULT_SCHEMA_FILE.read_text())
VECTOR = load_vectors()["avro_default_record"]
PAYLOAD = bytes.fromhex(VECTOR["avro_binary_hex"])


def decode(data: bytes) -> dict[str, object]:
    reader = avro.io.DatumReader(SCHEMA)
    return cast(dict[str, object], reader.read(avro.io.BinaryDecoder(io.BytesIO(data))))


def sink(pubsub: Pubsub, topic: str, *, confluent_id: int | None = None) -> PubsubSink:
    settings = GcpsSinkSettings(
        name="pubsub", topic=topic, retry_settings=RetrySettings(total_timeout=2.0, initial_retry_delay=0.005,
                                                                 initial_rpc_timeout=5.0, rpc_timeout_multiplier=2.0),
        batching_settings={"element_count_threshold": 100, "request_bytes_threshold": 1000},
    )  # fmt: skip
    return PubsubSink(settings, PROJECT, PubsubChannel(pubsub.host), DEFAULT_SCHEMA_FILE.read_text(), confluent_id)


async def publish(target: PubsubSink, records: list[EncodedRecord]) -> None:
    runner = SinkRunner(target, capacity=len(records) + 1)
    await runner.start()
    for record in records:
        assert runner.offer(record)
    deadline = time.monotonic() + 30
    while runner.written < len(records):
        assert time.monotonic() < deadline, runner.statistics()
        await asyncio.sleep(0.01)
    await runner.aclose(timeout=10)


def test_each_record_is_a_message_with_its_avro_bytes_and_divoltes_attributes(pubsub: Pubsub) -> None:
    topic = pubsub.create_topic()
    # 1472045379412 ms is 2016-08-24T13:29:39.412Z; a whole second prints no fraction; 10 ms prints ".010".
    times = [1472045379412, 1472045379000, 1472045379010]
    # 250 records of 430 bytes: Divolte's 1,000-byte requests hold two each: 125 requests, sent concurrently.
    records = [EncodedRecord(party_id(i), times[i % 3], PAYLOAD, f"0:ev{i:04d}:{'e' * 20}") for i in range(250)]
    asyncio.run(publish(sink(pubsub, topic), records))

    messages = pubsub.pull(topic, len(records))
    assert len(messages) == len(records)
    by_event = {m.attributes["eventIdentifier"]: m for m in messages}
    expected_timestamps = ["2016-08-24T13:29:39.412Z", "2016-08-24T13:29:39Z", "2016-08-24T13:29:39.010Z"]
    for i, record in enumerate(records):
        message = by_event[record.event_id]
        assert message.data == PAYLOAD
        assert dict(message.attributes) == {
            "schemaFingerprint": DEFAULT_FINGERPRINT,
            "partyIdentifier": record.party_id,
            "eventIdentifier": record.event_id,
            "timestamp": expected_timestamps[i % 3],
        }
        assert message.ordering_key == ""
    assert decode(messages[0].data) == VECTOR["record"]  # Apache Avro reads back the record Divolte's mapping made
    assert VECTOR["pubsub_schemaFingerprint_default_schema"] == DEFAULT_FINGERPRINT


def test_a_mapping_with_a_confluent_id_adds_schema_confluent_id(pubsub: Pubsub) -> None:
    topic = pubsub.create_topic()
    records = [EncodedRecord(party_id(1), 1472045379412, PAYLOAD, "0:ev:1")]
    asyncio.run(publish(sink(pubsub, topic, confluent_id=0x252), records))
    (message,) = pubsub.pull(topic, 1)
    assert message.attributes["schemaConfluentId"] == "0x252"
    assert message.attributes["schemaFingerprint"] == DEFAULT_FINGERPRINT
    assert message.data == PAYLOAD  # never framed, unlike Kafka's confluent mode


def test_a_missing_topic_stops_the_start_with_the_fix(pubsub: Pubsub) -> None:
    async def start() -> None:
        await sink(pubsub, "no-such-topic").start()

    with pytest.raises(ConfigError) as error:
        asyncio.run(start())
    message = str(error.value)
    assert f"Pub/Sub topic projects/{PROJECT}/topics/no-such-topic does not exist" in message
    assert f"gcloud pubsub topics create no-such-topic --project {PROJECT}" in message


def gcps_config(topic: str, spool: Path, extra_global: str = "") -> str:
    return f"""
divolte {{
  global {{
    gcps {{
      enabled = true
      project_id = "{PROJECT}"
      spool_dir = "{spool}"
      {extra_global}
    }}
    hdfs.enabled = false
  }}
  sources.browser.type = browser
  sinks.pubsub {{
    type = gcps
    topic = "{topic}"
  }}
  mappings.test {{
    sources = [browser]
    sinks = [pubsub]
  }}
}}
"""


def test_the_collector_publishes_browser_events(
    pubsub: Pubsub, start_collector: StartCollector, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The whole path in a collector process: configuration, the sink's start-up check, the records."""
    monkeypatch.setenv("PUBSUB_EMULATOR_HOST", pubsub.host)
    topic = pubsub.create_topic()
    collector = start_collector(gcps_config(topic, tmp_path / "spool"))
    events = [(party, event) for event in range(5) for party in range(20)]
    send_events(collector.base_url, events)
    messages = pubsub.pull(topic, len(events))
    assert collector.stop() == 0
    assert sorted(event_number(decode(m.data)) for m in messages) == sorted(events)
    for message in messages:
        party, event = event_number(decode(message.data))
        assert message.attributes["partyIdentifier"] == party_id(party)
        assert message.attributes["eventIdentifier"] == f"0:pv{party:08d}{event:08d}0"
        assert message.attributes["schemaFingerprint"] == DEFAULT_FINGERPRINT
        assert message.attributes["timestamp"].endswith("Z")
    assert f"publishing to projects/{PROJECT}/topics/{topic}" in collector.log()


def test_a_missing_topic_or_unusable_credentials_stop_the_collector_with_the_fix(
    pubsub: Pubsub, start_collector: StartCollector, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PUBSUB_EMULATOR_HOST", pubsub.host)
    missing = start_collector(gcps_config("not-created", tmp_path / "spool-1"), wait=False)
    assert missing.process.wait(30) != 0  # uvicorn's code for a failed start-up (3)
    assert "ERROR [collector.sinks.pubsub]: Cannot start: divolte.sinks.pubsub: Pub/Sub topic" in missing.log()
    assert "does not exist" in missing.log() and "gcloud pubsub topics create not-created" in missing.log()
    assert "Traceback" not in missing.log(), missing.log()  # the cause and its fix, not under a stack trace

    monkeypatch.delenv("PUBSUB_EMULATOR_HOST")
    key = tmp_path / "key.json"
    key.write_text(json.dumps({"type": "service_account", "project_id": PROJECT}))  # no key in it
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(key))
    bad = start_collector(gcps_config("any", tmp_path / "spool-2"), wait=False)
    assert bad.process.wait(30) == 1  # refused with the configuration, before the server starts
    log = bad.log()
    assert "Configuration error:\n  - divolte.global.gcps: the Google Cloud credentials for Pub/Sub cannot be used " \
           f"(GOOGLE_APPLICATION_CREDENTIALS={key})" in log  # fmt: skip
    assert "Point GOOGLE_APPLICATION_CREDENTIALS at a valid service-account key file" in log


def test_pubsub_unreachable_at_start_up_keeps_the_records_until_it_answers(
    pubsub_factory: Callable[[], Pubsub],
) -> None:
    """Only what a person must fix stops the start; an outage does not: the records wait and go out later."""
    server = pubsub_factory()
    topic = server.create_topic()
    server.server.stop()

    async def scenario() -> SinkRunner:
        runner = SinkRunner(sink(server, topic), capacity=100)
        await runner.start()  # logs that Pub/Sub cannot be reached, and starts
        for i in range(10):
            runner.offer(EncodedRecord(party_id(i), 1472045379412, PAYLOAD, f"0:ev{i}"))
        await asyncio.sleep(3.0)  # the sink's retry_settings give up after 2 s: the runner keeps the batch
        assert runner.written == 0 and runner.statistics().failing
        await asyncio.to_thread(server.server.start)
        await asyncio.to_thread(server.connect)
        await asyncio.to_thread(server.create_topic, topic)
        deadline = time.monotonic() + 30
        while runner.written < 10:
            assert time.monotonic() < deadline, runner.statistics()
            await asyncio.sleep(0.05)
        await runner.aclose(timeout=10)
        return runner

    asyncio.run(scenario())
    assert sorted(m.attributes["eventIdentifier"] for m in server.pull(topic, 10)) == [f"0:ev{i}" for i in range(10)]


def service_account_key(path: Path) -> None:
    """A well-formed service-account key file (its key is made here, and never accepted by Google)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    path.write_text(json.dumps({
        "type": "service_account", "project_id": PROJECT, "private_key_id": "0" * 40, "private_key": pem.decode(),
        "client_email": f"collector@{PROJECT}.iam.gserviceaccount.com", "client_id": "1",
        "token_uri": "http://127.0.0.1:9/token",
    }))  # fmt: skip


def test_a_valid_key_file_opens_an_authorised_channel(
    pubsub: Pubsub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Without an emulator the sink loads Application Default Credentials and opens a TLS channel; pointed at
    the (plaintext) test server instead of Google, the handshake fails, which is an outage: it starts anyway."""
    import collector.sinks.pubsub as module

    monkeypatch.delenv("PUBSUB_EMULATOR_HOST", raising=False)
    service_account_key(tmp_path / "key.json")
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(tmp_path / "key.json"))
    monkeypatch.setattr(module, "ENDPOINT", pubsub.host)
    target = sink(pubsub, "any")
    target.channel = PubsubChannel(None, default_credentials())

    async def start() -> None:
        await target.start()
        await target.aclose()

    asyncio.run(start())
    assert f"cannot reach Pub/Sub at {pubsub.host}" in caplog.text


def test_several_worker_processes_publish_with_spools_of_their_own(
    pubsub: Pubsub, start_collector: StartCollector, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """gRPC is loaded in each worker after the fork (never in the fork server), and each worker spools apart."""
    monkeypatch.setenv("PUBSUB_EMULATOR_HOST", pubsub.host)
    topic = pubsub.create_topic()
    config = gcps_config(topic, tmp_path / "spool").replace("hdfs.enabled = false", "hdfs.enabled = false\n"
                                                             "    server.processes = 2")  # fmt: skip
    collector = start_collector(config)
    events = [(party, event) for event in range(10) for party in range(30)]
    for start in range(0, len(events), 50):  # several connections, so both workers get some
        send_events(collector.base_url, events[start : start + 50])
    messages = pubsub.pull(topic, len(events))
    assert collector.stop() == 0
    assert sorted(event_number(decode(m.data)) for m in messages) == sorted(events)
    assert (tmp_path / "spool" / "pubsub").is_dir() and (tmp_path / "spool" / "worker-1" / "pubsub").is_dir()


def test_credentials_that_may_not_publish_keep_the_records_until_they_may(
    pubsub_factory: Callable[[], Pubsub], caplog: pytest.LogCaptureFixture
) -> None:
    """roles/pubsub.publisher alone may not look topics up: the start-up check is skipped with a warning. A
    publish refused for permission is kept (spool, retries) with the fix logged, and goes out once allowed."""
    server = pubsub_factory()
    topic = server.create_topic()
    server.server.stop()
    server.server.deny = ["GetTopic", "Publish"]
    server.server.start()
    server.connect()
    server.create_topic(topic)

    async def scenario() -> None:
        runner = SinkRunner(sink(server, topic), capacity=100)
        await runner.start()
        runner.offer(EncodedRecord(party_id(1), 1472045379412, PAYLOAD, "0:ev:1"))
        await asyncio.sleep(1.0)
        assert runner.written == 0 and runner.statistics().failing
        server.server.stop()
        server.server.deny = []
        await asyncio.to_thread(server.server.start)
        await asyncio.to_thread(server.connect)
        await asyncio.to_thread(server.create_topic, topic)
        deadline = time.monotonic() + 30
        while runner.written < 1:
            assert time.monotonic() < deadline, runner.statistics()
            await asyncio.sleep(0.05)
        await runner.aclose(timeout=10)

    asyncio.run(scenario())
    assert [m.attributes["eventIdentifier"] for m in server.pull(topic, 1)] == ["0:ev:1"]
    assert f"not allowed to look topic projects/{PROJECT}/topics/{topic} up" in caplog.text
    assert "cannot be used (PERMISSION_DENIED)" in caplog.text and "roles/pubsub.publisher" in caplog.text
