"""Issue 16's wire-level answers (items 1, 3, 4, 5, 7) from the real HTTP server, with and without the pixel
fast path: path forms for every endpoint, If-None-Match, refused queries, header values, long targets.

The vectors are Divolte's answers from ``tests/data/divolte-observed.json``.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from collector.protocol.header_values import header_text
from tests.paths import REPO
from tests.unit.server.harness import SENTINEL, Server, serving, status

OBSERVED: dict[str, Any] = json.loads((REPO / "tests" / "data" / "divolte-observed.json").read_text("utf-8"))
QUERY = "p=0%3Ai1t84hgy%3Aparty&s=0%3Ai1t84hgy%3Asession&v=0%3ApageView&e=0%3AeventId&c=i1t8q2b6&n=f&f=f"
PARTY = "?p=0:i1t84hgy:5AF359Zjq5kUy98u4wQjlIZzWGhN~GlG"

CONFIG = """
divolte {{
  global.server.serve_static_resources = false
  sources.browser.type = browser
  sources.json {{ type = json, event_path = /json-event }}
  sinks.files {{ type = hdfs, file_strategy {{ working_dir = "{dir}", publish_dir = "{dir}" }} }}
  mappings.m {{ sources = [browser, json], sinks = [files] }}
}}
"""

# Every endpoint Divolte registers as an exact path, and the request that reaches it.
ENDPOINTS: dict[str, tuple[str, str, str, bytes, int]] = {
    # name: (method, path, query, body, status)
    "event": ("GET", "/csc-event", "?" + QUERY + "&t=pathForm", b"", 200),
    "tracker": ("GET", "/divolte.js", "", b"", 200),
    "ping": ("GET", "/ping", "", b"", 200),
    "json": ("POST", "/json-event", PARTY, b'{"session_id":"0:i1t84hgy:s","event_id":"e"}', 204),
}
PATH_FORMS = {
    "exact": lambda path: path,
    "doubled leading slash": lambda path: "/" + path,
    "trailing slash": lambda path: path + "/",
    "path parameter": lambda path: path + ";jsessionid=1",
    "dot segments": lambda path: "/x/.." + path,
}


def request(method: str, target: str, headers: str = "", body: bytes = b"") -> bytes:
    head = f"{method} {target} HTTP/1.1\r\nHost: x\r\n{headers}"
    if body:
        head += f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
    return head.encode("latin-1") + b"\r\n" + body


@pytest.fixture(params=[False, True], ids=["asgi", "fast path"])
async def server(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Server]:
    """The collector app under uvicorn with the collector's protocol, with or without the pixel fast path."""
    async with serving(CONFIG, request.param, tmp_path, monkeypatch) as running:
        yield running


@pytest.mark.parametrize("form", list(PATH_FORMS))
@pytest.mark.parametrize("endpoint", list(ENDPOINTS))
async def test_path_forms_reach_every_endpoint(server: Server, endpoint: str, form: str) -> None:
    method, path, query, body, expected = ENDPOINTS[endpoint]
    response = await server.exchange(request(method, PATH_FORMS[form](path) + query, body=body))
    assert status(response) == expected, response[:200]
    if endpoint in ("event", "json"):
        assert len(server.captured()) == 1


async def test_unknown_and_malformed_paths(server: Server) -> None:
    assert status(await server.exchange(request("GET", "/csc-eventx?" + QUERY))) == 404
    assert status(await server.exchange(request("GET", "/x%2F..%2Fcsc-event?" + QUERY))) == 404
    assert status(await server.exchange(request("GET", "/csc%zzevent?" + QUERY))) == 400
    assert server.captured() == []


@pytest.mark.parametrize("case", OBSERVED["if_none_match"]["cases"], ids=lambda c: c["value"] or "(empty)")
async def test_if_none_match(server: Server, case: dict[str, Any]) -> None:
    response = await server.exchange(request("GET", "/csc-event?" + QUERY, f"If-None-Match: {case['value']}\r\n"))
    assert status(response) == case["status"]
    assert len(server.captured()) == (1 if case["status"] == 200 else 0)


