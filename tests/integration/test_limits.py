"""Limits against hostile clients, on the real server: slowloris, idle connections, oversized requests."""

from __future__ import annotations

import signal
import socket
import time
from pathlib import Path

import httpx
import pytest

from tests.integration.collector_process import StartCollector, status_line
from tests.integration.events import BROWSER_HEADERS, checksum_case
from tests.integration.file_sink import file_sink_config, read_published

pytestmark = pytest.mark.integration

VALID = checksum_case("sentinel")["query"]
LIMITS = """
    server {
      max_url_length = 2048
      max_headers = 20
      max_header_size = 4096
      request_header_timeout = 1 second
      keep_alive_timeout = 2 seconds
    }
"""


def test_oversized_requests_get_414_and_431(start_collector: StartCollector, tmp_path: Path) -> None:
    collector = start_collector(file_sink_config(tmp_path, LIMITS))
    port = collector.port
    long_url = f"GET /csc-event?{VALID}&pad={'a' * 3000} HTTP/1.1\r\nHost: x\r\n\r\n".encode()
    assert status_line(port, long_url) == b"HTTP/1.1 414 URI Too Long"
    many = b"GET /ping HTTP/1.1\r\n" + b"".join(b"X-%d: v\r\n" % i for i in range(21)) + b"\r\n"
    assert status_line(port, many) == b"HTTP/1.1 431 Request Header Fields Too Large"
    big = b"GET /ping HTTP/1.1\r\nCookie: " + b"c" * 5000 + b"\r\n\r\n"
    assert status_line(port, big) == b"HTTP/1.1 431 Request Header Fields Too Large"
    assert status_line(port, b"GET /ping HTTP/1.1\r\nHost: x\r\n\r\n") == b"HTTP/1.1 200 OK"
    assert collector.stop(signal.SIGTERM) == 0


def test_slowloris_and_idle_connections_do_not_stop_valid_traffic(
    start_collector: StartCollector, tmp_path: Path
) -> None:
    collector = start_collector(file_sink_config(tmp_path, LIMITS))
    port = collector.port
    idle = [socket.create_connection(("127.0.0.1", port)) for _ in range(1000)]
    dripping = [socket.create_connection(("127.0.0.1", port)) for _ in range(50)]
    for sock in dripping:
        sock.sendall(b"GET /csc-event?")  # a request begun and never finished
    with httpx.Client(base_url=collector.base_url, headers=BROWSER_HEADERS) as client:
        for _ in range(20):  # valid traffic flows while 1,050 connections are held open
            assert client.get(f"/csc-event?{VALID}").status_code == 200
        started = time.monotonic()
        for sock in dripping:  # a byte at a time keeps no connection alive past the header deadline
            sock.sendall(b"a")
        time.sleep(1.5)
        for sock in dripping:
            sock.settimeout(5)
            answer = sock.recv(4096)
            assert answer.startswith(b"HTTP/1.1 408 Request Timeout"), answer[:60]
        assert time.monotonic() - started < 5
        for sock in idle[:10]:  # connections that never sent anything are closed as well
            sock.settimeout(5)
            assert sock.recv(4096).startswith(b"HTTP/1.1 408")
        for _ in range(20):
            assert client.get(f"/csc-event?{VALID}").status_code == 200
    for sock in idle + dripping:
        sock.close()
    assert collector.stop(signal.SIGTERM) == 0
    assert len(read_published(tmp_path)) == 40
