"""The GCS sink end to end: the real collector process uploads its files to a real Cloud Storage emulator
(fake-gcs-server) on 127.0.0.1.

Object names, records (decoded with Apache Avro), ``cat gs://``, an outage of the server for 20 s while events
flow, a file left by ``kill -9`` uploaded by the next start, and the start-up errors for a missing bucket and
for a broken credentials file.
"""

from __future__ import annotations

import io
import os
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

import avro.datafile
import avro.io
import httpx
import pytest

from collector.avro.container import complete_prefix
from tests.integration.collector_process import RunningCollector, StartCollector
from tests.integration.events import BROWSER_HEADERS
from tests.integration.gcs.conftest import outage_server
from tests.paths import REPO
from tests.servers.gcs.server import FakeGcsServer

pytestmark = pytest.mark.integration

NAME = re.compile(r"^/divolte/published/\d{14}-divolte-tracking-.+-\d+\.avro$")
QUERY = "p=0%3Ai1t84hgy%3Aparty{party}&s=0%3Ai1t84hgy%3Asession&v=0%3Apv&e=0%3Aev{n}&c=i1t8q2b6&n=f&f=f&t=ev{n}"


def gcs_config(tmp_path: Path, bucket: str, *, roll_every: str = "2 seconds", threads: int = 2) -> str:
    return f"""
divolte {{
  global.gcs {{ enabled = true, threads = {threads} }}
  sources.browser.type = browser
  sinks.lake {{
    type = gcs
    bucket = {bucket}
    local_dir = "{tmp_path / "local"}"
    file_strategy {{
      working_dir = /divolte/inflight
      publish_dir = /divolte/published
      roll_every = {roll_every}
      sync_file_after_records = 50
      sync_file_after_duration = 500 milliseconds
    }}
    retry_settings {{ initial_retry_delay = 200 milliseconds, max_retry_delay = 2 seconds, jitter_delay = 100 ms }}
  }}
  mappings.m {{ sources = [browser], sinks = [lake] }}
}}
"""


def send(collector: RunningCollector, numbers: range, per_second: float | None = None) -> None:
    with httpx.Client(base_url=collector.base_url, headers=BROWSER_HEADERS) as client:
        started = time.monotonic()
        for i, n in enumerate(numbers):
            assert client.get(f"/csc-event?{QUERY.format(party=n % 20, n=n)}").status_code == 200
            if per_second:
                time.sleep(max(0.0, started + (i + 1) / per_second - time.monotonic()))


def records(data: bytes) -> list[dict[str, Any]]:
    """Decoded by Apache Avro (independent of the fastavro writer under test)."""
    return [cast(dict[str, Any], r) for r in avro.datafile.DataFileReader(io.BytesIO(data), avro.io.DatumReader())]


def event_types(objects: dict[str, bytes]) -> Counter[str]:
    return Counter(str(r["eventType"]) for data in objects.values() for r in records(data))


def expected(numbers: range) -> Counter[str]:
    return Counter(f"ev{n}" for n in numbers)


def wait_for(condition: Callable[[], bool], timeout: float, what: str, collector: RunningCollector) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}:\n{collector.log()[-4000:]}")
        time.sleep(0.25)


def test_records_arrive_under_publish_dir_and_cat_reads_them(
    gcs: FakeGcsServer, bucket: str, start_collector: StartCollector, tmp_path: Path
) -> None:
    collector = start_collector(gcs_config(tmp_path, bucket))
    send(collector, range(0, 100))
    wait_for(lambda: sum(event_types(gcs.objects(bucket)).values()) == 100, 20, "the first files", collector)
    metrics = httpx.get(f"{collector.base_url}/metrics").text
    uploaded = re.search(r'^divolte_sink_uploaded_bytes_total\{sink="lake"\} (\S+)$', metrics, re.MULTILINE)
    assert uploaded and float(uploaded.group(1)) > 0, metrics
    send(collector, range(100, 200))
    assert collector.stop() == 0  # the open files are published and uploaded on the way out
    objects = gcs.objects(bucket)
    assert event_types(objects) == expected(range(200))
    assert all(NAME.match(name) for name in objects), list(objects)
    assert len(objects) >= 3  # two shards, at least one roll
    first = records(next(iter(objects.values())))[0]
    assert first["partyId"].startswith("0:i1t84hgy:party") and first["sessionId"] == "0:i1t84hgy:session"
    assert first["pageViewId"] == "0:pv" and first["remoteHost"] == "127.0.0.1"
    assert first["userAgentString"] == BROWSER_HEADERS["User-Agent"]
    assert first["firstInSession"] is False and first["detectedDuplicate"] is False
    assert not list((tmp_path / "local" / "lake" / "upload").iterdir())  # confirmed uploads are deleted
    assert not [n for n in gcs.names(bucket) if n.startswith("/divolte/inflight")]  # nothing in flight

    env = {**os.environ, "PYTHONPATH": str(REPO)}
    result = subprocess.run([sys.executable, "-m", "collector.cli", "cat", "--count", f"gs://{bucket}//divolte/"],
                            capture_output=True, env=env, timeout=60, check=False)  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout.decode().splitlines()[-1] == "200 total"
    name = next(iter(objects))
    result = subprocess.run([sys.executable, "-m", "collector.cli", "cat", f"gs://{bucket}/{name}"],
                            capture_output=True, env=env, timeout=60, check=False)  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert len(result.stdout.splitlines()) == len(records(objects[name]))


