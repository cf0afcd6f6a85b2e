"""Records per second into Pub/Sub through the sink, next to the Kafka sink measured in the same run.

    python -m benchmarks.pubsub_throughput               # starts pstest and a Kafka broker itself, ~2 minutes
    python -m benchmarks.pubsub_throughput --events 50000 --repeat 3

N encoded default records (430 bytes, party ids from 10,000 parties) go through ``SinkRunner`` + the sink,
timed until the sink has written them all (Pub/Sub or Kafka acknowledged every one). For each: records/s and the
collector process's CPU per record (``time.process_time``: this process only; the servers' CPU is not in it).

- Pub/Sub sink with Divolte's ``batching_settings`` (100 messages / 1,000 bytes: two records per request), and
  with larger requests (1,000 messages / 1 MB), against Google's pstest server (tests/servers/pubsub);
- google-cloud-pubsub's own ``PublisherClient`` (background threads, one future per message), the same records
  and larger batches, for the cost of the library's usual path;
- the Kafka sink (aiokafka, our default batch size) against a real broker (tests/servers/kafka).

End to end (``--http-seconds``): the collector as a process with a Pub/Sub sink (both batchings) or a Kafka sink,
loaded by wrk (one event URL over 16 connections), timed from the first request until the sink's metrics say
the last event is written; CPU is the collector process's. Everything shares this machine's cores
with the servers, so compare figures from one run only.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import grpc
import httpx
from google.cloud import pubsub_v1
from google.pubsub_v1 import PublisherClient
from google.pubsub_v1.services.publisher.transports import PublisherGrpcTransport

from benchmarks.kafka_throughput import aiokafka_sink, records
from benchmarks.kafka_throughput import create_topic as create_kafka_topic
from collector.config.settings import GcpsSinkSettings
from collector.events import EncodedRecord
from collector.sinks.pubsub import PubsubChannel, PubsubSink
from collector.sinks.pubsub_messages import MessageBuilder
from collector.sinks.runner import SinkRunner
from tests.integration.kafka.records import USER_AGENT, event_query, kafka_config
from tests.integration.metrics_text import samples
from tests.paths import DEFAULT_SCHEMA_FILE, REPO
from tests.servers.kafka.broker import KafkaBroker
from tests.servers.pubsub.server import PubsubServer, free_port

PROJECT = "bench"


def create_topic(host: str) -> str:
    name = f"bench-{uuid.uuid4().hex[:8]}"
    channel = grpc.insecure_channel(host)
    try:
        PublisherClient(transport=PublisherGrpcTransport(channel=channel)).create_topic(
            name=f"projects/{PROJECT}/topics/{name}"
        )
    finally:
        channel.close()
    return name


async def pubsub_sink(host: str, batch: list[EncodedRecord], batching: dict[str, float]) -> tuple[float, float]:
    settings = GcpsSinkSettings(name="bench", topic=create_topic(host), batching_settings=batching)
    sink = PubsubSink(settings, PROJECT, PubsubChannel(host), DEFAULT_SCHEMA_FILE.read_text())
    runner = SinkRunner(sink, capacity=len(batch) + 1)
    await runner.start()
    started, cpu = time.perf_counter(), time.process_time()
    for record in batch:
        runner.offer(record)
    while runner.written < len(batch):
        await asyncio.sleep(0.005)
    elapsed, cpu_used = time.perf_counter() - started, time.process_time() - cpu
    await runner.aclose(timeout=30)
    return len(batch) / elapsed, cpu_used / len(batch) * 1e6


def client_library(host: str, batch: list[EncodedRecord]) -> tuple[float, float]:
    """google-cloud-pubsub's PublisherClient as its documentation shows it: publish() per message, futures."""
    import os

    os.environ["PUBSUB_EMULATOR_HOST"] = host
    topic = f"projects/{PROJECT}/topics/{create_topic(host)}"
    publisher = pubsub_v1.PublisherClient(
        batch_settings=pubsub_v1.types.BatchSettings(max_messages=1000, max_bytes=1_000_000, max_latency=0.01)
    )
    attributes = MessageBuilder(dict, "fingerprint", None).attributes
    started, cpu = time.perf_counter(), time.process_time()
    futures = [publisher.publish(topic, record.payload, **attributes(record)) for record in batch]
    for future in futures:
        future.result(timeout=120)
    elapsed, cpu_used = time.perf_counter() - started, time.process_time() - cpu
    publisher.stop()
    del os.environ["PUBSUB_EMULATOR_HOST"]
    return len(batch) / elapsed, cpu_used / len(batch) * 1e6


