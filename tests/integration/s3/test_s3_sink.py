"""The S3 sink end to end: the real collector process uploads its files to a real S3 server (moto) on 127.0.0.1.

Keys, records (read by fastavro and Apache Avro), ``cat`` on the bucket, an outage of the S3 server while
events flow, and files left behind by ``kill -9`` uploaded by the next start.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from collector.avro.container import complete_prefix
from tests.integration.collector_process import RunningCollector, StartCollector
from tests.integration.events import BROWSER_HEADERS
from tests.integration.s3.moto_server import REGION, MotoServer, read_records
from tests.paths import REPO

pytestmark = pytest.mark.integration

BUCKET = "clickstream-lake"
KEY = re.compile(r"^events/dt=(\d{4})-(\d\d)-(\d\d)/hour=(\d\d)/((\d{8})(\d\d)\d{4}-divolte-tracking-.+-\d+\.avro)$")
QUERY = "p=0%3Ai1t84hgy%3Aparty{party}&s=0%3Ai1t84hgy%3Asession&v=0%3Apv&e=0%3Aev{n}&c=i1t8q2b6&n=f&f=f&t=ev{n}"


def s3_config(moto: MotoServer, tmp_path: Path, *, roll_every: str = "2 seconds", codec: str = "snappy",
              threads: int = 2, max_retry_delay: str = "2 seconds") -> str:  # fmt: skip
    (tmp_path / "work").mkdir(exist_ok=True)
    return f"""
