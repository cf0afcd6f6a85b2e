"""The collector end to end: Divolte's URLs over real HTTP in, published Avro container files out.

Each test starts the real server process, sends requests with realistic headers, stops it with SIGTERM
and reads the published files with two independent readers (fastavro and Apache Avro).
"""

from __future__ import annotations

import base64
import signal
import time
import urllib.parse
from pathlib import Path

import httpx
import pytest

from tests.integration.collector_process import StartCollector, stop
from tests.integration.events import BROWSER_HEADERS, checksum_case
from tests.integration.file_sink import file_sink_config, read_published
from tests.vectors import load_vectors

pytestmark = pytest.mark.integration

VECTORS = load_vectors()


def send(client: httpx.Client, query: str, **headers: str) -> httpx.Response:
    return client.get(f"/csc-event?{query}", headers={**BROWSER_HEADERS, **headers})


def test_vectors_become_records_field_for_field(start_collector: StartCollector, tmp_path: Path) -> None:
    collector = start_collector(file_sink_config(tmp_path, "server.use_x_forwarded_for = true"))
    pixel = base64.b64decode(VECTORS["pixel"]["base64"])
    sent_at = int(time.time() * 1000)
    names = ["good", "bad", "missing", "partial_no_equals", "partial_empty", "unicode_event_type", "sentinel"]
    sent = [checksum_case(name)["query"] for name in names]
    sent += [checksum_case(name, "browser_checksum_js_generated")["query"] for name in ("emoji", "custom", "dpr-float")]
    sent += [checksum_case("sentinel")["query"]] * 2
    with httpx.Client(base_url=collector.base_url) as client:
        for name in names:
            response = send(client, checksum_case(name)["query"])
            assert response.status_code == 200
            assert response.content == pixel
            for header, value in VECTORS["pixel"]["response_headers"].items():
                assert response.headers[header] == value
        for name in ("emoji", "custom", "dpr-float"):
            assert send(client, checksum_case(name, "browser_checksum_js_generated")["query"]).status_code == 200
        forwarded = send(client, checksum_case("sentinel")["query"], **{"X-Forwarded-For": "10.0.0.1, 2001:db8::1"})
        assert forwarded.status_code == 200
        no_agent = client.get(f"/csc-event?{checksum_case('sentinel')['query']}", headers={"User-Agent": ""})
        assert no_agent.status_code == 200
    received_by = int(time.time() * 1000)
    stop(collector)

    records = read_published(tmp_path)
    assert len(records) == len(names) + 5

    # The 'good' vector: every field as Divolte's built-in mapping yields it (SPEC §5, avro_default_record).
    expected = dict(VECTORS["avro_default_record"]["record"])
    good = records[0]
    assert sent_at <= good["timestamp"] <= received_by
    assert good == {**expected, "timestamp": good["timestamp"]}

    corrupt = {name: record["detectedCorruption"] for name, record in zip(names, records, strict=False)}
    assert corrupt == {
        "good": False, "bad": True, "missing": True, "partial_no_equals": True, "partial_empty": True,
        "unicode_event_type": False, "sentinel": False,
    }  # fmt: skip
    assert records[5]["eventType"] == "ụñ⚕©ºḌℨ"
    assert records[5]["partyId"] == "0:i1t84hgy:party"
    assert records[6]["eventType"] == "sentinelEvent"

    emoji, custom, dpr = records[7:10]
    # Deliberate difference: Divolte's server flags this event corrupt (Guava bug); the checksum is right.
    assert emoji["eventType"] == "clicked😀" and emoji["detectedCorruption"] is False
    assert custom["eventType"] == "myEvent" and custom["detectedCorruption"] is False
    assert dpr["detectedCorruption"] is False and dpr["viewportPixelWidth"] == int("um", 36)

    assert records[10]["remoteHost"] == "2001:db8:0:0:0:0:0:1"
    assert all(r["remoteHost"] == "127.0.0.1" for i, r in enumerate(records) if i != 10)
    # An empty User-Agent header is still a header: the fields are present, "unknown".
    assert records[11]["userAgentString"] == "" and records[11]["userAgentName"] == "unknown"
    # Duplicates: every repeat of a (party, session, event id) triple after its first occurrence.
    seen: set[tuple[str, str, str]] = set()
    expected_duplicates = []
    for query in sent:
        params = urllib.parse.parse_qs(query)
        key = (params["p"][0], params["s"][0], params["e"][0])
        expected_duplicates.append(key in seen)
        seen.add(key)
    assert [r["detectedDuplicate"] for r in records] == expected_duplicates


