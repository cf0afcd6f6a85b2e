"""One record too large for the broker never stops the rest: it goes to the sink's dead-letter folder.

A real broker with a topic whose ``max.message.bytes`` is small, one huge event (an incompressible page URL,
so that lz4 cannot shrink it under the limit) among normal ones, all sent as one batch: the normal ones arrive
in order, the huge one is in a dead-letter file that ``divolte-collector cat`` reads, it is counted in ``/metrics``, and
``divolte-collector replay`` delivers it once the limit is raised.
"""

from __future__ import annotations

import http.client
import re
import secrets
import subprocess
import sys
from pathlib import Path

import httpx
import orjson
import pytest

from tests.integration.conftest import StartCollector
from tests.integration.kafka.conftest import (
    USER_AGENT,
    Broker,
    decode,
    event_number,
    event_query,
    kafka_config,
    wait_for_log,
)
from tests.paths import REPO

pytestmark = pytest.mark.integration

LIMIT = 4000
"""The topic's max.message.bytes: a batch of about a dozen normal records, far less than the huge one."""


def send(base_url: str, events: list[tuple[int, int, str]]) -> None:
    host, port = base_url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=10)
    try:
        for party, event, location in events:
            query = event_query(party, event, location=location)
            connection.request("GET", f"/csc-event?{query}", headers={"User-Agent": USER_AGENT})
            response = connection.getresponse()
            response.read()
            assert response.status == 200
    finally:
        connection.close()


def metric_lines(base_url: str, name: str) -> list[str]:
    return [line for line in httpx.get(f"{base_url}/metrics").text.splitlines() if line.startswith(name)]


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "collector.cli", *args], capture_output=True, text=True, cwd=REPO)


def test_a_record_too_large_goes_to_the_dead_letter_folder_and_the_rest_arrives_in_order(
    kafka: Broker, start_collector: StartCollector, tmp_path: Path
) -> None:
    topic = f"dead-letters-{secrets.token_hex(4)}"
    huge_location = "https://example.com/" + secrets.token_urlsafe(6000)
    events = [(1, n, "https://example.com/") for n in range(40)]
    events.insert(20, (1, 99, huge_location))
    config = tmp_path / "divolte.conf"
    config.write_text(kafka_config(kafka.bootstrap, topic, tmp_path / "spool"))
    collector = start_collector(config.read_text())
    send(collector.base_url, events)
    # The topic appears only now, so the records wait in the spool and leave it as one batch, which the broker
    # refuses as a whole: the sink splits it until the huge record stands alone.
    wait_for_log(collector, f"topic '{topic}' is unknown to the cluster")
    kafka.create_topic(partitions=1, name=topic, **{"max.message.bytes": str(LIMIT)})

    normal = [(party, event) for party, event, location in events if location != huge_location]
    records = kafka.consume(topic, len(normal))
    assert [event_number(decode(r.value)) for r in records] == normal, "the others arrive, in order, once"

    folder = tmp_path / "spool" / "kafka" / "dead-letter"
    files = sorted(folder.glob("*.avro"))
    assert len(files) == 1, list(folder.iterdir())
    printed = cli("cat", str(folder))
    assert printed.returncode == 0, printed.stderr
    lines = [orjson.loads(line) for line in printed.stdout.splitlines()]
    assert [(line["location"], line["pageViewId"]) for line in lines] == [(huge_location, "0:pv0000000100000099")]
    assert "dead letters of sink 'kafka', refused for good (message_too_large)" in printed.stderr
    assert "raise the topic's max.message.bytes" in printed.stderr

    dead = metric_lines(collector.base_url, "divolte_sink_records_dead_lettered_total")
    assert dead == [
        'divolte_sink_records_dead_lettered_total{reason="invalid_timestamp",sink="kafka"} 0.0',
        'divolte_sink_records_dead_lettered_total{reason="message_too_large",sink="kafka"} 1.0',
    ], dead
    written = metric_lines(collector.base_url, "divolte_sink_records_written_total")
    assert written == [f'divolte_sink_records_written_total{{sink="kafka"}} {float(len(normal))}'], written
    assert "records refused for good (message_too_large), kept in" in collector.log()
    assert re.search(r"the broker refused a batch of \d\d records .* as too large", collector.log()), "then split"
    assert collector.stop() == 0

    # The operator raises the limit and replays the file with the collector's own configuration.
    kafka.alter_topic(topic, **{"max.message.bytes": "1048588"})
    replayed = cli("replay", "--config", str(config), str(files[0]))
    assert replayed.returncode == 0, replayed.stdout + replayed.stderr
    records = kafka.consume(topic, len(normal) + 1)
    assert [event_number(decode(r.value)) for r in records] == [*normal, (1, 99)]
    assert records[-1].key == records[0].key, "replayed with its original key (the party id)"
    assert not files[0].exists() and files[0].with_name(files[0].name + ".replayed").exists()
