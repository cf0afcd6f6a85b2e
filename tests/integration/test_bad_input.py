"""Hostile and broken requests against the real server: each gets the spec's answer or a 4xx, never a 5xx.

After all of them, the process is still serving and a valid event sent last is recorded.
"""

from __future__ import annotations

import signal
from pathlib import Path

import httpx
import pytest

from tests.integration.collector_process import StartCollector, status_line
from tests.integration.events import BROWSER_HEADERS, checksum_case
from tests.integration.file_sink import file_sink_config, read_published

pytestmark = pytest.mark.integration

VALID = checksum_case("sentinel")["query"]
REQUIRED = "p=0%3Ai1t84hgy%3Aparty&s=0%3Ai1t84hgy%3Asession&v=0%3ApageView&e=0%3AeventId&c=i1t8q2b6&n=f&f=f"


# (name, query, what the record shows: None = dropped, else (field, value) to check)
PIXEL_CASES: list[tuple[str, str, tuple[str, object] | None]] = [
    ("malformed percent escape", f"{REQUIRED}&t=%zz", None),
    ("truncated percent escape", f"{REQUIRED}&t=abc%4", None),
    ("trailing percent", f"{REQUIRED}&t=abc%", None),
    ("percent-encoded invalid UTF-8", f"{REQUIRED}&t=%ff%fe", ("eventType", "\ufffd\ufffd")),
    ("missing party id", REQUIRED.replace("p=0%3Ai1t84hgy%3Aparty&", ""), None),
    ("invalid party id", REQUIRED.replace("p=0%3A", "p=1%3A"), None),
    ("missing session id", REQUIRED.replace("s=0%3Ai1t84hgy%3Asession&", ""), None),
    ("missing event id", REQUIRED.replace("e=0%3AeventId&", ""), None),
    ("missing page view id", REQUIRED.replace("v=0%3ApageView&", ""), None),
    ("missing flags", REQUIRED.replace("&n=f&f=f", ""), None),
    ("bad base-36 client time", REQUIRED.replace("c=i1t8q2b6", "c=!!"), None),
    ("client time beyond 64 bits", REQUIRED.replace("c=i1t8q2b6", "c=zzzzzzzzzzzzzzzzz"), None),
    ("bad base-36 screen width", f"{REQUIRED}&i=%%%", None),
    ("bad base-36 viewport width", f"{REQUIRED}&w=1.i&t=viewport", ("viewportPixelWidth", None)),
    ("repeated parameters: first wins", f"{REQUIRED}&t=first&t=second", ("eventType", "first")),
    ("garbage custom parameters", f"{REQUIRED}&t=garbage-u&u=((((!!~", ("eventType", "garbage-u")),
    ("empty query", "", None),
    ("only separators", "&&&&==&=", None),
    ("10,000 parameters", REQUIRED + "".join(f"&{i}" for i in range(10_000)), None),
    ("1,002 '&'", REQUIRED + "".join(f"&{i}" for i in range(1_002 - REQUIRED.count("&"))), None),
]
# Queries Divolte's server refuses: 400 and no event, as from Divolte.
REFUSED = {"malformed percent escape", "truncated percent escape", "trailing percent", "bad base-36 screen width",
           "10,000 parameters", "1,002 '&'"}  # fmt: skip


def test_bad_inputs_never_5xx_and_valid_events_still_flow(start_collector: StartCollector, tmp_path: Path) -> None:
    collector = start_collector(file_sink_config(tmp_path))
    statuses: dict[str, int] = {}
    with httpx.Client(base_url=collector.base_url, timeout=10) as client:
        for name, query, _ in PIXEL_CASES:
            response = client.get(f"/csc-event?{query}", headers=BROWSER_HEADERS)
            statuses[name] = response.status_code
            if response.status_code == 200:
                assert response.headers["content-type"] == "image/gif" and len(response.content) == 37, name
        for method in ("POST", "PUT", "DELETE", "PATCH", "OPTIONS"):
            response = client.request(method, f"/csc-event?{VALID}")
            statuses[method] = response.status_code
            assert response.headers["allow"] == "GET"
        huge_cookie = client.get(f"/csc-event?{REQUIRED}&t=cookie", headers={"Cookie": "; ".join(["c=1"] * 20_000)})
        statuses["100 KB Cookie header"] = huge_cookie.status_code

    port = collector.port
    url_100k = f"GET /csc-event?{REQUIRED}&t={'a' * 100_000} HTTP/1.1\r\nHost: x\r\n\r\n".encode()
    url_2m = f"GET /csc-event?{REQUIRED}&t={'b' * 2_000_000} HTTP/1.1\r\nHost: x\r\n\r\n".encode()
    raw_cases = {
        "100 KB URL": url_100k,
        "2 MB URL": url_2m,
        "raw invalid UTF-8 in the URL": b"GET /csc-event?" + REQUIRED.encode()
        + b"&t=\xff\xfe HTTP/1.1\r\nHost: x\r\n\r\n",
        "bad request line": b"NOT HTTP AT ALL\r\n\r\n",
        "absurd Content-Length": b"GET /csc-event HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999\r\n\r\n",
        "1,000 headers": b"GET /csc-event?" + REQUIRED.encode() + b" HTTP/1.1\r\nHost: x\r\n"
        + b"".join(b"X-H%d: v\r\n" % i for i in range(1000)) + b"\r\n",
    }  # fmt: skip
    for name, request in raw_cases.items():
        line = status_line(port, request)
        statuses[name] = int(line.split()[1]) if line.startswith(b"HTTP/1.1 ") else 0

    assert all(200 <= code < 500 for code in statuses.values()), statuses
    assert statuses["100 KB URL"] == 200  # recorded, as by Divolte
    assert statuses["2 MB URL"] == 414  # divolte.global.server.max_url_length (1 MiB by default, as Divolte's server)
    assert {name: statuses[name] for name in REFUSED} == dict.fromkeys(REFUSED, 400)
    assert statuses["bad request line"] == 400
    assert statuses["1,000 headers"] == 431  # divolte.global.server.max_headers (100 by default)
    assert statuses["100 KB Cookie header"] == 431  # divolte.global.server.max_header_size (64 KiB by default)
    assert {statuses[m] for m in ("POST", "PUT", "DELETE", "PATCH", "OPTIONS")} == {405}

    with httpx.Client(base_url=collector.base_url) as client:  # still serving, still recording
        assert client.get("/ping").text == "pong"
        assert client.get(f"/csc-event?{VALID}", headers=BROWSER_HEADERS).status_code == 200
    assert collector.stop(signal.SIGTERM) == 0, collector.log()

    # Recorded, in order: the four pixel cases that keep an event, the 100 KB URL, then the valid event.
    # Everything else was dropped, or refused before it was an event (400 for queries Divolte refuses, 414 for
    # a 2 MB URL, 431 for 1,000 headers or 100 KB of cookie).
    records = read_published(tmp_path)
    assert [r["eventType"] for r in records] == [
        "\ufffd\ufffd", "viewport", "first", "garbage-u", "a" * 100_000, "sentinelEvent",
    ]  # fmt: skip
    for name, _, check in PIXEL_CASES:
        if check is not None:
            field, value = check
            assert any(r[field] == value for r in records), f"{name}: no record with {field} == {value!r}"
