"""Issue 16's JSON-source answers on the wire (items 8-11 and the two kept differences), from the collector's
app under uvicorn with the collector's HTTP protocol, with and without the pixel fast path.

The vectors are Divolte's answers from ``tests/data/divolte-json-observed.json``; every body is sent over HTTP,
answered 204, and the request the source captured is parsed as the pipeline parses it.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from collector.errors import IncompleteRequest
from collector.protocol.json_event import parse_json_event
from tests.json_vectors import OBSERVED, PARTY_QUERY, body_of
from tests.unit.server.harness import Server, serving, status

PARTY = "?" + PARTY_QUERY.decode()
EVENT = body_of({"set": {}})
CONFIG = """
divolte {{
  global.server.serve_static_resources = false
  sources.browser.type = browser
  sources.json {{ type = json, event_path = /json-event, maximum_body_size = 65536 }}
  sinks.files {{ type = hdfs, file_strategy {{ working_dir = "{dir}", publish_dir = "{dir}" }} }}
  mappings.m {{ sources = [browser, json], sinks = [files] }}
}}
"""


def post(target: str, body: bytes = EVENT, method: str = "POST", content_type: str = "application/json") -> bytes:
    head = f"{method} {target} HTTP/1.1\r\nHost: x\r\nContent-Type: {content_type}\r\nContent-Length: {len(body)}\r\n"
    return head.encode("latin-1") + b"\r\n" + body


@pytest.fixture(params=[False, True], ids=["asgi", "fast path"])
async def server(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Server]:
    """The collector app under uvicorn with the collector's protocol, with or without the pixel fast path."""
    async with serving(CONFIG, request.param, tmp_path, monkeypatch) as running:
        yield running


async def keep_alive(server: Server, requests: list[bytes]) -> list[bytes]:
    """Send each request on one connection after the previous answer; the answers' heads (bodies read past)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    heads = []
    for one in requests:
        writer.write(one)
        await writer.drain()
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
        length = re.search(rb"content-length: (\d+)", head)
        await reader.readexactly(int(length[1]) if length else 0)
        heads.append(head)
    writer.close()
    return heads


# -- item 8: methods and targets -----------------------------------------------------------------------------------


@pytest.mark.parametrize("case", OBSERVED["methods"]["cases"], ids=lambda case: case["method"])
async def test_methods_as_divoltes_server_takes_them(server: Server, case: dict[str, Any]) -> None:
    response = await server.exchange(post("/json-event" + PARTY, method=case["method"]))
    assert status(response) == case["status"], response[:200]
    assert len(server.captured()) == (1 if case["status"] == 204 else 0)
    if case["status"] == 405:  # the method as the application sees it: upper case when it is a plain one
        assert b"allow: POST" in response
        assert f"HTTP method {case['method'].upper()} not allowed.".encode() in response


async def test_method_case_on_a_kept_alive_connection(server: Server) -> None:
    heads = await keep_alive(server, [post("/json-event" + PARTY, method=m) for m in ("post", "CONNECTX", "Post")])
    assert [status(head) for head in heads] == [204, 405, 204]
    assert len(server.captured()) == 2


async def test_a_method_split_over_two_packets(server: Server) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    writer.write(b"po")
    await writer.drain()
    await asyncio.sleep(0.05)
    writer.write(post("/json-event" + PARTY)[len(b"PO") :])
    await writer.drain()
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
    writer.close()
    assert status(head) == 204 and len(server.captured()) == 1


async def test_lower_case_get_reaches_the_pixel(server: Server) -> None:
    query = "p=0%3Ai1t84hgy%3Aparty&s=0%3Ai1t84hgy%3Asession&v=0%3Apv&e=0%3Aev&c=i1t8q2b6&n=f&f=f"
    response = await server.exchange(f"get /csc-event?{query} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    assert status(response) == 200 and len(server.captured()) == 1


@pytest.mark.parametrize("case", OBSERVED["targets"]["cases"], ids=lambda case: case["target"])
async def test_targets(server: Server, case: dict[str, Any]) -> None:
    response = await server.exchange(post(case["target"]))
    assert status(response) == case["status"], response[:200]
    assert len(server.captured()) == (1 if case["status"] == 204 else 0)


async def test_a_fragment_is_refused_on_every_path(server: Server) -> None:
    query = "p=0%3Ai1t84hgy%3Aparty&s=0%3Ai1t84hgy%3Asession&v=0%3Apv&e=0%3Aev&c=i1t8q2b6&n=f&f=f"
    response = await server.exchange(f"GET /csc-event?{query}#top HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    assert status(response) == 400 and b"server: divolte" in response
    assert server.captured() == []
    assert server.app.collector.refusals.counts["malformed_request"] == 1


# -- the two kept differences --------------------------------------------------------------------------------------


async def test_a_charset_parameter_is_accepted(server: Server) -> None:
    kept = OBSERVED["kept"]["charset"]
    response = await server.exchange(post("/json-event" + PARTY, content_type=kept["content_type"]))
    assert status(response) == kept["ours"] and len(server.captured()) == 1


async def test_an_oversize_content_length_is_answered_at_once(server: Server) -> None:
    kept = OBSERVED["kept"]["oversize"]
    head = f"POST /json-event{PARTY} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
    head += f"Content-Length: {kept['content_length']}\r\n\r\n"
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    writer.write(head.encode())  # and no body: the answer must not wait for it
    await writer.drain()
    answer = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
    writer.close()
    assert status(answer) == kept["ours"] and server.captured() == []


# -- items 9-11: every body over HTTP, then as the pipeline parses it ------------------------------------------------


async def test_every_body_vector_over_http(server: Server) -> None:
    cases = OBSERVED["bodies"]
    heads = await keep_alive(server, [post("/json-event" + PARTY, body_of(case)) for case in cases])
    assert {status(head) for head in heads} == {204}  # decided before the body is parsed, as in Divolte
    captured = server.captured()
    assert [request.body for request in captured] == [body_of(case) for case in cases]
    for case, request in zip(cases, captured, strict=True):
        answer = case.get("ours", case["divolte"])
        try:
            event = parse_json_event(request, party_id_parameter="p", use_x_forwarded_for=False)
        except IncompleteRequest:
            assert answer == "refused", case["name"]
            continue
        assert answer != "refused", case["name"]
        if "event_type" in answer:
            assert (event.event_type, event.client_timestamp) == (answer["event_type"], answer["client_timestamp"])


async def test_methods_after_empty_lines_and_in_pipelines(server: Server) -> None:
    # llhttp skips empty lines before a request; the method after them is read the same way.
    heads = await keep_alive(
        server, [post("/json-event" + PARTY), b"\r\n" + post("/json-event" + PARTY, method="post")]
    )
    assert [status(head) for head in heads] == [204, 204]
    # Two requests in one packet: the first method is rewritten, the second must already be one llhttp knows.
    response = await server.exchange(post("/json-event" + PARTY, method="post") + post("/json-event" + PARTY))
    assert response.count(b"HTTP/1.1 204") == 2
    assert len(server.captured()) == 4


@pytest.mark.parametrize("method", ["G\x00T", "P(ST", "X" * 65])
async def test_what_is_no_method_token_is_still_refused(server: Server, method: str) -> None:
    assert status(await server.exchange(post("/json-event" + PARTY, method=method))) == 400
    assert server.captured() == []