@pytest.mark.gcs_outage
def test_gcs_down_for_20_seconds_while_events_flow_loses_nothing(
    start_collector: StartCollector, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = outage_server(tmp_path / "server", monkeypatch)
    try:
        server.create_bucket("lake")
        collector = start_collector(gcs_config(tmp_path, "lake", roll_every="1 second"))
        send(collector, range(0, 100), per_second=50)
        wait_for(lambda: sum(event_types(server.objects("lake")).values()) == 100, 20, "uploads before", collector)
        before = server.objects("lake")  # objects are in memory: the restarted server starts empty

        server.stop()
        outage_started = time.monotonic()
        send(collector, range(100, 200), per_second=20)
        assert httpx.get(f"{collector.base_url}/ready").status_code == 200  # records are safe on local disk
        send(collector, range(200, 500), per_second=20)  # 20 s of events while Cloud Storage is down
        upload_dir = tmp_path / "local" / "lake" / "upload"
        backlog = list(upload_dir.iterdir())
        assert len(backlog) >= 8, backlog  # rolled files wait on local disk
        assert "UPLOAD FAILED" in collector.log()
        assert time.monotonic() - outage_started >= 19

        server.start()
        outage = time.monotonic() - outage_started
        server.create_bucket("lake")
        send(collector, range(500, 600), per_second=50)
        wait_for(lambda: sum(event_types(server.objects("lake")).values()) == 500, 60, "the backlog", collector)
        assert collector.stop() == 0
        after = server.objects("lake")
    finally:
        server.stop()
    received = event_types(before) + event_types(after)
    print(f"\nGCS outage of {outage:.0f} s: sent 600, written "
          f"{sum(received.values())} ({sum(event_types(before).values())} before in {len(before)} objects, "
          f"{sum(event_types(after).values())} after in {len(after)}, {len(backlog)} files backlogged), distinct "
          f"{len(received)}, lost {sum((expected(range(600)) - received).values())}")  # fmt: skip
    assert received == expected(range(600))  # every record exactly once
    assert not list(upload_dir.iterdir())
    assert "uploads work again" in collector.log()


def synced(work: Path) -> int:
    return sum(complete_prefix(p.read_bytes())[1] for p in work.glob("*.partial"))


def test_files_left_by_kill_9_are_uploaded_by_the_next_start(
    gcs: FakeGcsServer, bucket: str, start_collector: StartCollector, tmp_path: Path
) -> None:
    config = gcs_config(tmp_path, bucket, roll_every="1 hour", threads=1)
    work = tmp_path / "local" / "lake"
    first = start_collector(config)
    send(first, range(0, 60))
    wait_for(lambda: synced(work) == 60, 20, "60 synced records", first)
    first.stop(signal.SIGKILL)  # a crash: the open file is left as .partial, nothing is in the bucket
    assert gcs.names(bucket) == []
    second = start_collector(config)  # recovers it into the upload queue and uploads it while it runs
    wait_for(lambda: sum(event_types(gcs.objects(bucket)).values()) == 60, 30, "the recovered upload", second)
    assert "recovered" in second.log()
    assert second.stop() == 0
    assert event_types(gcs.objects(bucket)) == expected(range(60))
    assert not list((work / "upload").iterdir())


def test_a_missing_bucket_stops_the_collector_with_the_fix(
    gcs: FakeGcsServer, start_collector: StartCollector, tmp_path: Path
) -> None:
    collector = start_collector(gcs_config(tmp_path, "never-created"), wait=False)
    assert collector.process.wait(30) != 0
    log = collector.log()
    assert "divolte.sinks.lake: bucket 'never-created' does not exist" in log, log
    assert "gcloud storage buckets create gs://never-created" in log
    assert "Traceback" not in log, log  # the cause and its fix, not buried under a stack trace


def test_a_broken_credentials_file_stops_the_collector_naming_it(
    gcs: FakeGcsServer, bucket: str, start_collector: StartCollector, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = tmp_path / "service-account.json"
    key.write_text('{"type": "service_account", "client_email": "collector@project.iam.gserviceaccount.com",')
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(key))
    collector = start_collector(gcs_config(tmp_path, bucket), wait=False)
    assert collector.process.wait(30) != 0
    log = collector.log()
    assert f"GOOGLE_APPLICATION_CREDENTIALS={key}: the file is not JSON" in log, log
