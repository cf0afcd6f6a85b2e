"""Two ways to put a file sink's records into Cloud Storage, measured side by side against fake-gcs-server.

    python -m benchmarks.gcs_strategy                    # starts its own emulator (tests/servers/gcs), ~20 s
    python -m benchmarks.gcs_strategy --syncs 60 --records 1000 --record-bytes 600

``compose`` is Divolte's: the Avro header is uploaded as the in-flight object when the file opens; each sync
uploads the new block as a part object and composes in-flight + part into the in-flight object; the roll
composes into the published name and deletes the part and the in-flight object. ``upload-on-roll`` is ours:
each sync writes the block to a local file and fsyncs it; the roll uploads the file once. Both write the same
blocks (``--records`` records of ``--record-bytes`` random bytes per sync, ``--syncs`` syncs per file).

Reported per strategy: requests to Cloud Storage per file, the time a sync takes (median and 95th percentile),
the time of the roll, and the requests an hour one sink shard makes when it syncs once a second (about 1,000
events/s with Divolte's ``sync_file_after_records = 1000``) and when it syncs every 30 s (light traffic),
with Divolte's hourly roll. The emulator is on 127.0.0.1: latencies are a floor (a real bucket adds tens of
milliseconds per request); request counts are exact.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import statistics
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from gcloud.aio.storage import Storage

from collector.avro.container import ContainerWriter
from tests.servers.gcs.server import FakeGcsServer, fetch

SCHEMA = '{"type": "record", "name": "R", "fields": [{"name": "data", "type": "bytes"}]}'
BUCKET = "strategy"


@dataclass
class Outcome:
    per_file: int = 0
    """Requests made once per file (open, roll, clean-up)."""
    per_sync: int = 0
    """Requests made by every sync but the last, in all."""
    sync_seconds: list[float] = field(default_factory=list)
    roll_seconds: float = 0.0
    published_bytes: int = 0


def blocks(syncs: int, records: int, record_bytes: int) -> tuple[bytes, list[bytes]]:
    """The container header and the bytes each sync appends (one Avro block of ``records`` records)."""
    path = Path(tempfile.mkdtemp()) / "f.avro"
    with open(path, "wb") as handle:
        writer = ContainerWriter(handle, SCHEMA, "null")
        handle.flush()
        sizes = [handle.tell()]
        payload = [_avro_bytes(os.urandom(record_bytes)) for _ in range(records)]
        for _ in range(syncs):
            writer.write_block(payload)
            handle.flush()
            sizes.append(handle.tell())
    data = path.read_bytes()
    return data[: sizes[0]], [data[a:b] for a, b in itertools.pairwise(sizes)]


def _avro_bytes(value: bytes) -> bytes:
    """A record of one ``bytes`` field, Avro-encoded: zig-zag varint length, then the bytes."""
    n, out = len(value) << 1, bytearray()
    while n >= 0x80:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out) + value


async def compose(storage: Storage, header: bytes, parts: list[bytes]) -> Outcome:
    outcome = Outcome()
    inflight, part, published = "inflight/f.avro", "inflight/f.avro.part", "published/compose.avro"
    await storage.upload(BUCKET, inflight, header, content_type="application/octet-stream")
    outcome.per_file += 1
    for i, block in enumerate(parts):
        last = i == len(parts) - 1
        started = time.perf_counter()
        await storage.upload(BUCKET, part, block, content_type="application/octet-stream")
        await storage.compose(BUCKET, published if last else inflight, [inflight, part],
                              content_type="application/octet-stream")  # fmt: skip
        if last:
            await storage.delete(BUCKET, part)
            await storage.delete(BUCKET, inflight)
            outcome.per_file += 4
            outcome.roll_seconds = time.perf_counter() - started
        else:
            outcome.per_sync += 2
            outcome.sync_seconds.append(time.perf_counter() - started)
    outcome.published_bytes = len(await storage.download(BUCKET, published))
    return outcome


async def upload_on_roll(storage: Storage, header: bytes, parts: list[bytes], folder: Path) -> Outcome:
    outcome = Outcome()
    path = folder / "f.avro"
    with open(path, "wb") as handle:
        handle.write(header)
        for block in parts:
            started = time.perf_counter()
            handle.write(block)
            handle.flush()
            os.fsync(handle.fileno())
            outcome.sync_seconds.append(time.perf_counter() - started)
    started = time.perf_counter()
    with open(path, "rb") as data:
        await storage.upload(BUCKET, "published/roll.avro", data, content_type="application/octet-stream")
    outcome.per_file += 1
    outcome.roll_seconds = time.perf_counter() - started
    outcome.published_bytes = len(await storage.download(BUCKET, "published/roll.avro"))
    return outcome


def per_hour(outcome: Outcome, syncs_per_file: int, syncs_per_hour: int) -> int:
    """Requests an hour for one shard that syncs ``syncs_per_hour`` times and rolls once (Divolte's hour)."""
    return round(outcome.per_sync / max(1, syncs_per_file - 1) * (syncs_per_hour - 1) + outcome.per_file)


async def measure(server: FakeGcsServer, args: argparse.Namespace) -> None:
    header, parts = blocks(args.syncs, args.records, args.record_bytes)
    storage = Storage(api_root=server.endpoint)
    try:
        with tempfile.TemporaryDirectory() as folder:
            results = {
                "compose (Divolte)": await compose(storage, header, parts),
                "upload-on-roll (ours)": await upload_on_roll(storage, header, parts, Path(folder)),
            }
    finally:
        await storage.close()
    size = len(header) + sum(len(p) for p in parts)
    print(f"One file: {args.syncs} syncs × {args.records} records × {args.record_bytes} B = {size / 1e6:.1f} MB")
    print(f"{'strategy':24} {'requests/file':>13} {'sync p50 ms':>11} {'sync p95 ms':>11} {'roll ms':>8} "
          f"{'req/h @1 sync/s':>15} {'req/h @30 s':>11}  visible in the bucket")  # fmt: skip
    for name, outcome in results.items():
        assert outcome.published_bytes == size, (name, outcome.published_bytes, size)
        syncs = sorted(outcome.sync_seconds)
        p50, p95 = statistics.median(syncs) * 1000, syncs[int(len(syncs) * 0.95) - 1] * 1000
        visible = "at each sync" if outcome.per_sync else "at roll"
        requests, roll = outcome.per_file + outcome.per_sync, outcome.roll_seconds * 1000
        busy, light = per_hour(outcome, args.syncs, 3600), per_hour(outcome, args.syncs, 120)
        print(f"{name:24} {requests:>13} {p50:>11.2f} {p95:>11.2f} {roll:>8.1f} {busy:>15} {light:>11}  {visible}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--syncs", type=int, default=60)
    parser.add_argument("--records", type=int, default=1000)
    parser.add_argument("--record-bytes", type=int, default=600)
    args = parser.parse_args()
    fetch()
    with tempfile.TemporaryDirectory() as folder:
        server = FakeGcsServer(Path(folder))
        server.start()
        try:
            server.create_bucket(BUCKET)
            asyncio.run(measure(server, args))
        finally:
            server.stop()


if __name__ == "__main__":
    main()
