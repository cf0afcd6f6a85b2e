"""Events per second into Kafka: the sink alone (aiokafka and confluent-kafka side by side), and end to end.

    python -m benchmarks.kafka_throughput              # starts its own broker (tests/servers/kafka), ~2 minutes
    python -m benchmarks.kafka_throughput --events 100000 --http-clients 2

``sink``: N encoded default records (party ids from 10,000 parties) through ``SinkRunner`` + ``KafkaSink``
into a 3-partition topic, timed until every record is acknowledged; then the same records through
confluent-kafka's ``Producer`` (librdkafka, ``murmur2_random`` partitioner, lz4, acks=1) for comparison.
``http``: the collector as a process with a Kafka sink; N events as keep-alive GETs from Python clients;
timed from the first request until the topic's end offsets add up to N. All on 127.0.0.1; the broker,
the collector and the clients share this machine's cores, so compare numbers from one run only.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

from collector.events import EncodedRecord
from collector.sinks.kafka import KafkaConnection, KafkaSink
from collector.sinks.kafka_config import producer_options
from collector.sinks.runner import SinkRunner
from tests.paths import REPO
from tests.servers.kafka.broker import KafkaBroker, free_port
from tests.vectors import load_vectors

VECTOR = load_vectors()["avro_default_record"]
PAYLOAD = bytes.fromhex(VECTOR["avro_binary_hex"])


def party(n: int) -> str:
    return f"0:kx{n:x}:party{n:08d}_{'p' * 21}"


def records(count: int) -> list[EncodedRecord]:
    now = int(time.time() * 1000)
    return [EncodedRecord(party(i % 10_000), now + i, PAYLOAD) for i in range(count)]


def create_topic(bootstrap: str, partitions: int = 3) -> str:
    name = f"bench-{time.monotonic_ns()}"
    admin = AdminClient({"bootstrap.servers": bootstrap})
    for future in admin.create_topics([NewTopic(name, num_partitions=partitions, replication_factor=1)]).values():
        future.result(30)
    return name


def end_offsets(bootstrap: str, topic: str) -> int:
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "bench-offsets"})
    try:
        partitions = consumer.list_topics(topic, timeout=10).topics[topic].partitions
        return sum(consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10)[1] for p in partitions)
    finally:
        consumer.close()


async def aiokafka_sink(bootstrap: str, batch: list[EncodedRecord], producer: dict[str, str]) -> float:
    topic = create_topic(bootstrap)
    connection = KafkaConnection(producer_options({"bootstrap.servers": bootstrap, **producer}))
    runner = SinkRunner(KafkaSink("bench", topic, connection), capacity=len(batch) + 1)
    await runner.start()
    await connection.producer()
    started = time.perf_counter()
    for record in batch:
        runner.offer(record)
    while runner.written < len(batch):
        await asyncio.sleep(0.005)
    elapsed = time.perf_counter() - started
    await runner.aclose(timeout=30)
    assert end_offsets(bootstrap, topic) == len(batch)
    return len(batch) / elapsed


def confluent_sink(bootstrap: str, batch: list[EncodedRecord], extra: dict[str, Any]) -> float:
    topic = create_topic(bootstrap)
    producer = Producer({"bootstrap.servers": bootstrap, "acks": 1, "compression.type": "lz4",
                         "partitioner": "murmur2_random", **extra})  # fmt: skip
    producer.list_topics(topic, timeout=10)
    started = time.perf_counter()
    for record in batch:
        while True:
            try:
                producer.produce(topic, record.payload, record.party_id.encode(), timestamp=record.timestamp)
                break
            except BufferError:
                producer.poll(0.001)
        producer.poll(0)
    producer.flush(60)
    elapsed = time.perf_counter() - started
    assert end_offsets(bootstrap, topic) == len(batch)
    return len(batch) / elapsed


def _client(base_url: str, first: int, count: int) -> None:
    from tests.integration.kafka.records import send_events

    send_events(base_url, [(n % 10_000, n) for n in range(first, first + count)])


def start_collector(bootstrap: str, topic: str, workdir: Path) -> tuple[subprocess.Popen[bytes], str]:
    from tests.integration.kafka.records import kafka_config

    config = workdir / f"{topic}.conf"
    config.write_text(kafka_config(bootstrap, topic, workdir / f"spool-{topic}", request_timeout_ms=30000))
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    with open(workdir / f"{topic}.log", "wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "collector.cli", "--config", str(config), "--port", str(port),
             "--log-level", "warning"],
            stdout=log, stderr=subprocess.STDOUT, env=env, cwd=workdir,
        )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            _client(base, 10**6, 1)
            break
        except OSError:
            assert time.monotonic() < deadline, "collector did not start"
            time.sleep(0.1)
    while end_offsets(bootstrap, topic) < 1:
        time.sleep(0.05)
    return process, base


def wrk_end_to_end(bootstrap: str, seconds: int, workdir: Path) -> dict[str, float]:
    """wrk (one thread, 16 connections) sends one valid event URL as fast as the collector answers."""
    from tests.integration.kafka.records import USER_AGENT, event_query

    topic = create_topic(bootstrap)
    process, base = start_collector(bootstrap, topic, workdir)
    try:
        started = time.perf_counter()
        output = subprocess.run(
            ["wrk", "-t1", "-c16", f"-d{seconds}s", "-H", f"User-Agent: {USER_AGENT}",
             f"{base}/csc-event?{event_query(1, 1)}"],
            capture_output=True, text=True, check=True,
        ).stdout  # fmt: skip
        ended = time.perf_counter()
        requests = int(next(line for line in output.splitlines() if "requests in" in line).split()[0])
        landed, landed_at = end_offsets(bootstrap, topic), time.perf_counter()
        while True:
            time.sleep(0.5)
            now = end_offsets(bootstrap, topic)
            if now == landed:
                break
            landed, landed_at = now, time.perf_counter()
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(60)
    return {
        "requests": requests,
        "requests_per_s": requests / (ended - started),
        "records_in_kafka": landed - 1,
        "into_kafka_per_s": (landed - 1) / (landed_at - started),
    }


def http_end_to_end(bootstrap: str, events: int, clients: int, workdir: Path) -> dict[str, float]:
    topic = create_topic(bootstrap)
    process, base = start_collector(bootstrap, topic, workdir)
    try:
        share = events // clients
        started = time.perf_counter()
        workers = [multiprocessing.Process(target=_client, args=(base, i * share, share)) for i in range(clients)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        sent_at = time.perf_counter()
        while end_offsets(bootstrap, topic) < share * clients + 1:
            time.sleep(0.02)
        landed_at = time.perf_counter()
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(60)
    return {
        "events": share * clients,
        "accepted_per_s": share * clients / (sent_at - started),
        "into_kafka_per_s": share * clients / (landed_at - started),
        "lag_after_last_request_s": landed_at - sent_at,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--http-clients", type=int, default=2)
    parser.add_argument("--skip-http", action="store_true")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each sink measurement (the median is shown)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="kafka-bench-") as folder:
        broker = KafkaBroker(Path(folder) / "kafka", extra={"log.flush.interval.messages": "100000000"})
        broker.start()
        try:
            batch = records(args.events)
            results: dict[str, Any] = {}

            def median(runs: list[float]) -> float:
                return sorted(runs)[len(runs) // 2]

            for label, producer in {
                "aiokafka (Java's batch.size 16384)": {"batch.size": "16384"},
                "aiokafka (our default: batch.size 262144)": {},
                "aiokafka (batch.size 1048576)": {"batch.size": "1048576"},
            }.items():
                runs = [asyncio.run(aiokafka_sink(broker.bootstrap, batch, producer)) for _ in range(args.repeat)]
                results[f"sink: {label}"] = median(runs)
            runs = [confluent_sink(broker.bootstrap, batch, {}) for _ in range(args.repeat)]
            results["sink: confluent-kafka (librdkafka defaults)"] = median(runs)
            if not args.skip_http:
                results["http end to end, Python clients"] = http_end_to_end(
                    broker.bootstrap, args.events, args.http_clients, Path(folder)
                )
                if shutil.which("wrk"):
                    results["http end to end, wrk"] = wrk_end_to_end(broker.bootstrap, 20, Path(folder))
            for label, value in results.items():
                if isinstance(value, dict):
                    print(f"{label}: " + ", ".join(f"{k} {v:,.1f}" for k, v in value.items()))
                else:
                    print(f"{label}: {value:,.0f} records/s")
        finally:
            broker.stop()


if __name__ == "__main__":
    main()
