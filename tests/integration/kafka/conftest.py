"""A real Kafka broker for the Kafka sink's tests, an independent consumer, and browser events to send.

The broker (``tests/servers/kafka/broker.py``) is shared by the session; tests that stop or break a broker get one
of their own from ``kafka_factory``. Records are read back with confluent-kafka (librdkafka), a client
independent of the aiokafka producer under test. Without Java and Maven the tests are skipped, except in
CI (``CI`` set), where that is a failure.
"""

from __future__ import annotations

import http.client
import io
import os
import subprocess
import tempfile
import time
import urllib.parse
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import avro.io
import avro.schema
import mmh3
import pytest
from confluent_kafka import Consumer, TopicPartition
from confluent_kafka.admin import AdminClient, AlterConfigOpType, ConfigEntry, ConfigResource, NewTopic

from collector.protocol.base36 import to_base36
from collector.protocol.checksum import canonical_string
from tests.integration.conftest import RunningCollector
from tests.paths import SHARED
from tests.servers.kafka.broker import JARS, KafkaBroker, KafkaUnavailable, fetch
from tests.servers.kafka.secured import Certificates, secured_broker

DIVOLTE_SCHEMA = avro.schema.parse((SHARED / "DefaultEventRecord.avsc").read_text())
JAVA_REFERENCE = Path(__file__).resolve().parents[2] / "servers" / "kafka" / "Murmur2Reference.java"

USER_AGENT = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_10_1) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/38.0.2125.122 Safari/537.36"
)


@dataclass
class Consumed:
    topic: str
    partition: int
    key: bytes
    value: bytes
    timestamp: int


class Broker:
    """A running broker plus admin and consumer helpers (confluent-kafka)."""

    def __init__(self, broker: KafkaBroker) -> None:
        self.broker = broker

    @property
    def bootstrap(self) -> str:
        return self.broker.bootstrap

    def admin(self) -> AdminClient:
        return AdminClient({"bootstrap.servers": self.bootstrap})

    def create_topic(self, partitions: int = 1, name: str | None = None, **config: str) -> str:
        topic = name or f"t-{uuid.uuid4().hex[:10]}"
        new = NewTopic(topic, num_partitions=partitions, replication_factor=1, config=config)
        admin = self.admin()  # kept referenced until the futures are done
        for future in admin.create_topics([new]).values():
            future.result(30)
        return topic

    def alter_topic(self, topic: str, **config: str) -> None:
        entries = [ConfigEntry(k, v, incremental_operation=AlterConfigOpType.SET) for k, v in config.items()]
        admin = self.admin()
        resource = ConfigResource("topic", topic, incremental_configs=entries)
        for future in admin.incremental_alter_configs([resource]).values():
            future.result(30)

    def consume(
        self,
        topic: str,
        expected: int,
        timeout: float = 60.0,
        settle: float = 1.0,
        client: dict[str, str] | None = None,
    ) -> list[Consumed]:
        """Every record in ``topic`` from the beginning: waits for ``expected``, then ``settle`` s for extras.
        ``client``: more librdkafka settings (another listener's address and its security settings)."""
        consumer = Consumer({
            "bootstrap.servers": self.bootstrap, "group.id": f"g-{uuid.uuid4().hex}", "enable.auto.commit": False,
            "auto.offset.reset": "earliest", **(client or {}),
        })  # fmt: skip
        try:
            metadata = consumer.list_topics(topic, timeout=30)
            partitions = sorted(metadata.topics[topic].partitions)
            consumer.assign([TopicPartition(topic, p, 0) for p in partitions])
            records: list[Consumed] = []
            deadline = time.monotonic() + timeout
            quiet_until: float | None = None
            while time.monotonic() < deadline:
                messages = consumer.consume(10_000, timeout=0.5)
                for message in messages:
                    if message.error():
                        continue
                    records.append(Consumed(
                        message.topic(), message.partition(), message.key(), message.value(), message.timestamp()[1]
                    ))  # fmt: skip
                if len(records) >= expected:
                    quiet_until = quiet_until or time.monotonic() + settle
                    if not messages and time.monotonic() >= quiet_until:
                        break
            return records
        finally:
            consumer.close()


def _available() -> None:
    try:
        fetch()
    except KafkaUnavailable as exc:
        if os.environ.get("CI"):
            raise
        pytest.skip(str(exc))


@pytest.fixture(scope="session")
def kafka() -> Iterator[Broker]:
    _available()
    with tempfile.TemporaryDirectory(prefix="kafka-") as folder:
        broker = KafkaBroker(Path(folder))
        broker.start()
        try:
            yield Broker(broker)
        finally:
            broker.stop()


@dataclass
class SecuredKafka:
    broker: Broker
    certificates: Certificates

    def address(self, listener: str) -> str:
        return self.broker.broker.address(listener)