def _written(base_url: str) -> float:
    found = samples(httpx.get(f"{base_url}/metrics", timeout=10).text)
    return sum(v for (name, _), v in found.items() if name.endswith("sink_records_written_total"))


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def end_to_end(config: str, seconds: int, workdir: Path, env: dict[str, str]) -> tuple[float, float]:
    """The collector as a process under wrk (one thread, 16 connections, one valid event URL) for ``seconds``;
    timed from the first request until the sink has written the last event (its metrics say so). Returns
    (delivered events/s, the collector's CPU µs per event)."""
    path = workdir / f"e2e-{uuid.uuid4().hex[:6]}.conf"
    path.write_text(config)
    port = free_port()
    with open(path.with_suffix(".log"), "wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "collector.cli", "--config", str(path), "--port", str(port), "--log-level",
             "warning"], stdout=log, stderr=subprocess.STDOUT, cwd=workdir,
            env={**os.environ, "PYTHONPATH": str(REPO), **env},
        )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{base}/ping", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                assert time.monotonic() < deadline and process.poll() is None, path.with_suffix(".log").read_text()
                time.sleep(0.1)
        cpu, started = _cpu_seconds(process.pid), time.perf_counter()
        subprocess.run(
            ["wrk", "-t1", "-c16", f"-d{seconds}s", "-H", f"User-Agent: {USER_AGENT}",
             f"{base}/csc-event?{event_query(1, 1)}"], capture_output=True, check=True,
        )  # fmt: skip
        written, landed = _written(base), time.perf_counter()
        while True:  # until the backlog is written: no change for a second
            time.sleep(1.0)
            now = _written(base)
            if now == written:
                break
            written, landed = now, time.perf_counter()
        cpu_used = _cpu_seconds(process.pid) - cpu
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(60)
    return written / (landed - started), cpu_used / written * 1e6


def pubsub_config(topic: str, spool: Path, count: int, size: int) -> str:
    return f"""divolte {{
  global.gcps {{ enabled = true, project_id = {PROJECT}, spool_dir = "{spool}" }}
  global.hdfs.enabled = false
  sources.browser.type = browser
  sinks.pubsub {{
    type = gcps, topic = "{topic}"
    batching_settings {{ element_count_threshold = {count}, request_bytes_threshold = {size} }}
  }}
  mappings.test {{ sources = [browser], sinks = [pubsub] }}
}}
"""


def median(runs: list[tuple[float, float]]) -> tuple[float, float]:
    ordered = sorted(runs)
    return ordered[len(ordered) // 2]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=50_000)
    parser.add_argument("--repeat", type=int, default=3, help="runs of each measurement (the median is shown)")
    parser.add_argument("--http-seconds", type=int, default=15, help="wrk time of each end-to-end run (0: none)")
    args = parser.parse_args()
    batch = records(args.events)
    for i, record in enumerate(batch):  # event ids as the pipeline gives them
        batch[i] = EncodedRecord(record.party_id, record.timestamp, record.payload, f"0:ev{i:x}:{'e' * 22}")
    results: dict[str, tuple[float, float]] = {}
    with tempfile.TemporaryDirectory(prefix="pubsub-bench-") as folder:
        server = PubsubServer(Path(folder) / "pubsub", dump=False)
        server.start()
        try:
            runs: dict[str, Callable[[], tuple[float, float]]] = {
                "Pub/Sub sink, Divolte's batching (100 messages / 1,000 bytes)": lambda: asyncio.run(
                    pubsub_sink(server.host, batch, {"element_count_threshold": 100, "request_bytes_threshold": 1000})
                ),
                "Pub/Sub sink, 1,000 messages / 1 MB requests": lambda: asyncio.run(
                    pubsub_sink(server.host, batch, {"element_count_threshold": 1000, "request_bytes_threshold": 10**6})
                ),
                "google-cloud-pubsub PublisherClient (threads, futures), 1,000 / 1 MB": lambda: client_library(
                    server.host, batch
                ),
            }
            work = Path(folder)
            if args.http_seconds:
                for label, (count, size) in {"Divolte's batching": (100, 1000), "1,000 / 1 MB": (1000, 10**6)}.items():
                    runs[f"end to end → Pub/Sub, {label}"] = lambda count=count, size=size: end_to_end(
                        pubsub_config(create_topic(server.host), work / "spool", count, size), args.http_seconds,
                        work, {"PUBSUB_EMULATOR_HOST": server.host},
                    )  # fmt: skip
            for label, run in runs.items():
                results[label] = median([run() for _ in range(args.repeat)])
        finally:
            server.stop()
        broker = KafkaBroker(Path(folder) / "kafka", extra={"log.flush.interval.messages": "100000000"})
        broker.start()
        try:
            kafka: list[tuple[float, float]] = []
            for _ in range(args.repeat):
                cpu = time.process_time()
                rate = asyncio.run(aiokafka_sink(broker.bootstrap, batch, {}))
                # aiokafka_sink also creates and reads back the topic; the CPU figure is an upper bound
                kafka.append((rate, (time.process_time() - cpu) / len(batch) * 1e6))
            results["Kafka sink (aiokafka, our default batch.size 262144)"] = median(kafka)
            if args.http_seconds:
                results["end to end → Kafka"] = median([
                    end_to_end(kafka_config(broker.bootstrap, create_kafka_topic(broker.bootstrap), Path(folder) /
                                            "kafka-spool"), args.http_seconds, Path(folder), {})
                    for _ in range(args.repeat)
                ])  # fmt: skip
        finally:
            broker.stop()
    for label, (rate, cpu_us) in results.items():
        reference = results["end to end → Kafka" if label.startswith("end to end") else
                            "Kafka sink (aiokafka, our default batch.size 262144)"][0]  # fmt: skip
        what = "the collector's CPU per event" if label.startswith("end to end") else "CPU/record in this process"
        print(f"{label}: {rate:,.0f} records/s ({rate / reference:.2f} × Kafka), {cpu_us:.1f} µs {what}")
    print(f"{args.events} records of {len(batch[0].payload)} bytes, median of {args.repeat} runs each")


if __name__ == "__main__":
    main()
