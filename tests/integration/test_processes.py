"""``processes = 2`` on a real server: exactly once across workers, shared duplicates, crashes, shutdown, metrics."""

from __future__ import annotations

import datetime
import io
import os
import re
import signal
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any, cast

import fastavro
import httpx
import pytest

from collector.avro.container import complete_prefix
from tests.integration.collector_process import RunningCollector, StartCollector, free_port
from tests.integration.events import BROWSER_HEADERS
from tests.integration.file_sink import file_sink_config, read_published
from tests.integration.metrics_text import samples

pytestmark = pytest.mark.integration

QUERY = "p=0%3Ai1t84hgy%3Aparty{party}&s=0%3Ai1t84hgy%3Asession&v=0%3Apv&e=0%3A{event}&c=i1t8q2b6&n=f&f=f&t=load"
WORKER_PID = re.compile(r"Worker (\d+) of 2 \(pid (\d+)\) serving")
BACK = re.compile(r"^(\S+ \S+) .*Worker 1 is back \(pid \d+\), ready [\d.]+ s after its predecessor died", re.M)
FILE_NUMBER = re.compile(r"-(\d+)(?:-\d+)?\.avro(?:\.partial)?$")


def two_workers(tmp_path: Path, sync_every: int = 100, extra_global: str = "") -> str:
    return file_sink_config(
        tmp_path,
        f"server.processes = 2\n    {extra_global}",
        file_strategy_extra=f"sync_file_after_records = {sync_every}",
    )


def start_two_workers(start_collector: StartCollector, config: str) -> RunningCollector:
    """Start the collector and wait until both workers are ready (``/ping`` answers as soon as one is)."""
    collector = start_collector(config)
    deadline = time.monotonic() + 30
    while "All 2 workers ready" not in collector.log():
        assert time.monotonic() < deadline, collector.log()
        time.sleep(0.02)
    return collector


def worker_of(file_name: str) -> int:
    """Which worker wrote a file: its ``<n>`` is ``index × 1000 + shard``."""
    match = FILE_NUMBER.search(file_name)
    assert match, file_name
    return int(match.group(1)) // 1000


def worker_pids(collector: RunningCollector) -> dict[int, int]:
    return {int(index): int(pid) for index, pid in WORKER_PID.findall(collector.log())}


def event_query(party: int, event: str) -> str:
    return QUERY.format(party=party, event=event)


def party_id(party: int) -> str:
    """The party id ``event_query`` sends: every event of these tests has a party of its own, its key."""
    return f"0:i1t84hgy:party{party}"