@pytest.fixture(scope="session")
def secured_kafka() -> Iterator[SecuredKafka]:
    """One broker with SASL_PLAINTEXT, SASL_SSL and mutual-TLS listeners (``tests/servers/kafka/secured.py``)."""
    _available()
    with tempfile.TemporaryDirectory(prefix="kafka-secured-") as folder:
        broker, certificates = secured_broker(Path(folder))
        broker.start()
        try:
            yield SecuredKafka(Broker(broker), certificates)
        finally:
            broker.stop()


@pytest.fixture
def kafka_factory(tmp_path: Path) -> Iterator[Callable[..., Broker]]:
    """Brokers of a test's own, for tests that stop, kill or reconfigure them."""
    _available()
    started: list[KafkaBroker] = []

    def start(*, running: bool = True, **extra: str) -> Broker:
        broker = KafkaBroker(tmp_path / f"kafka-{len(started)}", extra=extra)
        started.append(broker)
        if running:
            broker.start()
        return Broker(broker)

    yield start
    for broker in started:
        broker.kill()


def wait_for_log(collector: RunningCollector, text: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while text not in collector.log():
        assert collector.process.poll() is None, f"collector died:\n{collector.log()}"
        assert time.monotonic() < deadline, f"no log line with {text!r}:\n{collector.log()}"
        time.sleep(0.1)


def decode(value: bytes) -> dict[str, object]:
    """A Kafka value read with Divolte's own schema file and Apache Avro (not the writer's fastavro)."""
    reader = avro.io.DatumReader(DIVOLTE_SCHEMA)
    record: dict[str, object] = reader.read(avro.io.BinaryDecoder(io.BytesIO(value)))
    return record


def java_partitions(keys: set[bytes], partitions: int) -> dict[bytes, int]:
    """Where Kafka's Java producer puts each key, computed by the Kafka client jar itself."""
    ordered = sorted(keys)
    output = subprocess.run(
        ["java", "-Xmx128m", "-cp", f"{JARS}/*", str(JAVA_REFERENCE), str(partitions)],
        input="".join(k.hex() + "\n" for k in ordered), capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    result = {}
    for line in output.splitlines():
        key_hex, _, partition = line.split(" ")
        result[bytes.fromhex(key_hex)] = int(partition)
    assert len(result) == len(ordered)
    return result


def event_number(record: dict[str, object]) -> tuple[int, int]:
    """(party, event) from the page view id made by ``event_query`` (the default schema has no event id)."""
    text = str(record["pageViewId"])
    return int(text[4:12]), int(text[12:20])


def party_id(n: int) -> str:
    return f"0:kx{n:x}:party{n:08d}_{'p' * 21}"


def event_query(party: int, event: int, *, event_type: str = "pageView", location: str = "https://example.com/") -> str:
    """A browser event as divolte.js sends it, with a correct checksum; its page view id names (party, event)."""
    params = {
        "p": party_id(party),
        "s": f"0:kx{party:x}:session{party:08d}_{'s' * 19}",
        "v": f"0:pv{party:08d}{event:08d}",
        "e": f"0:pv{party:08d}{event:08d}0",
        "c": to_base36(1_700_000_000_000 + event),
        "n": "t" if event == 0 else "f",
        "f": "t" if event == 0 else "f",
        "l": location,
        "i": "1ak", "j": "sj", "k": "2", "w": "uq", "h": "qd",
        "t": event_type,
    }  # fmt: skip
    checksum = mmh3.hash(canonical_string({k: [v] for k, v in params.items()}).encode(), 0, signed=True)
    params["x"] = to_base36(checksum)
    return urllib.parse.urlencode(params, quote_via=urllib.parse.quote)


def send_events(base_url: str, events: Iterable[tuple[int, int]], *, pace: float = 0.0) -> int:
    """GET /csc-event for each (party, event) on one keep-alive connection; returns how many were sent.

    ``http.client`` rather than httpx: about four times faster, which the 20,000-event tests need.
    """
    host, port = base_url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=10)
    sent = 0
    try:
        for party, event in events:
            connection.request("GET", f"/csc-event?{event_query(party, event)}", headers={"User-Agent": USER_AGENT})
            response = connection.getresponse()
            response.read()
            assert response.status == 200
            sent += 1
            if pace:
                time.sleep(pace)
    finally:
        connection.close()
    return sent


def kafka_config(
    bootstrap: str, topic: str, spool: Path, *, mode: str = "naked", extra_global: str = "", extra_producer: str = "",
    confluent_id: int | None = None, request_timeout_ms: int = 5000,
) -> str:  # fmt: skip
    mapping_extra = f"confluent_id = {confluent_id}" if confluent_id is not None else ""
    return f"""
divolte {{
  global {{
    kafka {{
      enabled = true
      spool_dir = "{spool}"
      producer {{
        bootstrap.servers = "{bootstrap}"
        request.timeout.ms = {request_timeout_ms}
        {extra_producer}
      }}
      {extra_global}
    }}
    hdfs.enabled = false
  }}
  sources.browser.type = browser
  sinks.kafka {{
    type = kafka
    topic = "{topic}"
    mode = {mode}
  }}
  mappings.test {{
    sources = [browser]
    sinks = [kafka]
    {mapping_extra}
  }}
}}
"""
