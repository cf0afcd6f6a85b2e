"""Disk full for real: the file sink's directories, and a Kafka sink's spool, on a 2 MiB tmpfs that fills up,
then gets room again.

Mounting needs root (``mount -t tmpfs -o size=2m tmpfs DIR``); where it is refused the test fails with the
command and the error, rather than pretending. The collector runs in-process with its real pipeline, runner
and file sink; nothing is injected: the kernel answers ENOSPC.
"""

from __future__ import annotations

import asyncio
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from collector.app import build_app
from collector.config import load
from collector.sinks.spool import Spool
from collector.supervise import TASK_FAILURES
from tests.integration.collector_process import free_port
from tests.integration.faults import avro_events, send, until
from tests.integration.kafka.records import decode, event_number

pytestmark = pytest.mark.integration

EVENTS = [(party, n) for n in range(100) for party in range(10)]


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    mount = tmp_path / "disk"
    mount.mkdir()
    command = ["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mount)]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    assert result.returncode == 0, f"`{' '.join(command)}` was refused: {result.stderr.strip()}"
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def fill(disk: Path) -> Path:
    """Take every free byte of the file system with one file; returns it (delete it to free the space)."""
    filler = disk / "filler"
    with open(filler, "wb") as out:
        try:
            while True:
                out.write(b"\0" * 65536)
                out.flush()
        except OSError:
            pass
    return filler


async def test_the_file_sink_survives_a_full_disk_and_publishes_everything_once_there_is_room(
    small_disk: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (small_disk / "work").mkdir()
    (small_disk / "publish").mkdir()
    config = small_disk.parent / "collector.conf"
    config.write_text(f"""
divolte {{
  global.supervision.write_timeout = 5 seconds
  sources.browser.type = browser
  sinks.files {{
    type = hdfs
    file_strategy {{
      working_dir = "{small_disk / "work"}", publish_dir = "{small_disk / "publish"}"
      roll_every = 1 second, sync_file_after_records = 50, sync_file_after_duration = 200 milliseconds
    }}
  }}
  mappings.m {{ sources = [browser], sinks = [files] }}
}}
""")
    app = build_app(load(config, env={}))
    await app.collector.start()
    runner = app.collector.topology.sinks["files"]
    before = TASK_FAILURES["sink:files"]
    filler = fill(small_disk)
    answered, sent = await send(app, EVENTS)
    assert answered == sent == len(EVENTS), "clients get their answer while the disk is full"
    assert await until(lambda: TASK_FAILURES["sink:files"] > before, 10), "the failure is counted"
    assert any("No space left on device" in r.getMessage() for r in caplog.records), "and logged"
    await asyncio.sleep(1.5)  # full for a while: retries, nothing written
    assert not app.collector.ready, "a sink without a spool that cannot write is not ready"
    filler.unlink()  # room again
    published = small_disk / "publish"

    def everything_published() -> bool:
        found: set[tuple[int, int]] = set()
        for path in published.glob("*.avro"):
            found |= avro_events(path.read_bytes())
        return found == set(EVENTS)

    assert await until(lambda: not runner.statistics().failing and app.collector.ready, 30), "recovers on its own"
    assert await until(everything_published, 30), "every event published, none lost"
    await app.collector.stop()
    assert not list((small_disk / "work").iterdir())


async def test_a_full_disk_under_the_kafka_spool_keeps_records_in_memory_and_spools_them_once_there_is_room(
    small_disk: Path, caplog: pytest.LogCaptureFixture
) -> None:
    spool = small_disk / "spool"
    config = small_disk.parent / "collector.conf"
    config.write_text(f"""
divolte {{
  global.kafka {{
    enabled = true, buffer_size = 1000, threads = 1, spool_dir = "{spool}"
    producer {{ bootstrap.servers = "127.0.0.1:{free_port()}", request.timeout.ms = 1000 }}
  }}
  global.hdfs.enabled = false
  sources.browser.type = browser
  sinks.kafka {{ type = kafka, topic = events }}
  mappings.m {{ sources = [browser], sinks = [kafka] }}
}}
""")
    app = build_app(load(config, env={}))
    await app.collector.start()
    runner = app.collector.topology.sinks["kafka"]
    warm, first, second, third = EVENTS[:1], EVENTS[1:300], EVENTS[300:600], EVENTS[600:]
    assert (await send(app, warm))[0] == 1
    assert await until(lambda: runner.statistics().failing, 20), "Kafka is down"  # that batch stays in hand
    assert (await send(app, first))[0] == len(first)
    assert await until(lambda: runner.statistics().spool_appended == len(first), 10), "now records go to the spool"
    filler = fill(small_disk)
    assert (await send(app, second))[0] == len(second), "clients get their answer while the disk is full"
    # Appends go through the spool's write buffer; the disk's refusal shows at the once-a-second flush (the
    # bytes stay buffered) or, once the buffer is full, at an append (the record then stays in the queue).
    assert await until(lambda: any("No space left on device" in r.getMessage() for r in caplog.records), 5)
    assert TASK_FAILURES["spool:kafka"] > 0, "counted"
    assert runner.statistics().dropped_spool_full == 0, "nothing dropped"
    filler.unlink()
    assert (await send(app, third))[0] == len(third)
    await app.collector.stop()  # Kafka still down: what is in memory goes in front of the spool
    kept = Spool(spool / "kafka", 10**9)
    kept.open()
    try:
        found = [event_number(decode(r.payload)) for r in kept.read(10**6)]
    finally:
        kept.close()
    assert sorted(found) == sorted(EVENTS), f"{len(set(EVENTS) - set(found))} events lost"
