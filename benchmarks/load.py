"""Drive a server with wrk and the corpus, and count what the collector delivered to its sink.

wrk runs pinned to its own core with one thread and keep-alive connections; ``benchmarks/corpus.lua``
cycles through the corpus and prints one ``BENCH_RESULT`` JSON line. The moment the load starts is taken
from wrk's ``Running …`` line (printed right after its threads started; stdout line-buffered with
``stdbuf``), or, without ``stdbuf``, as wrk's exit minus its measured duration.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks.servers import pinned
from collector.avro.container import complete_prefix

LUA = Path(__file__).with_name("corpus.lua")


@dataclass(slots=True)
class WrkResult:
    requests: int
    duration_s: float
    errors: int
    """Connect, read, write errors, timeouts and non-2xx/3xx answers, all together."""
    latency_us: dict[str, float]
    started_at: float
    """``time.time()`` when wrk's threads began sending."""
    ended_at: float
    raw: dict[str, Any] = field(default_factory=dict)

    @property
    def rate(self) -> float:
        return self.requests / self.duration_s


def run_wrk(
    port: int,
    corpus: Path,
    *,
    duration: int,
    connections: int,
    core: int | None,
    delay_ms: int | None = None,
    progress: str = "",
    host: str = "127.0.0.1",
) -> WrkResult:
    """Run wrk against ``host:port`` for ``duration`` seconds; ``delay_ms`` makes it a fixed-rate load."""
    env = {**os.environ, "BENCH_CORPUS": str(corpus)}
    if delay_ms is not None:
        env["BENCH_DELAY_MS"] = str(delay_ms)
    command = ["wrk", "-t1", f"-c{connections}", f"-d{duration}s", "--timeout", "10s", "-s", str(LUA),
               f"http://{host}:{port}/"]  # fmt: skip
    if shutil.which("stdbuf"):
        command = ["stdbuf", "-oL", *command]
    launched = time.time()
    process = subprocess.Popen(pinned(command, core), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env)
    assert process.stdout is not None
    started_at: float | None = None
    result: dict[str, Any] | None = None
    output: list[str] = []
    ticker = _Ticker(progress, duration) if progress else None
    for raw_line in process.stdout:
        line = raw_line.decode(errors="replace")
        output.append(line)
        if line.startswith("Running") and started_at is None:
            started_at = time.time()
            if ticker:
                ticker.start()
        elif line.startswith("BENCH_RESULT "):
            result = json.loads(line[len("BENCH_RESULT ") :])
    process.wait()
    ended_at = time.time()
    if ticker:
        ticker.stop()
    if process.returncode != 0 or result is None:
        raise RuntimeError(f"wrk failed ({process.returncode}):\n{''.join(output)[-3000:]}")
    duration_s = result["duration_us"] / 1e6
    if started_at is None or started_at - launched > duration_s:  # no line-buffering: derive it
        started_at = ended_at - duration_s
    errors = sum(result[k] for k in ("connect_errors", "read_errors", "write_errors", "status_errors", "timeouts"))
    return WrkResult(result["requests"], duration_s, errors, result["latency_us"], started_at, ended_at, result)


class _Ticker:
    """Progress while wrk runs: a line every 10 s (wrk itself prints nothing until it ends)."""

    def __init__(self, label: str, duration: int) -> None:
        self.label = label
        self.duration = duration
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def _run(self) -> None:
        begun = time.monotonic()
        while not self._stop.wait(10):
            elapsed = time.monotonic() - begun
            if elapsed < self.duration:
                print(f"      {self.label}: {elapsed:4.0f}/{self.duration} s", file=sys.stderr, flush=True)


def count_records(path: Path) -> int:
    """Records in a published Avro container file, from its block headers (no decoding)."""
    data = path.read_bytes()
    length, records = complete_prefix(data)
    if length != len(data):
        raise ValueError(f"{path} is not a complete Avro container file")
    return records


@dataclass(slots=True)
class Delivery:
    records: int
    files: int
    last_write: float
    """Latest modification time of a published file: when the last record was written."""
    corrupt_in_sample: int
    sample: int


def delivered(published: Path, sample: int = 2000) -> Delivery:
    """Count the records in every published file; decode a sample to check none is flagged corrupt."""
    import fastavro  # the collector's dependency; imported here so the rest runs without the venv

    files = sorted(published.glob("*.avro"))
    records = sum(count_records(f) for f in files)
    last_write = max((f.stat().st_mtime for f in files), default=0.0)
    corrupt = seen = 0
    for f in files:
        with f.open("rb") as handle:
            for record in fastavro.reader(handle):
                corrupt += bool(record["detectedCorruption"])  # type: ignore[call-overload, index]
                seen += 1
                if seen >= sample:
                    break
        if seen >= sample:
            break
    return Delivery(records, len(files), last_write, corrupt, seen)
