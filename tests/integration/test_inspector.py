"""The inspector against a real collector process: the API, the live stream, who may see it, /metrics."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from collector.app import build_app
from collector.config import load
from tests.integration.collector_process import RunningCollector, StartCollector
from tests.integration.events import BROWSER_HEADERS, checksum_case
from tests.integration.file_sink import file_sink_config
from tests.integration.metrics_text import samples
from tests.vectors import load_vectors

pytestmark = pytest.mark.integration

TOKEN = "a-long-enough-inspector-token-1234"
GOOD = checksum_case("good")["query"]


def inspector_config(tmp_path: Path, extra: str = "") -> str:
    return file_sink_config(tmp_path, extra_global=f"inspector {{ enabled = true, max_events = 100 {extra} }}")


def events(collector: RunningCollector, count: int, query: str = "", **headers: str) -> list[dict[str, Any]]:
    """Poll the API until it shows ``count`` events (newest first)."""
    deadline = time.monotonic() + 10
    while True:
        found: list[dict[str, Any]] = httpx.get(
            f"{collector.base_url}/inspect/api/events{query}", headers=headers
        ).json()["events"]
        if len(found) >= count or time.monotonic() > deadline:
            return found
        time.sleep(0.02)


def send(collector: RunningCollector, query: str) -> None:
    assert httpx.get(f"{collector.base_url}/csc-event?{query}", headers=BROWSER_HEADERS).status_code == 200


def test_the_api_lists_filters_counts_and_resets(start_collector: StartCollector, tmp_path: Path) -> None:
    collector = start_collector(inspector_config(tmp_path))
    send(collector, GOOD)
    send(collector, GOOD)  # the same event again: a duplicate
    send(collector, GOOD.replace("t=pageView", "t=tampered"))  # the checksum no longer matches
    send(collector, "p=nonsense")
    found = events(collector, 4)
    assert [(e["id"], e["outcome"], e["recorded"]) for e in found] == [
        (4, "dropped", False), (3, "corrupt", True), (2, "duplicate", True), (1, "recorded", True),
    ]  # fmt: skip
    assert found[0]["reason"].startswith("invalid_party_id")
    assert found[3]["mappings"][0]["record"]["eventType"] == "pageView"
    assert found[3]["sinks"] == ["files"] and found[3]["request"]["remote_address"] == "127.0.0.1"
    assert ["user-agent", BROWSER_HEADERS["User-Agent"]] in found[3]["request"]["headers"]

    base = f"{collector.base_url}/inspect/api"
    assert [e["id"] for e in httpx.get(f"{base}/events?outcome=duplicate").json()["events"]] == [2]
    assert [e["id"] for e in httpx.get(f"{base}/events?type=pageView&limit=1").json()["events"]] == [2]
    party = found[3]["party_id"]
    assert [
        e["id"] for e in httpx.get(f"{base}/events", params={"party": party, "sink": "files"}).json()["events"]
    ] == [3, 2, 1]
    assert httpx.get(f"{base}/events?limit=0").status_code == 400
    bad = httpx.get(f"{base}/events?outcom=recorded")
    assert bad.status_code == 400 and "outcom" in bad.json()["error"]
    summary = httpx.get(f"{base}/summary").json()
    assert summary["counts"] == {"recorded": 1, "corrupt": 1, "duplicate": 1, "dropped": 1, "discarded": 0,
                                 "mapping_error": 0}  # fmt: skip
    assert httpx.get(f"{base}/reset").status_code == 405
    assert httpx.post(f"{base}/reset").json()["total"] == 0
    assert httpx.get(f"{base}/events").json() == {"events": []}
    collector.stop()


def test_the_stream_sends_new_events_as_they_are_handled(start_collector: StartCollector, tmp_path: Path) -> None:
    collector = start_collector(inspector_config(tmp_path))
    with httpx.stream("GET", f"{collector.base_url}/inspect/api/stream", timeout=10) as stream:
        assert stream.headers["content-type"].startswith("text/event-stream")
        lines = stream.iter_lines()
        assert next(lines) == "event: summary"
        send(collector, GOOD)
        received: list[dict[str, Any]] = []
        for line in lines:
            if line == "event: events":
                received = orjson.loads(next(lines).removeprefix("data: "))
                break
    assert [(e["id"], e["outcome"], e["event_type"]) for e in received] == [(1, "recorded", "pageView")]
    assert collector.stop() == 0


def test_off_by_default_and_metrics_say_whether_it_is_on(start_collector: StartCollector, tmp_path: Path) -> None:
    off = start_collector(file_sink_config(tmp_path))
    assert httpx.get(f"{off.base_url}/inspect").status_code == 404
    assert httpx.get(f"{off.base_url}/inspect/api/events").status_code == 404
    assert samples(httpx.get(f"{off.base_url}/metrics").text)[("divolte_inspector_enabled", ())] == 0.0
    off.stop()
    on = start_collector(file_sink_config(tmp_path), args=["--inspect"])
    assert samples(httpx.get(f"{on.base_url}/metrics").text)[("divolte_inspector_enabled", ())] == 1.0
    page = httpx.get(f"{on.base_url}/inspect")
    assert page.status_code == 200 and "Divolte inspector" in page.text
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert "Inspector:  " + on.base_url + "/inspect" in on.log()
    on.stop()


def test_only_loopback_clients_that_came_straight_in_see_it(start_collector: StartCollector, tmp_path: Path) -> None:
    collector = start_collector(inspector_config(tmp_path))
    url = f"{collector.base_url}/inspect/api/summary"
    assert httpx.get(url).status_code == 200
    assert httpx.get(url.replace("127.0.0.1", "localhost")).status_code == 200
    for headers in ({"X-Forwarded-For": "203.0.113.9"}, {"Forwarded": "for=203.0.113.9"}, {"X-Real-IP": "203.0.113.9"},
                    {"Host": "attacker.example"}):  # fmt: skip
        refused = httpx.get(url, headers=headers)
        assert (refused.status_code, refused.text) == (404, "Not Found"), headers
        assert httpx.post(f"{collector.base_url}/inspect", headers=headers).status_code == 404  # no 405: no hint
        assert httpx.get(f"{collector.base_url}/inspect/assets/inspect.js", headers=headers).status_code == 404
    reset = f"{collector.base_url}/inspect/api/reset"
    assert httpx.post(reset, headers={"Origin": "http://shop.example"}).status_code == 403  # another site's page
    assert httpx.post(reset, headers={"Origin": collector.base_url}).status_code == 200  # the inspector's own
    assert httpx.get(f"{collector.base_url}/inspect/api/summary", headers={"Authorization": f"Bearer {TOKEN}",
                     "X-Forwarded-For": "203.0.113.9"}).status_code == 404  # fmt: skip  # no remote access configured
    collector.stop()


def test_remote_clients_need_the_token(start_collector: StartCollector, tmp_path: Path) -> None:
    collector = start_collector(inspector_config(tmp_path, f', allow_remote = true, token = "{TOKEN}"'))
    proxied = {"X-Forwarded-For": "203.0.113.9"}
    url = f"{collector.base_url}/inspect"
    assert httpx.get(f"{url}/api/summary", headers=proxied).status_code == 401
    wrong = httpx.get(f"{url}/api/summary", headers={**proxied, "Authorization": f"Bearer {TOKEN[:-1]}x"})
    assert wrong.status_code == 401 and wrong.headers["www-authenticate"].startswith("Bearer")
    assert httpx.get(f"{url}/api/summary?token={TOKEN}x", headers=proxied).status_code == 401
    assert httpx.get(f"{url}/api/summary", headers={**proxied, "Authorization": f"Bearer {TOKEN}"}).status_code == 200
    page = httpx.get(url, params={"token": TOKEN}, headers=proxied)
    assert page.status_code == 200
    assert f'src="/inspect/assets/inspect.js?token={TOKEN}"' in page.text  # its script and style carry it
    assert httpx.get(f"{url}/assets/inspect.js", params={"token": TOKEN}, headers=proxied).status_code == 200
    send(collector, GOOD)
    assert len(events(collector, 1, f"?token={TOKEN}", **proxied)) == 1
    assert httpx.get(f"{url}/api/summary").status_code == 200  # loopback needs no token
    collector.stop()


async def test_a_client_from_another_address_gets_a_404(tmp_path: Path) -> None:
    """The peer address itself, not only the headers: the app called with a non-loopback client address."""
    path = tmp_path / "inspect.conf"
    path.write_text(inspector_config(tmp_path))
    app = build_app(load(path))
    for client, expected in ((("203.0.113.7", 5000), 404), (("::ffff:127.0.0.1", 5000), 200), (("::1", 5000), 200)):
        transport = httpx.ASGITransport(app=app, client=client)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8290") as http:
            assert (await http.get("/inspect/api/summary")).status_code == expected, client


def test_json_events_show_their_body_and_parameters(start_collector: StartCollector, tmp_path: Path) -> None:
    vectors = load_vectors()["json_source_http"]
    config = file_sink_config(tmp_path, extra_global="inspector.enabled = true").replace(
        "sources.browser {\n    type = browser", "sources.browser {\n    type = json, event_path = /json-event"
    )
    collector = start_collector(config)
    body = {**vectors["events"][0]["body"], "parameters": {"sku": "A-1", "note": "<b>hi</b>"}}
    url = f"{collector.base_url}/json-event{vectors['party_query']}"
    assert httpx.post(url, content=orjson.dumps(body), headers={"Content-Type": "application/json"}).status_code == 204
    (event,) = events(collector, 1)
    assert event["outcome"] == "recorded" and event["source"] == "browser"  # the source's name in this config
    assert event["request"]["method"] == "POST" and event["request"]["target"].startswith("/json-event?p=")
    assert orjson.loads(event["request"]["body"]) == body
    assert event["parameters"] == {"sku": "A-1", "note": "<b>hi</b>"}
    assert event["mappings"][0]["record"]["eventType"] == body["event_type"]
    collector.stop()


def test_an_open_live_stream_does_not_hold_up_shutdown(start_collector: StartCollector, tmp_path: Path) -> None:
    collector = start_collector(inspector_config(tmp_path))
    with httpx.stream("GET", f"{collector.base_url}/inspect/api/stream", timeout=30) as stream:
        lines = stream.iter_lines()
        assert next(lines) == "event: summary"
        started = time.monotonic()
        assert collector.stop(timeout=20) == 0, collector.log()
        assert time.monotonic() - started < 10
        assert list(lines)[-1:] in ([], [""])  # the stream ended with the collector
