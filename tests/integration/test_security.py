"""Security basics on the real server: no path traversal, CORS only where configured, no secrets in logs."""

from __future__ import annotations

import signal
import socket
from pathlib import Path

import httpx
import pytest

from tests.integration.collector_process import StartCollector
from tests.integration.events import BROWSER_HEADERS, checksum_case

pytestmark = pytest.mark.integration

PARTY = "?p=0%3Ai1t84hgy%3A5AF359Zjq5kUy98u4wQjlIZzWGhN~GlG"


def config(tmp_path: Path, extra: str = "") -> str:
    for name in ("work", "publish"):
        (tmp_path / name).mkdir(exist_ok=True)
    return f"""
divolte {{
  global.server.debug_requests = true
  sources {{
    browser.type = browser
    app {{ type = json, event_path = /json-event, cors_allowed_origins = ["https://shop.example.com"] }}
    other {{ type = json, event_path = /json-closed }}
  }}
  sinks.files {{ type = hdfs, file_strategy.working_dir = "{tmp_path / "work"}" }}
  sinks.files.file_strategy.publish_dir = "{tmp_path / "publish"}"
  mappings.m {{ sources = [browser, app, other], sinks = [files] }}
  {extra}
}}
"""


def raw_status(port: int, target: bytes) -> int:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(b"GET " + target + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        return int(sock.recv(4096).split()[1])


def test_no_path_traversal(start_collector: StartCollector, tmp_path: Path) -> None:
    (tmp_path / "secret.txt").write_text("secret")
    collector = start_collector(config(tmp_path))
    for target in [b"/../../etc/passwd", b"/%2e%2e/%2e%2e/etc/passwd", b"/..%2fsecret.txt",
                   b"/divolte.js/../../etc/passwd",
                   b"/static/../../../etc/passwd", b"/secret.txt", b"/.%2e/collector/app.py"]:  # fmt: skip
        status = raw_status(collector.port, target)
        assert status in (400, 404), (target, status)
    # Dot segments resolve inside the site, as Divolte's router resolves them: this is the demo page at "/".
    assert raw_status(collector.port, b"/index.html/..") == 200
    assert collector.stop(signal.SIGTERM) == 0


def test_cors_only_for_allowed_origins(start_collector: StartCollector, tmp_path: Path) -> None:
    collector = start_collector(config(tmp_path))
    allowed = {"Origin": "https://shop.example.com"}
    with httpx.Client(base_url=collector.base_url) as client:
        preflight = client.options(f"/json-event{PARTY}", headers={**allowed, "Access-Control-Request-Method": "POST"})
        assert preflight.status_code == 204
        assert preflight.headers["access-control-allow-origin"] == "https://shop.example.com"
        assert preflight.headers["access-control-allow-methods"] == "POST"
        posted = client.post(
            f"/json-event{PARTY}", content=b"{}", headers={**allowed, "Content-Type": "application/json"}
        )
        assert posted.status_code == 204 and posted.headers["access-control-allow-origin"] == "https://shop.example.com"
        stranger = {"Origin": "https://evil.example"}
        assert client.options(f"/json-event{PARTY}", headers=stranger).status_code == 405
        refused = client.post(
            f"/json-event{PARTY}", content=b"{}", headers={**stranger, "Content-Type": "application/json"}
        )
        assert "access-control-allow-origin" not in refused.headers
        closed = client.options(f"/json-closed{PARTY}", headers=allowed)
        assert closed.status_code == 405 and "access-control-allow-origin" not in closed.headers
    assert collector.stop(signal.SIGTERM) == 0


def test_logs_never_hold_identifiers_or_cookies(start_collector: StartCollector, tmp_path: Path) -> None:
    collector = start_collector(config(tmp_path))  # debug_requests = true: every request is logged
    with httpx.Client(base_url=collector.base_url, headers=BROWSER_HEADERS) as client:
        assert client.get(f"/csc-event?{checksum_case('sentinel')['query']}").status_code == 200
        assert client.get("/csc-event?p=nonsense-party-value").status_code == 200
        assert client.get("/no-such-page?token=hunter2").status_code == 404
    assert collector.stop(signal.SIGTERM) == 0
    log = collector.log()
    assert "GET /csc-event" in log  # requests are logged...
    for secret in ("i1t84hgy", "5AF359Zjq5kUy98u4wQjlIZzWGhN", "nonsense-party-value", "hunter2", "95CbiPCYln"):
        assert secret not in log, secret  # ...without their query strings or cookies
