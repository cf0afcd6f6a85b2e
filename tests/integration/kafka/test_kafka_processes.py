"""Kafka with ``processes = 2``: a producer and a spool per worker; every spool replayed by its worker's successor."""

from __future__ import annotations

import signal
import threading
import time
from pathlib import Path

import pytest

from tests.integration.conftest import RunningCollector, StartCollector, free_port
from tests.integration.kafka.conftest import Broker, kafka_config, send_events
from tests.integration.kafka.test_kafka_faults import SMALL_QUEUE, check_delivery, events, wait_for_log

pytestmark = pytest.mark.integration

CONNECTIONS = 12


def start_two(start_collector: StartCollector, config: str) -> RunningCollector:
    collector = start_collector(config, args=["--processes", "2"])
    deadline = time.monotonic() + 30
    while "All 2 workers ready" not in collector.log():
        assert time.monotonic() < deadline, collector.log()
        time.sleep(0.05)
    return collector


def send_from_many_connections(collector: RunningCollector, sent: list[tuple[int, int]]) -> None:
    """Each connection sends its own parties' events, so both workers get some (SO_REUSEPORT spreads them)."""
    threads = [
        threading.Thread(target=send_events, args=(collector.base_url, [e for e in sent if e[0] % CONNECTIONS == k]))
        for k in range(CONNECTIONS)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)


def test_each_worker_spools_on_its_own_and_a_restart_replays_every_spool(
    kafka: Broker, start_collector: StartCollector, tmp_path: Path
) -> None:
    wrong = f"127.0.0.1:{free_port()}"
    topic = kafka.create_topic(partitions=3)
    spool = tmp_path / "spool"
    first = start_two(start_collector, kafka_config(wrong, topic, spool, extra_global=SMALL_QUEUE))
    sent = events(CONNECTIONS * 2, 0, 10)
    send_from_many_connections(first, sent)
    wait_for_log(first, f"cannot reach Kafka at bootstrap.servers={wrong}")
    assert first.stop(signal.SIGTERM) == 0, first.log()
    assert first.log().count("kept in the spool") == 2, first.log()  # one producer, one spool per worker
    assert list((spool / "kafka").glob("*.spool")) and list((spool / "worker-1" / "kafka").glob("*.spool"))

    second = start_two(start_collector, kafka_config(kafka.bootstrap, topic, spool, extra_global=SMALL_QUEUE))
    deadline = time.monotonic() + 30
    while list(spool.rglob("*.spool")):  # replayed first: a party's later events may reach the other worker
        assert time.monotonic() < deadline, second.log()
        time.sleep(0.1)
    later = events(CONNECTIONS * 2, 10, 2)
    send_from_many_connections(second, later)
    check_delivery(kafka.consume(topic, len(sent) + len(later)), sent + later, "two workers' spools")
    assert second.stop() == 0
