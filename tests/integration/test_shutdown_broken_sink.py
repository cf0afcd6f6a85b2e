"""SIGTERM while a sink has been failing for longer than ``supervision.failing_after``: the real server process
exits within ``shutdown_timeout`` plus the documented bound, and every accepted record that was not written is
on disk (the Kafka sink's spool, or published files waiting in the S3 sink's upload folder), none only in memory.

The sink fails for ``failing_after = 2 seconds`` rather than the default 30 s (or a minute): what shutdown does
depends on whether the sink is failing and has a spool, not on for how long, so a short failure shows the same.
"""

from __future__ import annotations

import io
import signal
import time
from pathlib import Path

import fastavro
import httpx
import pytest

from collector.sinks.spool import Spool
from tests.integration.collector_process import RunningCollector, StartCollector, free_port
from tests.integration.kafka.records import decode, event_number, send_events

pytestmark = pytest.mark.integration

SHUTDOWN_TIMEOUT = 5.0
BOUND = 10.0
"""Seconds beyond shutdown_timeout the exit may take here: the sink's close (README, Operations)."""
EVENTS = [(party, n) for n in range(20) for party in range(10)]
COMMON = f"""
  global.server.shutdown_timeout = {int(SHUTDOWN_TIMEOUT)} seconds
  global.supervision {{ failing_after = 2 seconds, write_timeout = 2 seconds }}
  sources.browser.type = browser
"""


def fail_for_a_while_then_stop(collector: RunningCollector, sink: str) -> float:
    """Events in, the sink visibly failing past failing_after, then SIGTERM; returns the seconds to exit."""
    assert send_events(collector.base_url, EVENTS) == len(EVENTS)
    deadline = time.monotonic() + 30
    while f"Sink '{sink}' has been FAILING" not in collector.log():
        assert time.monotonic() < deadline, collector.log()
        time.sleep(0.2)
    assert httpx.get(f"{collector.base_url}/ready").status_code == 503
    metrics = httpx.get(f"{collector.base_url}/metrics").text
    assert f'divolte_sink_failing_seconds{{sink="{sink}"}}' in metrics
    assert 'divolte_sink_healthy{sink="' + sink + '"} 0.0' in metrics
    started = time.monotonic()
    assert collector.stop(signal.SIGTERM, timeout=SHUTDOWN_TIMEOUT + 30) == 0
    return time.monotonic() - started


def test_kafka_unreachable_for_longer_than_failing_after_keeps_every_record_in_the_spool(
    start_collector: StartCollector, tmp_path: Path
) -> None:
    spool = tmp_path / "spool"
    collector = start_collector(f"""
divolte {{
  {COMMON}
  global.kafka {{ enabled = true, spool_dir = "{spool}", producer {{ bootstrap.servers = "127.0.0.1:{free_port()}" }} }}
  global.hdfs.enabled = false
  sinks.kafka {{ type = kafka, topic = events }}
  mappings.m {{ sources = [browser], sinks = [kafka] }}
}}
""")
    took = fail_for_a_while_then_stop(collector, "kafka")
    print(f"\nKafka unreachable: SIGTERM to exit {took:.1f} s (shutdown_timeout {SHUTDOWN_TIMEOUT:.0f} s)")
    assert took < SHUTDOWN_TIMEOUT + BOUND
    kept = Spool(spool / "kafka", 10**9)
    kept.open()
    try:
        records = kept.read(10**6)
    finally:
        kept.close()
    found = [event_number(decode(r.payload)) for r in records]
    assert sorted(found) == sorted(EVENTS), "every accepted record is in the spool, each once"


def test_s3_unreachable_for_longer_than_failing_after_keeps_every_record_in_published_files(
    start_collector: StartCollector, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    (tmp_path / "work").mkdir()
    collector = start_collector(f"""
divolte {{
  {COMMON}
  sinks.lake {{
    type = s3, bucket = lake, region = us-east-1, endpoint = "http://127.0.0.1:{free_port()}"
    file_strategy {{ working_dir = "{tmp_path / "work"}", roll_every = 1 second, sync_file_after_records = 10 }}
    retry_settings {{ initial_retry_delay = 200 milliseconds, max_retry_delay = 1 second }}
  }}
  mappings.m {{ sources = [browser], sinks = [lake] }}
}}
""")
    took = fail_for_a_while_then_stop(collector, "lake")
    print(f"\nS3 unreachable: SIGTERM to exit {took:.1f} s (shutdown_timeout {SHUTDOWN_TIMEOUT:.0f} s)")
    assert took < SHUTDOWN_TIMEOUT + BOUND
    found = []
    for path in sorted((tmp_path / "work" / "lake" / "upload").glob("*.avro")):
        found += [event_number(r) for r in fastavro.reader(io.BytesIO(path.read_bytes()))]  # type: ignore[arg-type]
    assert sorted(found) == sorted(EVENTS), "every accepted record is in a published file waiting for upload"
    assert not list((tmp_path / "work" / "lake").glob("*.partial")), "nothing left half-written"
