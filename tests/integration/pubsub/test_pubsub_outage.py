"""The outage test: events streamed into a collector while its Pub/Sub server is down for 20 seconds; none lost.

pstest keeps messages only in memory, and a restarted server starts empty. So what Pub/Sub acknowledged is
counted from the server's own dumps: each run of the server writes every message it acknowledged when it is
stopped (``tests/servers/pubsub/main.go``), after it has stopped serving. Delivered = the event ids in the dumps
of both runs; lost = sent - delivered. The restarted server gets its topic back only after a few seconds of
being reachable, so the sink also meets NOT_FOUND answers before the topic is there again.

Marked ``pubsub_outage`` (about 40 s): ``pytest -m 'not pubsub_outage'`` leaves it out of a quick run. The counts
are printed (``pytest -s``).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from tests.integration.collector_process import StartCollector
from tests.integration.kafka.records import send_events
from tests.integration.metrics_text import samples
from tests.integration.pubsub.conftest import Pubsub
from tests.integration.pubsub.test_pubsub_sink import gcps_config

pytestmark = [pytest.mark.integration, pytest.mark.pubsub_outage]

PARTIES = 100
OUTAGE_SECONDS = 20.0


def event_id(party: int, event: int) -> str:
    """The ``e`` parameter ``event_query`` sends: the record's ``eventIdentifier``."""
    return f"0:pv{party:08d}{event:08d}0"


def wait_until_written(base_url: str, count: int, timeout: float = 120.0) -> None:
    """Until the sink says it has written ``count`` records (Pub/Sub acknowledged them)."""
    deadline = time.monotonic() + timeout
    written = 0.0
    while time.monotonic() < deadline:
        found = samples(httpx.get(f"{base_url}/metrics").text)
        written = sum(v for (name, labels), v in found.items() if name.endswith("sink_records_written_total"))
        if written >= count:
            return
        time.sleep(0.2)
    raise AssertionError(f"the sink wrote {written:.0f} of {count} records within {timeout:.0f} s")


def test_a_twenty_second_pubsub_outage_mid_stream_loses_nothing(
    pubsub_factory: Callable[[], Pubsub], start_collector: StartCollector, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    pubsub = pubsub_factory()
    topic = pubsub.create_topic()
    monkeypatch.setenv("PUBSUB_EMULATOR_HOST", pubsub.host)
    collector = start_collector(gcps_config(topic, tmp_path / "spool", extra_global="buffer_size = 1000\nthreads = 1"))
    events = [(party, event) for event in range(6_000 // PARTIES) for party in range(PARTIES)]
    before, during, after = events[:1_500], events[1_500:4_500], events[4_500:]

    send_events(collector.base_url, before)
    first_run = pubsub.server.stop()  # mid-stream: some of `before` may still be on their way
    stopped = time.monotonic()
    send_events(collector.base_url, during[:1_000], pace=0.004)
    # Spooling, not dropping: still ready (until the outage outlasts supervision.failing_after, 30 s).
    assert httpx.get(f"{collector.base_url}/ready").status_code == 200
    send_events(collector.base_url, during[1_000:], pace=0.004)
    time.sleep(max(0.0, OUTAGE_SECONDS - (time.monotonic() - stopped)))
    outage = time.monotonic() - stopped
    pubsub.server.start()  # empty, on the same port
    time.sleep(2.0)  # reachable, but the topic is not there yet: NOT_FOUND, records kept
    pubsub.connect()
    pubsub.create_topic(topic)
    send_events(collector.base_url, after)
    wait_until_written(collector.base_url, len(events))  # else a stop would leave the rest in the spool
    assert collector.stop() == 0
    second_run = pubsub.server.stop()

    sent = {event_id(party, event) for party, event in events}
    published = [m["attributes"]["eventIdentifier"] for m in first_run + second_run if m["topic"].endswith(topic)]
    delivered = set(published)
    lost = sent - delivered
    print(
        f"PUB/SUB OUTAGE {outage:.1f} s: sent {len(sent)}, delivered {len(delivered)} (first run {len(first_run)}, "
        f"second run {len(second_run)}), lost {len(lost)}, duplicates {len(published) - len(delivered)}"
    )
    assert not lost, f"{len(lost)} events lost, e.g. {sorted(lost)[:5]}"
    assert delivered == sent
    assert len(first_run) < len(sent) and len(second_run) > len(during)  # the outage held records back
    log = collector.log()
    assert "spooling to" in log and "UNAVAILABLE" in log and "does not exist" in log
    errors = log.count("ERROR [collector.sinks.pubsub]")
    assert errors <= 5, f"{errors} errors logged: once per cause, not on every retry"