def test_duplicate_memory_sequence(start_collector: StartCollector, tmp_path: Path) -> None:
    """ShortTermDuplicateMemoryTest's sequences with a 2-slot memory, over HTTP."""
    vectors = VECTORS["duplicate_memory"]
    for number, sequence in enumerate(vectors["sequences"]):
        run_dir = tmp_path / f"run{number}"  # each sequence starts with an empty memory, as in Divolte's test
        run_dir.mkdir()
        collector = start_collector(file_sink_config(run_dir, "mapper.duplicate_memory_size = 2"))
        with httpx.Client(base_url=collector.base_url) as client:
            for query_name in sequence["requests"]:
                assert send(client, vectors["queries"][query_name]).status_code == 200
        stop(collector)
        assert [r["detectedDuplicate"] for r in read_published(run_dir)] == sequence["expect_duplicate"]


def test_discard_corrupted(start_collector: StartCollector, tmp_path: Path) -> None:
    collector = start_collector(file_sink_config(tmp_path, mapping_extra="discard_corrupted = true"))
    with httpx.Client(base_url=collector.base_url) as client:
        for name in checksum_case("discard_corrupted")["sequence"]:
            assert send(client, checksum_case(name)["query"]).status_code == 200
    stop(collector)
    assert [r["eventType"] for r in read_published(tmp_path)] == ["sentinelEvent"]


def test_http_surface(start_collector: StartCollector, tmp_path: Path) -> None:
    collector = start_collector(file_sink_config(tmp_path))
    with httpx.Client(base_url=collector.base_url) as client:
        ping = client.get("/ping")
        assert (ping.status_code, ping.text, ping.headers["content-type"]) == (200, "pong", "text/plain; charset=utf-8")
        assert ping.headers["server"] == "divolte"
        assert client.post("/ping").status_code == 200

        refused = client.post("/csc-event?p=x")
        assert refused.status_code == 405
        assert refused.headers["allow"] == "GET"
        assert refused.text == "HTTP method POST not allowed."
        assert client.head("/csc-event").status_code == 405

        cached = client.get(
            "/csc-event?" + checksum_case("good")["query"],
            headers={"If-None-Match": VECTORS["pixel"]["response_headers"]["ETag"]},
        )
        assert cached.status_code == 304 and cached.content == b""

        page = client.get("/")
        assert page.status_code == 200 and 'src="/divolte.js"' in page.text
        assert client.get("/nothing-here").status_code == 404
        assert client.get("/nothing-here").headers["server"] == "divolte"
        assert client.get("/x/../csc-event?" + checksum_case("sentinel")["query"]).status_code == 200

        script = client.get("/divolte.js", headers={"Accept-Encoding": "gzip"})
        assert script.status_code == 200
        assert script.headers["content-type"] == "application/javascript"
        assert script.headers["content-encoding"] == "gzip"
        assert script.headers["cache-control"] == "public, max-age=3600"
        assert script.headers["etag"].startswith('"gz+')
        assert b"__DIVOLTE_CONFIG__" not in script.content and b'"partyCookie":"_dvp"' in script.content
        again = client.get("/divolte.js", headers={"Accept-Encoding": "gzip", "If-None-Match": script.headers["etag"]})
        assert again.status_code == 304
        plain = client.get("/divolte.js", headers={"Accept-Encoding": "identity"})
        assert "content-encoding" not in plain.headers and plain.headers["etag"] != script.headers["etag"]
    stop(collector)
    # The 304 is not an event; the event reached through "/x/../csc-event" is.
    assert [r["eventType"] for r in read_published(tmp_path)] == ["sentinelEvent"]


def test_shutdown_delay_ping_503_and_nothing_lost(start_collector: StartCollector, tmp_path: Path) -> None:
    collector = start_collector(file_sink_config(tmp_path, "server.shutdown_delay = 2 seconds"))
    query = checksum_case("sentinel")["query"]
    with httpx.Client(base_url=collector.base_url) as client:
        for _ in range(50):
            assert send(client, query).status_code == 200
        collector.process.send_signal(signal.SIGTERM)
        time.sleep(0.3)
        ping = client.get("/ping")
        assert (ping.status_code, ping.text) == (503, "No p*ng for you, shutting down")
        assert client.get("/ready").status_code == 503
        # During the delay events are still accepted, and not lost.
        for _ in range(10):
            assert send(client, query).status_code == 200
    assert collector.process.wait(30) == 0, collector.log()
    assert len(read_published(tmp_path)) == 60
