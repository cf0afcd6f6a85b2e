"""``--against URL``: load a collector that is already running, with the same corpus, in the same table.

A team can point the benchmark at its own Divolte (or at ours on another machine) before it switches, and
read its requests/s and latency beside the collector's, measured minutes apart with the same load. The
benchmark neither starts nor stops it, so its CPU and memory are not known (the table shows ``nan``).

Delivered events are counted when the benchmark can see where they go:

- ``--against-published DIR``: the collector's publish directory; the records of every complete ``.avro``
  file that appears there during the run are counted once no new file has appeared for
  ``--against-settle`` seconds (configure a short ``roll_every`` on that collector, or the files are only
  published an hour later);
- ``--against-topic TOPIC`` with ``--kafka BOOTSTRAP``: the growth of the topic's end offsets, once they
  have not moved for ``--against-settle`` seconds.

Also here: ``processes_scaling``, the multi-process row against the one-process row, per round.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from pathlib import Path
from urllib.parse import urlsplit

from benchmarks.load import count_records, run_wrk
from benchmarks.report import LABELS, Measurement


def add_against_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--against", metavar="URL", help="also load this running collector, e.g. http://HOST:PORT")
    parser.add_argument("--against-published", type=Path, metavar="DIR",
                        help="its publish directory: count the events it delivered to files")  # fmt: skip
    parser.add_argument("--against-topic", metavar="TOPIC",
                        help="its Kafka topic (on the --kafka broker): count the events it delivered")  # fmt: skip
    parser.add_argument("--against-settle", type=float, default=15.0, metavar="SECONDS",
                        help="wait until nothing new arrived for this long before counting (default 15)")  # fmt: skip


def _published(folder: Path) -> dict[Path, float]:
    return {path: path.stat().st_mtime for path in folder.glob("*.avro")}


async def _end_offsets(bootstrap: str, topic: str) -> int:
    from aiokafka import AIOKafkaConsumer, TopicPartition

    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap)
    await consumer.start()
    try:
        partitions = consumer.partitions_for_topic(topic) or set()
        if not partitions:
            await consumer.topics()  # fetches metadata
            partitions = consumer.partitions_for_topic(topic) or set()
        ends = await consumer.end_offsets([TopicPartition(topic, p) for p in partitions])
        return int(sum(ends.values()))
    finally:
        await consumer.stop()


def _settled(read: object, settle: float) -> tuple[int, float]:
    """Poll ``read()`` (→ a count) until it has not changed for ``settle`` s; the count and when it last moved."""
    assert callable(read)
    value, moved_at = read(), time.time()
    while time.time() - moved_at < settle:
        time.sleep(0.5)
        now = read()
        if now != value:
            value, moved_at = now, time.time()
    return value, moved_at


def measure_against(args: argparse.Namespace, corpus: Path, load_core: int | None, round_number: int) -> Measurement:
    url = urlsplit(args.against)
    host, port = url.hostname or "127.0.0.1", url.port or (443 if url.scheme == "https" else 80)
    folder: Path | None = args.against_published
    before_files = _published(folder) if folder else {}
    topic = args.against_topic if args.kafka else None
    before_offsets = asyncio.run(_end_offsets(args.kafka, topic)) if topic else 0
    wrk = run_wrk(port, corpus, duration=args.duration, connections=args.connections, core=load_core, host=host,
                  progress=LABELS["against"])  # fmt: skip
    records: int | None = None
    last_write = wrk.ended_at
    if folder:

        def new_records() -> int:
            return sum(count_records(p) for p, m in _published(folder).items() if before_files.get(p) != m)

        records, last_write = _settled(new_records, args.against_settle)
    elif topic:
        offsets, last_write = _settled(lambda: asyncio.run(_end_offsets(args.kafka, topic)), args.against_settle)
        records = offsets - before_offsets
    answered = wrk.requests - wrk.errors
    nan = float("nan")
    return Measurement(
        target="against", round=round_number, requests_per_s=wrk.rate, latency_us=wrk.latency_us,
        wrk_errors=wrk.errors, cpu_s_per_million=nan, core_share=nan, peak_rss_mib=nan,
        events_per_s=None if records is None else records / max(last_write - wrk.started_at, 1e-9),
        delivered=records, accepted=None if records is None else answered,
        missing=None if records is None else max(0, answered - records),
        drain_s=None if records is None else max(0.0, last_write - wrk.ended_at),
    )  # fmt: skip


def processes_scaling(rounds: list[Measurement]) -> dict[str, float]:
    """Median per round of the multi-process row over the one-process row: delivered events/s, CPU per event."""
    events, cpu = [], []
    for m in rounds:
        if m.target != "collector-processes" or not m.events_per_s:
            continue
        single = [r for r in rounds if r.target == "collector" and r.round == m.round and r.events_per_s]
        if single:
            events.append(m.events_per_s / (single[0].events_per_s or 1.0))
            cpu.append(m.cpu_s_per_million / single[0].cpu_s_per_million)
    return {"events": statistics.median(events), "cpu": statistics.median(cpu)} if events else {}