class Load:
    """Client threads, each on its own keep-alive connection, sending distinct events until stopped.

    ``accepted`` holds the event ids answered 200; a thread whose connection breaks opens a new one."""

    def __init__(self, base_url: str, connections: int) -> None:
        self.base_url = base_url
        self.accepted: list[str] = []
        self.answered_at: list[float] = []
        self.stop = threading.Event()
        self._lock = threading.Lock()
        self.threads = [threading.Thread(target=self._send, args=(k,)) for k in range(connections)]

    def __enter__(self) -> Load:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(30)

    def _send(self, connection: int) -> None:
        n = 0
        while not self.stop.is_set():
            with httpx.Client(base_url=self.base_url, headers=BROWSER_HEADERS, timeout=10) as client:
                while not self.stop.is_set():
                    party = connection * 1_000_000 + n
                    n += 1
                    try:
                        status = client.get(f"/csc-event?{event_query(party, f'e{n}')}").status_code
                    except httpx.TransportError:
                        break  # the worker went away (kill -9) or is stopping: reconnect
                    if status == 200:
                        with self._lock:
                            self.accepted.append(party_id(party))
                            self.answered_at.append(time.monotonic())

    def wait_for(self, count: int, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while len(self.accepted) < count:
            assert time.monotonic() < deadline, f"only {len(self.accepted)} events accepted"
            time.sleep(0.02)


def test_many_connections_exactly_once_and_metrics_sum(start_collector: StartCollector, tmp_path: Path) -> None:
    collector = start_two_workers(start_collector, two_workers(tmp_path))
    per_connection, connections = 150, 16
    sent: list[str] = []

    def send(connection: int) -> None:
        with httpx.Client(base_url=collector.base_url, headers=BROWSER_HEADERS) as client:
            for n in range(per_connection):
                party = connection * 1000 + n
                assert client.get(f"/csc-event?{event_query(party, f'e{n}')}").status_code == 200
                sent.append(party_id(party))

    threads = [threading.Thread(target=send, args=(k,)) for k in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert len(sent) == per_connection * connections
    deadline = time.monotonic() + 20
    while True:  # every accepted event processed and handed to the sink
        values = samples(httpx.get(f"{collector.base_url}/metrics").text)
        if values[("divolte_sink_records_written_total", (("sink", "files"),))] == len(sent):
            break
        assert time.monotonic() < deadline, values
        time.sleep(0.1)
    assert values[("divolte_events_accepted_total", ())] == len(sent)
    assert values[("divolte_events_processed_total", ())] == len(sent)
    assert values[("divolte_http_requests_total", (("endpoint", "/csc-event"), ("status", "200")))] == len(sent)
    assert values[("divolte_workers", (("state", "scraped"),))] == 2
    assert values[("divolte_ready", ())] == 1
    assert ("divolte_queue_depth", (("queue", "intake"), ("worker", "1"))) in values  # gauges: per worker
    assert collector.stop(signal.SIGTERM) == 0, collector.log()

    records = read_published(tmp_path)  # valid for fastavro and Apache Avro
    events = Counter(record["partyId"] for record in records)
    assert set(events) == set(sent) and max(events.values()) == 1  # every event exactly once
    assert len(records) == values[("divolte_sink_records_written_total", (("sink", "files"),))]
    workers = {worker_of(path.name) for path in (tmp_path / "publish").iterdir()}
    assert workers == {0, 1}, "both workers served (16 connections spread by SO_REUSEPORT)"
    assert "[worker-0 " in collector.log() and "[worker-1 " in collector.log()  # log lines carry the index


def test_duplicate_on_two_connections_to_two_workers_is_flagged(
    start_collector: StartCollector, tmp_path: Path
) -> None:
    collector = start_two_workers(start_collector, two_workers(tmp_path, sync_every=1))
    clients = [httpx.Client(base_url=collector.base_url, headers=BROWSER_HEADERS) for _ in range(12)]
    try:
        for client in clients:  # the same event, once per connection: only the first is not a duplicate
            assert client.get(f"/csc-event?{event_query(7, 'retried')}").status_code == 200
            time.sleep(0.2)  # processed before the next copy arrives
    finally:
        for client in clients:
            client.close()
    assert collector.stop(signal.SIGTERM) == 0, collector.log()
    copies = []
    for path in (tmp_path / "publish").iterdir():
        with open(path, "rb") as handle:
            records = [cast(dict[str, Any], record) for record in fastavro.reader(handle)]
            copies += [(record["detectedDuplicate"], worker_of(path.name)) for record in records]
    assert len(copies) == 12
    assert {worker for _, worker in copies} == {0, 1}, "12 connections all reached one worker"
    assert sum(not duplicate for duplicate, _ in copies) == 1, copies


def partial_events(work: Path, worker: int) -> set[str]:
    """Party ids (one per event here) in the complete blocks of a worker's ``.partial`` files: what it had synced."""
    events: set[str] = set()
    for path in work.glob("*.partial"):
        if worker_of(path.name) == worker:
            data = path.read_bytes()
            length, _ = complete_prefix(data)
            events.update(
                cast(dict[str, str], record)["partyId"] for record in fastavro.reader(io.BytesIO(data[:length]))
            )
    return events


def test_kill_9_of_a_worker_under_load(start_collector: StartCollector, tmp_path: Path) -> None:
    sync_every = 50
    collector = start_two_workers(start_collector, two_workers(tmp_path, sync_every=sync_every))
    victim = worker_pids(collector)[1]
    with Load(collector.base_url, connections=8) as load:
        load.wait_for(2000)
        killed_at, killed_wall = time.monotonic(), time.time()
        os.kill(victim, signal.SIGKILL)  # the worker only: the supervisor and worker 0 stay
        synced_by_victim = partial_events(tmp_path / "work", 1)  # before its successor recovers them
        time.sleep(1.0)
        answered_during_restart = sum(killed_at < t < killed_at + 0.3 for t in load.answered_at)
        load.wait_for(len(load.accepted) + 2000)
    back = BACK.search(collector.log())
    assert back, collector.log()
    back_wall = datetime.datetime.strptime(back.group(1), "%Y-%m-%d %H:%M:%S.%f").timestamp()
    print(f"\nworker 1 ready again {back_wall - killed_wall:.2f} s after kill -9")
    assert back_wall - killed_wall <= 1.0, back.group(0)  # from the kill, the supervisor noticing it included
    assert worker_pids(collector)[1] != victim
    assert answered_during_restart > 0, "the other worker kept answering"
    assert collector.stop(signal.SIGTERM) == 0, collector.log()

    records = read_published(tmp_path)  # every published file valid, the recovered one included
    published = Counter(record["partyId"] for record in records)
    assert max(published.values()) == 1
    assert len(synced_by_victim) >= sync_every
    assert synced_by_victim <= set(published), "records the dead worker had synced were lost"
    lost = set(load.accepted) - set(published)
    print(f"\nkill -9 of a worker: {len(load.accepted)} accepted, {len(published)} published, {len(lost)} lost")
    assert len(lost) <= sync_every + 256  # the dead worker's unsynced records and its queue, nothing else


def test_sigterm_under_load_loses_nothing(start_collector: StartCollector, tmp_path: Path) -> None:
    collector = start_two_workers(start_collector, two_workers(tmp_path))
    with Load(collector.base_url, connections=8) as load:
        load.wait_for(3000)
        collector.process.send_signal(signal.SIGTERM)
        assert collector.process.wait(60) == 0, collector.log()
    published = Counter(record["partyId"] for record in read_published(tmp_path))
    assert max(published.values()) == 1
    assert set(published) == set(load.accepted), f"{len(set(load.accepted) - set(published))} accepted events lost"
    assert "All 2 workers stopped." in collector.log()


def new_worker_pid(collector: RunningCollector, index: int, not_pid: int) -> int:
    deadline = time.monotonic() + 10
    while (pid := worker_pids(collector).get(index, not_pid)) == not_pid:
        assert time.monotonic() < deadline, collector.log()
        time.sleep(0.02)
    return pid


def test_crash_loop_stops_the_collector(start_collector: StartCollector, tmp_path: Path) -> None:
    collector = start_two_workers(start_collector, two_workers(tmp_path))
    pid = 0
    for _ in range(5):
        pid = new_worker_pid(collector, 1, pid)
        os.kill(pid, signal.SIGKILL)
    assert collector.process.wait(30) == 1
    assert "Stopping the collector: worker 1 died 5 times within 60 s (last: killed by SIGKILL)" in collector.log()
    assert "[worker-0 " in collector.log()  # worker 0 was stopped with the usual drain


def test_second_signal_exits_at_once(start_collector: StartCollector, tmp_path: Path) -> None:
    collector = start_two_workers(
        start_collector, two_workers(tmp_path, extra_global="server.shutdown_delay = 20 seconds")
    )
    collector.process.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + 5  # draining: /ping says so as soon as the workers have the signal
    while httpx.get(f"{collector.base_url}/ping").status_code != 503:
        assert time.monotonic() < deadline, collector.log()[-3000:]
        time.sleep(0.05)
    started = time.monotonic()
    collector.process.send_signal(signal.SIGTERM)
    assert collector.process.wait(5) == 1
    assert time.monotonic() - started < 3
    assert "Second SIGTERM: killing every worker at once" in collector.log()


def test_ready_is_503_while_any_worker_is_not(start_collector: StartCollector, tmp_path: Path) -> None:
    """A worker that hangs (SIGSTOP) stops renewing its readiness: /ready on the others answers 503."""
    collector = start_two_workers(start_collector, two_workers(tmp_path))
    stopped = worker_pids(collector)[1]

    def statuses(want: int) -> list[int]:
        seen: list[int] = []
        deadline = time.monotonic() + 10
        while want not in seen:  # new connections: some reach worker 0 (those that reach 1 time out)
            assert time.monotonic() < deadline, seen
            try:
                seen.append(httpx.get(f"{collector.base_url}/ready", timeout=0.5).status_code)
            except httpx.TimeoutException:
                seen.append(0)
        return seen

    os.kill(stopped, signal.SIGSTOP)
    try:
        assert 503 in statuses(503)
    finally:
        os.kill(stopped, signal.SIGCONT)
    assert 200 in statuses(200)
    assert worker_pids(collector)[1] == stopped  # not restarted: it was alive all along
    assert collector.stop(signal.SIGTERM) == 0, collector.log()


def test_workers_drain_and_stop_when_the_supervisor_is_killed(start_collector: StartCollector, tmp_path: Path) -> None:
    collector = start_two_workers(start_collector, two_workers(tmp_path))
    workers = worker_pids(collector).values()
    sent = []
    with httpx.Client(base_url=collector.base_url, headers=BROWSER_HEADERS) as client:
        for party in range(100):
            assert client.get(f"/csc-event?{event_query(party, 'e')}").status_code == 200
            sent.append(party_id(party))
    collector.process.kill()
    collector.process.wait(10)
    deadline = time.monotonic() + 30
    while any(_alive(pid) for pid in workers):  # no worker serves on unsupervised
        assert time.monotonic() < deadline, collector.log()
        time.sleep(0.05)
    assert "The supervisor is gone: stopping this worker." in collector.log()
    assert sorted(record["partyId"] for record in read_published(tmp_path)) == sorted(sent)  # drained, not lost


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_a_separate_metrics_port_is_served_once_for_all_workers(
    start_collector: StartCollector, tmp_path: Path
) -> None:
    port = free_port()
    collector = start_two_workers(start_collector, two_workers(tmp_path, extra_global=f"metrics.port = {port}"))
    text = httpx.get(f"http://127.0.0.1:{port}/metrics").text
    values = samples(text)
    assert values[("divolte_workers", (("state", "scraped"),))] == 2
    assert values[("divolte_ready", ())] == 1
    assert httpx.get(f"{collector.base_url}/metrics").status_code == 404  # only on its own port, as with one
    assert collector.stop(signal.SIGTERM) == 0, collector.log()
