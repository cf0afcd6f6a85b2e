"""The collector into a real Kafka broker: Divolte's keys, values, timestamps and partitions, in both modes.

Records are read back with confluent-kafka and decoded with Divolte's schema file by Apache Avro; the
expected partitions come from the Kafka client jar itself (``tests/servers/kafka/Murmur2Reference.java``).
"""

from __future__ import annotations

import collections
from pathlib import Path

import httpx
import pytest

from tests.integration.collector_process import StartCollector
from tests.integration.kafka.records import (
    Broker,
    decode,
    event_number,
    java_partitions,
    kafka_config,
    party_id,
    send_events,
)

pytestmark = pytest.mark.integration

PARTIES, EVENTS = 40, 5


def test_naked_records_are_divoltes_on_javas_partitions(
    kafka: Broker, start_collector: StartCollector, tmp_path: Path
) -> None:
    topic = kafka.create_topic(partitions=3)
    collector = start_collector(kafka_config(kafka.bootstrap, topic, tmp_path / "spool"))
    events = [(party, event) for event in range(EVENTS) for party in range(PARTIES)]
    send_events(collector.base_url, events)
    records = kafka.consume(topic, len(events))
    collector.stop()

    assert len(records) == len(events)
    expected_partition = java_partitions({r.key for r in records}, 3)
    per_party: dict[int, list[int]] = collections.defaultdict(list)
    for message in records:
        record = decode(message.value)
        party, event = event_number(record)
        assert message.key == party_id(party).encode("utf-8") == str(record["partyId"]).encode("utf-8")
        assert message.partition == expected_partition[message.key]
        assert message.timestamp == record["timestamp"], "the Kafka timestamp is the server receive time"
        assert record["eventType"] == "pageView" and record["detectedCorruption"] is False
        per_party[party].append(event)
    assert {p: sorted(e) for p, e in per_party.items()} == {p: list(range(EVENTS)) for p in range(PARTIES)}
    assert all(events == sorted(events) for events in per_party.values()), "each party's events in order"
    assert len(set(expected_partition.values())) == 3, "parties spread over every partition"


def test_confluent_mode_frames_values_with_the_schema_id(
    kafka: Broker, start_collector: StartCollector, tmp_path: Path
) -> None:
    topic = kafka.create_topic(partitions=2)
    config = kafka_config(kafka.bootstrap, topic, tmp_path / "spool", mode="confluent", confluent_id=0x1DEFACED)
    collector = start_collector(config)
    send_events(collector.base_url, [(party, 0) for party in range(10)])
    records = kafka.consume(topic, 10)
    collector.stop()
    assert len(records) == 10
    for message in records:
        assert message.value[:5] == bytes.fromhex("001defaced")
        assert decode(message.value[5:])["partyId"] == message.key.decode()


def test_a_confluent_sink_without_an_id_is_refused(start_collector: StartCollector, tmp_path: Path) -> None:
    config = kafka_config("127.0.0.1:9", "t", tmp_path / "spool", mode="confluent")
    collector = start_collector(config, wait=False)
    assert collector.process.wait(30) == 1
    assert "must have their 'confluent_id' attribute set" in collector.log()


def test_ready_and_delivery_with_spooling_under_a_small_queue(
    kafka: Broker, start_collector: StartCollector, tmp_path: Path
) -> None:
    topic = kafka.create_topic(partitions=1)
    config = kafka_config(kafka.bootstrap, topic, tmp_path / "spool", extra_global="buffer_size = 5\nthreads = 1")
    collector = start_collector(config)
    send_events(collector.base_url, [(0, event) for event in range(300)])
    assert httpx.get(f"{collector.base_url}/ready").status_code == 200
    records = kafka.consume(topic, 300)
    collector.stop()
    assert [event_number(decode(r.value))[1] for r in records] == list(range(300)), "in order, each once"
