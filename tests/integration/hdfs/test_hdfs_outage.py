"""The outage test on a real HDFS: 10,000 events through the collector process, the NameNode stopped for 20 s in
the middle, then every event found exactly once in the published files (read with WebHDFS and Apache Avro).

The figures are printed (``pytest -s``): sent, found, distinct, duplicates, lost. The sink shows it is failing
while the NameNode is down (``divolte_sink_failing_seconds`` above 0, ``/ready`` 503 once it fails longer than
``supervision.failing_after``), keeps the records in its spool, and resumes on its own in a new file.
And a collector killed (``kill -9``) with open files: the next start publishes them.
"""

from __future__ import annotations

import collections
import signal
import time
from pathlib import Path

import httpx
import pytest

from tests.integration.collector_process import StartCollector
from tests.integration.hdfs.conftest import HdfsFolders
from tests.integration.kafka.records import event_number, send_events
from tests.integration.metrics_text import samples

pytestmark = pytest.mark.integration

PARTIES = 100
OUTAGE_SECONDS = 20.0


def hdfs_config(folders: HdfsFolders, spool: Path) -> str:
    cluster = folders.cluster
    return f"""
divolte {{
  global {{
    hdfs {{
      threads = 2
      client {{
        fs.defaultFS = "{cluster.default_fs}"
        dfs.namenode.http-address = "{cluster.http_address}"
      }}
    }}
    kafka.spool_dir = "{spool}"
    supervision.failing_after = 5 seconds
  }}
  sources.browser.type = browser
  sinks.hdfs {{
    type = hdfs
    replication = 1
    file_strategy {{
      working_dir = "{folders.working}"
      publish_dir = "hdfs://127.0.0.1:{cluster.rpc_port}{folders.published}"
      sync_file_after_records = 200
      sync_file_after_duration = 1 seconds
      roll_every = 5 seconds
    }}
  }}
  mappings.test {{ sources = [browser], sinks = [hdfs] }}
}}
"""


@pytest.mark.hdfs_outage
def test_ten_thousand_events_through_a_twenty_second_namenode_outage(
    hdfs_folders: HdfsFolders, start_collector: StartCollector, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HADOOP_USER_NAME", hdfs_folders.user)
    cluster = hdfs_folders.cluster
    collector = start_collector(hdfs_config(hdfs_folders, tmp_path / "spool"))
    events = [(party, event) for event in range(10_000 // PARTIES) for party in range(PARTIES)]
    before, during, after = events[:3_000], events[3_000:7_000], events[7_000:]

    sent = send_events(collector.base_url, before)
    cluster.stop_namenode()
    stopped = time.monotonic()
    sent += send_events(collector.base_url, during[:1_000], pace=0.004)
    metrics = samples(httpx.get(f"{collector.base_url}/metrics").text)
    assert metrics[("divolte_sink_failing_seconds", (("sink", "hdfs"),))] > 0
    sent += send_events(collector.base_url, during[1_000:], pace=0.002)
    time.sleep(max(0.0, OUTAGE_SECONDS - 2 - (time.monotonic() - stopped)))
    assert httpx.get(f"{collector.base_url}/ready").status_code == 503  # failing for longer than failing_after
    time.sleep(max(0.0, OUTAGE_SECONDS - (time.monotonic() - stopped)))
    cluster.start_namenode()
    sent += send_events(collector.base_url, after)
    deadline = time.monotonic() + 60
    while httpx.get(f"{collector.base_url}/ready").status_code != 200:
        assert time.monotonic() < deadline, collector.log()[-3000:]
        time.sleep(0.5)
    assert collector.stop() == 0
    if hdfs_folders.names(hdfs_folders.working):
        # An append cut off by the stop holds its file until its lease expires (5 s on the test cluster, a
        # minute on a default one); the next start cuts it to the length HDFS acknowledged (the collector's
        # ledger) and publishes it.
        restarted = start_collector(hdfs_config(hdfs_folders, tmp_path / "spool"))
        deadline = time.monotonic() + 120
        while hdfs_folders.names(hdfs_folders.working):
            assert time.monotonic() < deadline, restarted.log()[-3000:]
            time.sleep(1)
        assert restarted.stop() == 0

    found = [event_number(record) for record in hdfs_folders.published_records()]
    counts = collections.Counter(found)
    duplicates = sum(n - 1 for n in counts.values() if n > 1)
    lost = len(set(events) - set(counts))
    print(f"HDFS OUTAGE {OUTAGE_SECONDS:.0f} s: sent {sent}, found {len(found)}, distinct {len(counts)}, "
          f"duplicates {duplicates}, lost {lost}")  # fmt: skip
    assert (sent, lost, duplicates) == (len(events), 0, 0)
    log = collector.log()
    assert "spooling to" in log and "cannot write to" in log


def test_a_killed_collectors_partial_files_are_published_by_the_next_start(
    hdfs_folders: HdfsFolders, start_collector: StartCollector, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HADOOP_USER_NAME", hdfs_folders.user)
    config = hdfs_config(hdfs_folders, tmp_path / "spool").replace("roll_every = 5 seconds", "roll_every = 1 hour")
    collector = start_collector(config)
    events = [(party, 0) for party in range(500)]
    send_events(collector.base_url, events)
    deadline = time.monotonic() + 30
    while sum(len(hdfs_folders.records(f"{hdfs_folders.working}/{name}"))
              for name in hdfs_folders.names(hdfs_folders.working)) < len(events):  # fmt: skip
        assert time.monotonic() < deadline, "not synced in time"
        time.sleep(0.5)
    assert collector.stop(signal.SIGKILL) == -signal.SIGKILL
    assert hdfs_folders.names(hdfs_folders.published) == []
    restarted = start_collector(config)
    deadline = time.monotonic() + 30
    while hdfs_folders.names(hdfs_folders.working):
        assert time.monotonic() < deadline, restarted.log()
        time.sleep(0.5)
    assert sorted(event_number(record) for record in hdfs_folders.published_records()) == sorted(events)
    assert restarted.stop() == 0
    assert "left by an earlier process" in restarted.log()
