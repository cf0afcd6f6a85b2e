"""Issue 16's JSON-source vectors through a real collector process and its file sink: what Divolte records is
recorded (in order, with Divolte's values), what Divolte refuses is not, and the server never fails."""

from __future__ import annotations

import re
import signal
import socket
from pathlib import Path
from typing import Any

import pytest

from tests.integration.collector_process import StartCollector
from tests.integration.file_sink import read_published
from tests.json_vectors import OBSERVED, PARTY_QUERY, body_of

pytestmark = pytest.mark.integration


def config(tmp_path: Path) -> str:
    (tmp_path / "work").mkdir()
    (tmp_path / "publish").mkdir()
    return f"""
divolte {{
  global.hdfs.threads = 1  // one file: records in arrival order
  sources.json {{ type = json, event_path = /json-event, maximum_body_size = 65536 }}
  sinks.files {{
    type = hdfs
    file_strategy {{ working_dir = "{tmp_path / "work"}", publish_dir = "{tmp_path / "publish"}" }}
  }}
  mappings.m {{ sources = [json], sinks = [files] }}
}}
"""


def request(method: str, target: str, body: bytes) -> bytes:
    head = f"{method} {target} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n"
    return head.encode("ascii") + b"\r\n" + body


def statuses(port: int, requests: list[bytes]) -> list[int]:
    """Each request on one kept-alive connection, after the previous answer; the status codes."""
    answers = []
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        stream = sock.makefile("rb")
        for one in requests:
            sock.sendall(one)
            head = b""
            while not head.endswith(b"\r\n\r\n"):
                head += stream.readline()
            length = re.search(rb"content-length: (\d+)", head)
            stream.read(int(length[1]) if length else 0)
            answers.append(int(head.split(b" ", 2)[1]))
    return answers


def test_vectors_through_a_real_collector(start_collector: StartCollector, tmp_path: Path) -> None:
    collector = start_collector(config(tmp_path))
    target = "/json-event?" + PARTY_QUERY.decode()
    bodies: list[dict[str, Any]] = OBSERVED["bodies"]
    timestamps = [
        {"set": {"client_timestamp_iso": '"' + case["text"] + '"'}, "millis": case["millis"]}
        for case in OBSERVED["timestamps"]
    ]
    sent = [
        request("post" if index % 2 else "POST", target, body_of(case))
        for index, case in enumerate([*bodies, *timestamps])
    ]
    sent += [request("CONNECTX", target, body_of(bodies[0])), request("POST", target + "#frag", body_of(bodies[0]))]
    answers = statuses(collector.port, sent)
    assert answers[:-2] == [204] * (len(sent) - 2)
    assert answers[-2:] == [405, 400]
    assert collector.stop(signal.SIGTERM) == 0

    expected = []
    for case in bodies:
        answer = case.get("ours", case["divolte"]) if "kept" in case else case["divolte"]
        if answer == "refused":
            continue
        event_type = "unknown" if answer.get("event_type", "t") is None else answer.get("event_type", "t")
        in_session = answer.get("is_new_session", False)
        expected.append((event_type, in_session, answer.get("client_timestamp", 1472038179412)))
    expected += [("t", False, case["millis"]) for case in timestamps if case["millis"] is not None]
    records = read_published(tmp_path)
    assert [(r["eventType"], r["firstInSession"], r["clientTimestamp"]) for r in records] == expected
    assert {record["partyId"] for record in records} == {"0:i1t84hgy:party"}
    accepted, processed = len(sent) - 2, len(expected)
    assert f"Stopped: {accepted} events accepted, {processed} processed, 0 dropped at intake, " in collector.log()
    assert "Traceback" not in collector.log()
