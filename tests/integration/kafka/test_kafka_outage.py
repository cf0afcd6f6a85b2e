"""The outage test: 20,000 events, the broker stopped for 30 seconds in the middle, all 20,000 in the topic.

Marked ``kafka_outage`` (about a minute): ``pytest -m 'not kafka_outage'`` leaves it out of a quick run.
The counts are printed (``pytest -s``): sent, found, distinct, duplicates.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from tests.integration.collector_process import StartCollector
from tests.integration.kafka.records import Broker, check_delivery, kafka_config, send_events

pytestmark = [pytest.mark.integration, pytest.mark.kafka_outage]

PARTIES = 200
OUTAGE_SECONDS = 30.0


def test_twenty_thousand_events_through_a_thirty_second_outage(
    kafka_factory: Callable[..., Broker], start_collector: StartCollector, tmp_path: Path
) -> None:
    broker = kafka_factory()
    topic = broker.create_topic(partitions=3)
    config = kafka_config(broker.bootstrap, topic, tmp_path / "spool", request_timeout_ms=30000,
                          extra_global="buffer_size = 2000\nthreads = 1")  # fmt: skip
    collector = start_collector(config)
    events = [(party, event) for event in range(20_000 // PARTIES) for party in range(PARTIES)]
    before, during, after = events[:5_000], events[5_000:15_000], events[15_000:]

    send_events(collector.base_url, before)
    broker.broker.stop()
    stopped = time.monotonic()
    send_events(collector.base_url, during[:2_000], pace=0.0015)  # spread over most of the outage
    # Spooling, not dropping: still ready (until the outage outlasts supervision.failing_after, 30 s).
    assert httpx.get(f"{collector.base_url}/ready").status_code == 200
    send_events(collector.base_url, during[2_000:], pace=0.0015)
    time.sleep(max(0.0, OUTAGE_SECONDS - (time.monotonic() - stopped)))
    broker.broker.start()
    send_events(collector.base_url, after)

    records = broker.consume(topic, len(events), timeout=180)
    duplicates = check_delivery(records, events, "KAFKA OUTAGE 30 s")
    assert collector.stop() == 0
    log = collector.log()
    assert "spooling to" in log and "write failed" in log
    assert duplicates < len(events) // 10