divolte {{
  global.s3.threads = {threads}
  sources.browser.type = browser
  sinks.lake {{
    type = s3
    bucket = {BUCKET}
    prefix = events
    region = {REGION}
    endpoint = "{moto.endpoint}"
    file_strategy {{
      working_dir = "{tmp_path / "work"}"
      roll_every = {roll_every}
      sync_file_after_records = 50
      sync_file_after_duration = 500 milliseconds
      codec = {codec}
    }}
    retry_settings {{ initial_retry_delay = 200 milliseconds, max_retry_delay = {max_retry_delay} }}
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


def event_ids(objects: dict[str, bytes]) -> Counter[str]:
    return Counter(str(r["eventType"]) for data in objects.values() for r in read_records(data))


def wait_for(condition: Callable[[], bool], timeout: float, what: str, collector: RunningCollector) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}:\n{collector.log()[-4000:]}")
        time.sleep(0.25)


def expected(numbers: range) -> Counter[str]:
    return Counter(f"ev{n}" for n in numbers)


def test_files_appear_under_hive_keys_with_their_records(
    moto: MotoServer, start_collector: StartCollector, tmp_path: Path
) -> None:
    moto.create_bucket(BUCKET)
    collector = start_collector(s3_config(moto, tmp_path))
    send(collector, range(0, 100))
    wait_for(lambda: sum(event_ids(moto.objects(BUCKET)).values()) == 100, 20, "the first files", collector)
    metrics = httpx.get(f"{collector.base_url}/metrics").text
    uploaded = re.search(r'^divolte_sink_uploaded_bytes_total\{sink="lake"\} (\S+)$', metrics, re.MULTILINE)
    assert uploaded and float(uploaded.group(1)) > 0, metrics
    assert re.search(r'^divolte_sink_upload_backlog_bytes\{sink="lake"\} ', metrics, re.MULTILINE)
    send(collector, range(100, 200))
    assert collector.stop() == 0  # the open files are published and uploaded on the way out
    objects = moto.objects(BUCKET)
    assert event_ids(objects) == expected(range(200))
    counts = {key: len(read_records(data)) for key, data in objects.items()}
    print("\nS3 objects (key: records):\n" + "\n".join(f"  {key}: {n}" for key, n in counts.items()))
    assert len(objects) >= 3  # two shards, at least one roll
    for key in objects:
        match = KEY.match(key)
        assert match, key
        year, month, day, hour, _, name_date, name_hour = match.groups()
        assert (f"{year}{month}{day}", hour) == (name_date, name_hour)  # the partition is the file's own time
    assert not list((tmp_path / "work" / "lake" / "upload").iterdir())  # confirmed uploads are deleted
    assert not list((tmp_path / "work" / "lake").glob("*.partial"))

    env = {**os.environ, "PYTHONPATH": str(REPO), "AWS_ENDPOINT_URL": moto.endpoint, "AWS_REGION": REGION}
    result = subprocess.run([sys.executable, "-m", "collector.cli", "cat", "--count", f"s3://{BUCKET}/events/"],
                            capture_output=True, env=env, timeout=60, check=False)  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout.decode().splitlines()[-1] == "200 total"
    first = next(iter(objects))
    command = [sys.executable, "-m", "collector.cli", "cat", "--endpoint", moto.endpoint, f"s3://{BUCKET}/{first}"]
    result = subprocess.run(command, capture_output=True, env=env, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    assert len(result.stdout.splitlines()) == counts[first]


@pytest.mark.s3_outage
def test_s3_down_for_30_seconds_while_events_flow_loses_nothing(
    moto: MotoServer, start_collector: StartCollector, tmp_path: Path
) -> None:
    moto.create_bucket(BUCKET)
    collector = start_collector(s3_config(moto, tmp_path, roll_every="1 second"))
    send(collector, range(0, 100), per_second=50)
    wait_for(lambda: sum(event_ids(moto.objects(BUCKET)).values()) == 100, 20, "uploads before the outage", collector)
    before = moto.objects(BUCKET)  # moto keeps objects in memory: a restarted server starts empty

    moto.stop()
    outage_started = time.monotonic()
    send(collector, range(100, 200), per_second=20)
    # Records are safe on local disk: still ready (until the outage outlasts supervision.failing_after, 30 s).
    assert httpx.get(f"{collector.base_url}/ready").status_code == 200
    send(collector, range(200, 700), per_second=20)  # 30 s of events while S3 is down in all
    upload_dir = tmp_path / "work" / "lake" / "upload"
    backlog = list(upload_dir.iterdir())
    assert len(backlog) >= 10, backlog  # rolled files wait on local disk
    assert "UPLOAD FAILED" in collector.log()
    assert time.monotonic() - outage_started >= 29

    moto.start()
    moto.create_bucket(BUCKET)
    send(collector, range(700, 800), per_second=50)
    wait_for(lambda: sum(event_ids(moto.objects(BUCKET)).values()) == 700, 60, "the backlog to upload", collector)
    assert collector.stop() == 0
    after = moto.objects(BUCKET)
    assert not set(before) & set(after)
    received = event_ids(before) + event_ids(after)
    print(f"\nOutage: {sum(event_ids(before).values())} records in {len(before)} objects before, "
          f"{sum(event_ids(after).values())} in {len(after)} objects after ({len(backlog)} files backlogged); "
          f"sent 800, received {sum(received.values())}, distinct {len(received)}")  # fmt: skip
    assert received == expected(range(800))  # every record exactly once
    assert not list(upload_dir.iterdir())
    assert "uploads work again" in collector.log()


def synced(work: Path) -> int:
    return sum(complete_prefix(p.read_bytes())[1] for p in work.glob("*.partial"))


def test_files_left_by_kill_9_are_uploaded_by_the_next_start(
    moto: MotoServer, start_collector: StartCollector, tmp_path: Path
) -> None:
    config = s3_config(moto, tmp_path, roll_every="1 hour", codec="zstandard", threads=1)
    work = tmp_path / "work" / "lake"
    # 1. The bucket does not exist yet: nothing can be uploaded. A crash leaves a .partial file.
    first = start_collector(config)
    send(first, range(0, 60))
    wait_for(lambda: synced(work) == 60, 20, "60 synced records", first)
    first.stop(signal.SIGKILL)
    # 2. The next start recovers it into the upload queue, fails to upload it, writes more, and crashes too.
    second = start_collector(config)
    wait_for(lambda: "UPLOAD FAILED" in second.log(), 20, "a failed upload", second)
    assert "recovered" in second.log()
    send(second, range(60, 90))
    wait_for(lambda: synced(work) == 30, 20, "30 more synced records", second)
    second.stop(signal.SIGKILL)
    assert len(list((work / "upload").iterdir())) == 1
    assert len(list(work.glob("*.partial"))) == 1
    # 3. With the bucket there, the next start uploads both while it runs.
    moto.create_bucket(BUCKET)
    third = start_collector(config)
    wait_for(lambda: sum(event_ids(moto.objects(BUCKET)).values()) == 90, 30, "the recovered uploads", third)
    assert third.stop() == 0
    objects = moto.objects(BUCKET)
    assert event_ids(objects) == expected(range(90))
    assert sorted(len(read_records(data)) for data in objects.values()) == [30, 60]
    assert all(KEY.match(key) for key in objects)
    assert not list((work / "upload").iterdir())
