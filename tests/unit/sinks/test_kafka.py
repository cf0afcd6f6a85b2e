"""The Kafka sink against a stand-in producer: Divolte's message bytes, Java's partitions, order and retries.

The stand-in records exactly what the sink hands to aiokafka (record batches per partition) and fails
batches on demand. The real broker is in ``tests/integration/kafka``.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import pytest
from aiokafka.errors import InvalidTimestampError, KafkaTimeoutError, MessageSizeTooLargeError

from collector.errors import RecordsRejected, SinkError
from collector.events import EncodedRecord
from collector.sinks.kafka import KafkaConnection, KafkaSink
from collector.sinks.kafka_config import producer_options
from collector.sinks.partition import KeyPartitioner, murmur2, partition_for_key
from tests.paths import REPO
from tests.vectors import SHARED

VECTOR = json.loads((SHARED / "test-vectors.json").read_text())["avro_default_record"]
JAVA = json.loads((REPO / "tests" / "servers" / "kafka" / "java-partitions.json").read_text())


class Builder:
    def __init__(self, cap: int) -> None:
        self.cap = cap
        self.records: list[tuple[int, bytes, bytes]] = []

    def append(self, *, timestamp: int, key: bytes, value: bytes) -> object | None:
        if self.records and self.size() + len(key) + len(value) > self.cap:
            return None
        self.records.append((timestamp, key, value))
        return object()

    def size(self) -> int:
        return sum(len(k) + len(v) + 10 for _, k, v in self.records)

    def close(self) -> None:
        pass


class Producer:
    """What the sink uses of AIOKafkaProducer; ``fail(partition, builder)`` may return an error to raise."""

    def __init__(self, partitions: int = 3, cap: int = 16384) -> None:
        self.partitions = partitions
        self.cap = cap
        self.sent: list[tuple[int, list[tuple[int, bytes, bytes]]]] = []
        self.fail: Callable[[int, Builder], BaseException | None] = lambda p, b: None

    async def partitions_for(self, topic: str) -> set[int]:
        return set(range(self.partitions))

    def create_batch(self) -> Builder:
        return Builder(self.cap)

    async def send_batch(self, builder: Builder, topic: str, *, partition: int) -> asyncio.Future[Any]:
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        error = self.fail(partition, builder)
        if error is None:
            self.sent.append((partition, builder.records))
            future.set_result(None)
        else:
            future.set_exception(error)
        return future


def sink_with(producer: Producer, confluent_id: int | None = None) -> KafkaSink:
    connection = KafkaConnection(producer_options({}))
    connection._producer = producer
    return KafkaSink("kafka", "divolte", connection, confluent_id=confluent_id)


def vector_record() -> EncodedRecord:
    return EncodedRecord(
        VECTOR["kafka_key_utf8"], int(VECTOR["kafka_timestamp_ms"]), bytes.fromhex(VECTOR["avro_binary_hex"])
    )


def delivered(producer: Producer) -> list[tuple[int, bytes, bytes]]:
    return [r for _, records in producer.sent for r in records]


async def test_naked_message_is_divoltes() -> None:
    producer = Producer(partitions=12)
    await sink_with(producer).write_batch([vector_record()])
    [(partition, [(timestamp, key, value)])] = producer.sent
    assert key == VECTOR["kafka_key_utf8"].encode()
    assert value == bytes.fromhex(VECTOR["avro_binary_hex"])
    assert timestamp == int(VECTOR["kafka_timestamp_ms"])
    assert partition == partition_for_key(key, 12)


async def test_confluent_message_is_divoltes() -> None:
    producer = Producer()
    await sink_with(producer, confluent_id=12345).write_batch([vector_record()])
    [(_, [(_, _, value)])] = producer.sent
    assert value.hex().startswith(VECTOR["kafka_confluent_value_for_schema_id_12345"])
    assert value == bytes.fromhex("0000003039") + bytes.fromhex(VECTOR["avro_binary_hex"])
    other = Producer()
    await sink_with(other, confluent_id=0x1DEFACED).write_batch([vector_record()])
    assert delivered(other)[0][2][:5].hex() == "001defaced"


def test_partitions_match_javas_default_partitioner() -> None:
    cached = KeyPartitioner()
    for case in JAVA["cases"]:
        key = bytes.fromhex(case["key_hex"])
        assert murmur2(key) == case["murmur2"], case
        for count, expected in zip(JAVA["partition_counts"], case["partitions"], strict=True):
            assert partition_for_key(key, count) == expected
            assert cached(key, count) == expected


async def test_records_keep_their_order_per_partition_and_go_in_batches() -> None:
    producer = Producer(partitions=3, cap=200)
    records = [EncodedRecord(f"0:a:p{i % 10}", i, b"v" * 30) for i in range(300)]
    await sink_with(producer).write_batch(records)
    assert len(producer.sent) > 3, "many batches"
    assert sorted(t for t, _, _ in delivered(producer)) == list(range(300))
    for partition in range(3):
        timestamps = [t for p, batch in producer.sent if p == partition for t, _, _ in batch]
        assert timestamps == sorted(timestamps)
        assert all(partition_for_key(f"0:a:p{t % 10}".encode(), 3) == partition for t in timestamps)


async def test_a_retry_sends_only_what_was_not_delivered_and_nothing_overtakes() -> None:
    producer = Producer(partitions=2, cap=100)
    records = [EncodedRecord(f"0:a:p{i % 4}", i, b"v" * 30) for i in range(40)]
    failing = partition_for_key(b"0:a:p0", 2)
    calls: dict[int, int] = {}

    def fail(partition: int, builder: Builder) -> BaseException | None:
        calls[partition] = calls.get(partition, 0) + 1
        # the second batch of the failing partition times out, once
        return KafkaTimeoutError() if partition == failing and calls[partition] == 2 else None

    producer.fail = fail
    sink = sink_with(producer)
    with pytest.raises(SinkError) as raised:
        await sink.write_batch(records)
    assert raised.value.retriable
    first_try = [t for p, batch in producer.sent if p == failing for t, _, _ in batch]
    await sink.write_batch(records)  # the runner retries the same batch
    timestamps = [t for p, batch in producer.sent if p == failing for t, _, _ in batch]
    assert timestamps == sorted(timestamps), "a failed batch is never overtaken within its partition"
    assert sorted(t for t, _, _ in delivered(producer)) == list(range(40)), "each record once"
    assert first_try == timestamps[: len(first_try)]


async def test_a_batch_too_large_is_split_and_only_the_record_too_large_alone_is_rejected() -> None:
    producer = Producer(partitions=1, cap=10_000)
    records = [EncodedRecord("0:a:p", i, b"v" * (50 if i != 7 else 500)) for i in range(20)]
    producer.fail = lambda p, b: MessageSizeTooLargeError() if b.size() > 400 else None
    sink = sink_with(producer)
    with pytest.raises(RecordsRejected) as raised:
        await sink.write_batch(records)  # one call: split at once, no retry by the runner needed
    assert raised.value.records == [records[7]] and not raised.value.retriable
    assert raised.value.reason == "message_too_large"
    assert "raise the topic's max.message.bytes" in str(raised.value) and "largest value 500 bytes" in str(raised.value)
    assert [t for t, _, _ in delivered(producer)] == [i for i in range(20) if i != 7], "the rest, in order, once"
    more = [EncodedRecord("0:a:p", i, b"v" * 50) for i in range(20, 25)]
    await sink.write_batch(more)  # the next batch is not held up
    assert [t for t, _, _ in delivered(producer)][-5:] == list(range(20, 25))


async def test_a_record_with_a_refused_timestamp_is_isolated_and_rejected_in_every_partition() -> None:
    producer = Producer(partitions=3)
    records = [EncodedRecord(f"0:a:party{i % 6}", i, b"v" * 20) for i in range(60)]
    bad = {13, 44}
    producer.fail = lambda p, b: InvalidTimestampError() if any(t in bad for t, _, _ in b.records) else None
    sink = sink_with(producer)
    with pytest.raises(RecordsRejected) as raised:
        await sink.write_batch(records)
    assert [r.timestamp for r in raised.value.records] == sorted(bad)
    assert raised.value.reason == "invalid_timestamp" and "message.timestamp" in str(raised.value)
    for partition in range(3):
        got = [t for p, batch in producer.sent if p == partition for t, _, _ in batch]
        assert got == sorted(got), "order kept within each partition"
    assert sorted(t for t, _, _ in delivered(producer)) == sorted(set(range(60)) - bad), "each record once"


async def test_a_transient_failure_elsewhere_is_retried_and_the_refused_record_is_remembered() -> None:
    producer = Producer(partitions=2)
    records = [EncodedRecord(f"0:a:party{i % 4}", i, b"v" * (20 if i != 5 else 900)) for i in range(16)]
    partition_of_5 = KeyPartitioner()(records[5].party_id.encode(), 2)
    other = 1 - partition_of_5
    calls = {"other": 0}

    def fail(partition: int, builder: Builder) -> BaseException | None:
        if partition == other:
            calls["other"] += 1
            return KafkaTimeoutError() if calls["other"] == 1 else None
        return MessageSizeTooLargeError() if builder.size() > 400 else None

    producer.fail = fail
    sink = sink_with(producer)
    with pytest.raises(SinkError) as first:
        await sink.write_batch(records)
    assert first.value.retriable and not isinstance(first.value, RecordsRejected)
    with pytest.raises(RecordsRejected) as second:
        await sink.write_batch(records)  # the runner retries the same batch
    assert second.value.records == [records[5]]
    assert sorted(t for t, _, _ in delivered(producer)) == [i for i in range(16) if i != 5], "each record once"


async def test_unreachable_kafka_is_a_retriable_error() -> None:
    connection = KafkaConnection(producer_options({"bootstrap.servers": "127.0.0.1:1", "request.timeout.ms": "2000"}))
    sink = KafkaSink("kafka", "divolte", connection)
    await sink.start()
    with pytest.raises(SinkError, match=r"cannot reach Kafka at bootstrap\.servers=127\.0\.0\.1:1") as raised:
        await sink.write_batch([vector_record()])
    assert raised.value.retriable
    await sink.aclose()