async def test_only_the_first_if_none_match_counts(server: Server) -> None:
    vector = OBSERVED["if_none_match"]["first_header_only"]
    headers = "".join(f"If-None-Match: {value}\r\n" for value in vector["headers"])
    assert status(await server.exchange(request("GET", "/csc-event?" + QUERY, headers))) == vector["status"]
    sentinel_first = f'If-None-Match: {SENTINEL.decode()}\r\nIf-None-Match: "other"\r\n'
    assert status(await server.exchange(request("GET", "/csc-event?" + QUERY, sentinel_first))) == 304


def _refused() -> list[tuple[str, str]]:
    cases = []
    for case in OBSERVED["refused_queries"]["cases"]:
        suffix = case["suffix"] if "suffix" in case else case["suffix_repeat"][0] * case["suffix_repeat"][1]
        cases.append((case["name"], QUERY + suffix))
    return cases


@pytest.mark.parametrize(("name", "query"), _refused(), ids=[name for name, _ in _refused()])
async def test_refused_queries_get_400_and_no_record(server: Server, name: str, query: str) -> None:
    response = await server.exchange(request("GET", "/csc-event?" + query))
    assert status(response) == OBSERVED["refused_queries"]["status"]
    assert b"server: divolte" in response
    assert server.captured() == []
    assert server.app.collector.http.counts == {("/csc-event", 400): 1}


async def test_refused_queries_on_other_endpoints(server: Server) -> None:
    for method, path, _, body, _ in ENDPOINTS.values():
        assert status(await server.exchange(request(method, path + "?t=%zz", body=body))) == 400
    # Refused before routing, so before the method check too.
    assert status(await server.exchange(request("POST", "/csc-event?t=%zz", body=b"{}"))) == 400
    assert status(await server.exchange(request("POST", "/csc-event?t=1", body=b"{}"))) == 405
    assert server.captured() == []


async def test_separator_limit(server: Server) -> None:
    limits = OBSERVED["refused_queries"]["separators"]
    base = QUERY.count("&")
    accepted = QUERY + "&" * (limits["accepted"] - base)
    refused = QUERY + "&" * (limits["refused"] - base)
    assert status(await server.exchange(request("GET", "/csc-event?" + accepted))) == 200
    assert status(await server.exchange(request("GET", "/csc-event?" + refused))) == 400
    assert len(server.captured()) == 1


def _header_lines(case: dict[str, Any]) -> bytes:
    if "header_lines_hex" in case:
        return bytes.fromhex(case["header_lines_hex"])
    lines: str = case["header_lines"]
    return lines.encode("latin-1")


@pytest.mark.parametrize("case", OBSERVED["header_values"]["wire"], ids=lambda c: c["name"])
async def test_header_values_on_the_wire(server: Server, case: dict[str, Any]) -> None:
    raw = b"GET /csc-event?" + QUERY.encode() + b" HTTP/1.1\r\nHost: x\r\n" + _header_lines(case) + b"\r\n"
    assert status(await server.exchange(raw)) == 200
    (captured,) = server.captured()
    agents = [value for name, value in captured.headers if name == b"user-agent"]
    assert [header_text(value) for value in agents] == [case["userAgentString"]]


async def test_long_targets(server: Server) -> None:
    vector = OBSERVED["url_length"]
    big = "/csc-event?" + QUERY + "&t=" + "a" * vector["recorded_target_bytes"]
    assert status(await server.exchange(request("GET", big))) == 200
    too_big = "/csc-event?" + QUERY + "&t=" + "a" * vector["limit_bytes"]
    assert status(await server.exchange(request("GET", too_big))) == 414
    assert len(server.captured()) == 1


async def test_a_target_sent_in_small_pieces(server: Server) -> None:
    """Fragments are gathered in one buffer: 400 KB in 100-byte writes is linear work, not quadratic."""
    target = ("/csc-event?" + QUERY + "&t=" + "b" * 400_000).encode()
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    for start in range(0, len(target), 100):
        writer.write((b"GET " if start == 0 else b"") + target[start : start + 100])
    writer.write(b" HTTP/1.1\r\nHost: x\r\n\r\n")
    await writer.drain()
    line = await asyncio.wait_for(reader.readline(), 30)
    writer.close()
    assert status(line) == 200
    assert len(server.captured()) == 1
