"""Malformed HTTP against the real server: no 5xx, no crash, and valid events afterwards are still recorded.

A seeded generator builds broken requests from parts: bad request lines, odd methods and versions,
oversized or duplicated headers, invalid UTF-8 and control bytes, absurd or lying Content-Length, truncated
bodies, chunked encodings gone wrong, pipelined garbage. Each goes over a fresh connection; whatever the
server answers must not be a 5xx, and the process must survive. ``FUZZ_CASES`` (default 400, so CI stays
quick) and ``FUZZ_SEED`` make longer or different runs: ``FUZZ_CASES=20000 pytest tests/integration/test_fuzz.py``.
"""

from __future__ import annotations

import os
import random
import signal
import socket
from pathlib import Path

import httpx
import pytest

from tests.integration.collector_process import StartCollector
from tests.integration.events import BROWSER_HEADERS, checksum_case
from tests.integration.file_sink import read_published

pytestmark = pytest.mark.integration

CASES = int(os.environ.get("FUZZ_CASES", "400"))
SEED = int(os.environ.get("FUZZ_SEED", "20261128"))
VALID = checksum_case("sentinel")["query"]

PATHS = [b"/csc-event", b"/divolte.js", b"/json-event", b"/ping", b"/ready", b"/metrics", b"/", b"/%00", b"/%zz",
         b"/x/../csc-event", b"//csc-event", b"/csc-event/", b"*", b"http://evil/csc-event",
         b"/" + b"a" * 20000]  # fmt: skip
METHODS = [b"GET", b"POST", b"HEAD", b"PUT", b"DELETE", b"OPTIONS", b"PATCH", b"TRACE", b"CONNECT", b"BREW",
           b"get", b"G\x00T", b"", b"GET GET"]  # fmt: skip
VERSIONS = [b"HTTP/1.1", b"HTTP/1.0", b"HTTP/2.0", b"HTTP/0.9", b"HTTP/1.1x", b"", b"HTTX/1.1", b"HTTP/1.1 extra"]


def junk(rng: random.Random, size: int) -> bytes:
    return bytes(rng.getrandbits(8) for _ in range(size))


def query(rng: random.Random) -> bytes:
    pieces = [VALID.encode(), b"p=%zz", b"&&&&", b"u=((((", b"c=" + b"9" * 40, b"t=%F0%9F%98%80", b"x=-",
              b"t=\xff\xfe", b"a=" + b"%" * 50, b"=" * 10, junk(rng, 20)]  # fmt: skip
    return b"&".join(rng.sample(pieces, rng.randint(1, 4)))


def header_lines(rng: random.Random) -> list[bytes]:
    options = [
        b"Host: x", b"Content-Type: application/json", b"Content-Type: text/plain",
        b"Content-Length: " + rng.choice([b"0", b"5", b"-1", b"99999999999999999999", b"abc", b"1, 2", b""]),
        b"Transfer-Encoding: " + rng.choice([b"chunked", b"gzip, chunked", b"identity", b"chunked, chunked"]),
        b"Cookie: " + b"c=" + b"v" * rng.choice([10, 5000, 70000]), b"X-Forwarded-For: " + junk(rng, 8),
        b"User-Agent: " + junk(rng, rng.randint(0, 300)), b"If-None-Match: " + junk(rng, 10),
        b"Accept-Encoding: " + rng.choice([b"gzip", b"gzip;q=0", junk(rng, 5)]), b"Expect: 100-continue",
        b"NoColonHere", b": empty-name", b"X\x00Null: v", b" Leading-Space: v", b"X-Dup: 1",
    ]  # fmt: skip
    lines = [rng.choice(options) for _ in range(rng.randint(0, 8))]
    if rng.random() < 0.05:
        lines += [b"X-Many: v"] * rng.randint(50, 300)
    return lines


def request(rng: random.Random) -> bytes:
    kind = rng.random()
    if kind < 0.1:
        return junk(rng, rng.randint(1, 2000))  # not HTTP at all
    target = rng.choice(PATHS)
    if rng.random() < 0.6:
        target += b"?" + query(rng)
    line = b" ".join(p for p in (rng.choice(METHODS), target, rng.choice(VERSIONS)) if p or rng.random() < 0.5)
    head = line + b"\r\n" + b"".join(h + b"\r\n" for h in header_lines(rng))
    body = b""
    if rng.random() < 0.4:
        body = rng.choice([b"{}", b'{"session_id": 1}', junk(rng, 100), b"5\r\nab", b"zz\r\nx\r\n0\r\n\r\n"])
    tail = rng.choice([b"\r\n", b"\r\n", b"", b"\n", b"\r\n" + b"GARBAGE / HTTP/1.1\r\n\r\n"])
    data = head + tail + body
    if rng.random() < 0.2:
        data = data[: rng.randint(0, len(data))]  # truncated anywhere
    return data


def send(port: int, data: bytes) -> list[int]:
    """Send raw bytes; return the status codes of every response read before the server closed or went quiet."""
    statuses = []
    received = b""
    with socket.create_connection(("127.0.0.1", port), timeout=2) as sock:
        try:
            sock.sendall(data)
            sock.shutdown(socket.SHUT_WR)
        except OSError:
            pass  # the server answered and closed before we finished sending: read what it said
        try:
            while chunk := sock.recv(65536):
                received += chunk
        except OSError:  # a reset or the timeout: what arrived before it is what counts
            pass
    for line in received.split(b"\r\n"):
        if line.startswith(b"HTTP/1.1 ") and line[9:12].isdigit():
            statuses.append(int(line[9:12]))
    return statuses


def test_fuzzed_requests(start_collector: StartCollector, tmp_path: Path) -> None:
    (tmp_path / "work").mkdir()
    (tmp_path / "publish").mkdir()
    config = f"""
divolte {{
  global.server.request_header_timeout = 1 second
  global.hdfs.threads = 1
  sources {{
    browser.type = browser
    json {{ type = json, event_path = /json-event }}
  }}
  sinks.files {{
    type = hdfs
    file_strategy {{ working_dir = "{tmp_path / "work"}", publish_dir = "{tmp_path / "publish"}" }}
  }}
  mappings.all {{ sources = [browser, json], sinks = [files] }}
}}
"""
    collector = start_collector(config)
    rng = random.Random(SEED)
    seen: dict[int, int] = {}
    for case in range(CASES):
        data = request(rng)
        for status in send(collector.port, data):
            seen[status] = seen.get(status, 0) + 1
            assert status < 500, f"case {case} (seed {SEED}) got {status}: {data[:300]!r}"
        assert collector.process.poll() is None, f"server died on case {case}: {data[:300]!r}\n{collector.log()}"
    print(f"\nfuzz: {CASES} cases (seed {SEED}), responses by status: {dict(sorted(seen.items()))}")
    with httpx.Client(base_url=collector.base_url, headers=BROWSER_HEADERS) as client:
        assert client.get("/ping").text == "pong"
        for _ in range(5):
            assert client.get(f"/csc-event?{VALID}").status_code == 200
    assert collector.stop(signal.SIGTERM) == 0, collector.log()
    assert "Traceback" not in collector.log()
    assert sum(1 for r in read_published(tmp_path) if r["eventType"] == "sentinelEvent") >= 5
