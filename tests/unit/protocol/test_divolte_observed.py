"""Divolte's answers where ours differed (issue 16, items 1-7), as vectors: the pure functions give them.

The vectors are in ``tests/data/divolte-observed.json``, each group saying where its answers come from (the
side-by-side run, a JDK, or Undertow's source). The same vectors drive the wire-level tests in
``tests/unit/server/test_divolte_observed_wire.py``.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from collector.errors import IncompleteRequest
from collector.events import CapturedRequest
from collector.mapping.base import first_header
from collector.protocol.browser_event import parse_browser_event
from collector.protocol.forwarded import peer_from_forwarded_for
from collector.protocol.header_values import header_text
from collector.protocol.java_utf8 import java_utf8_decode
from collector.protocol.query import MAX_SEPARATORS, decode_query, refusal
from collector.protocol.request_path import route_path
from collector.sources.browser import SENTINEL_ETAG
from collector.sources.http import etag_matches, if_none_match_tags
from tests.paths import REPO

OBSERVED: dict[str, Any] = json.loads((REPO / "tests" / "data" / "divolte-observed.json").read_text("utf-8"))
REQUIRED = "p=0%3Ai1t84hgy%3Aparty&s=0%3Ai1t84hgy%3Asession&v=0%3ApageView&e=0%3AeventId&c=i1t8q2b6&n=f&f=f"


def _raw(case: dict[str, Any]) -> bytes:
    return bytes.fromhex(case["raw_hex"]) if "raw_hex" in case else case["raw"].encode("latin-1")


# -- 1. header values ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("case", OBSERVED["header_values"]["cases"], ids=lambda c: c["name"])
def test_header_values_read_as_divoltes_server_hands_them_over(case: dict[str, Any]) -> None:
    assert header_text(_raw(case)) == case["recorded"]
    assert first_header(((b"user-agent", _raw(case)),), b"user-agent") == case["recorded"]


# -- 2. X-Forwarded-For --------------------------------------------------------------------------------------


@pytest.mark.parametrize("case", OBSERVED["x_forwarded_for"]["cases"], ids=lambda c: " | ".join(c["headers"]))
def test_x_forwarded_for_read_as_java_reads_it(case: dict[str, Any]) -> None:
    headers = tuple((b"x-forwarded-for", value.encode("latin-1")) for value in case["headers"])
    peer = OBSERVED["x_forwarded_for"]["peer"]
    assert peer_from_forwarded_for(headers, peer) == case["ours"]
    if "kept" not in case:  # the documented difference keeps ours; every other answer is Divolte's
        assert case["ours"] == case["divolte"]
    event = parse_browser_event(
        CapturedRequest("browser", REQUIRED.encode(), headers, peer, 0), use_x_forwarded_for=True
    )
    assert event.remote_host == case["ours"]


def test_x_forwarded_for_without_a_comma_is_not_trimmed() -> None:
    # Java trims only the text after a comma; a control character left at the edge makes it no address.
    assert peer_from_forwarded_for(((b"x-forwarded-for", b"\x011.2.3.4"),), "10.0.0.1") == "10.0.0.1"
    assert peer_from_forwarded_for(((b"x-forwarded-for", b"9.9.9.9,\x011.2.3.4"),), "10.0.0.1") == "1.2.3.4"


# -- 3. If-None-Match ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("case", OBSERVED["if_none_match"]["cases"], ids=lambda c: c["value"] or "(empty)")
def test_only_the_sentinel_etag_is_not_modified(case: dict[str, Any]) -> None:
    matches = etag_matches(case["value"].encode("latin-1"), SENTINEL_ETAG)
    assert (304 if matches else 200) == case["status"]


def test_if_none_match_list_reading() -> None:
    assert if_none_match_tags(b'"a", W/"b",c "d') == ["a", "b", "d"]
    assert if_none_match_tags(b'W//"a"') == ["a"]
    assert if_none_match_tags(b'"a", Wx "b"') == ["a"]
    assert if_none_match_tags(b"*") == []


# -- 4. paths ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("case", OBSERVED["paths"]["routed"], ids=lambda c: c["path"])
def test_paths_route_as_divoltes_router_routes_them(case: dict[str, Any]) -> None:
    assert route_path(case["path"].encode("latin-1")) == case["route"]


# -- 6. malformed escapes ------------------------------------------------------------------------------------


@pytest.mark.parametrize("case", OBSERVED["java_utf8"]["cases"], ids=lambda c: c["name"])
def test_malformed_utf8_replaced_as_the_jdk_replaces_it(case: dict[str, Any]) -> None:
    data = bytes.fromhex(case["bytes"])
    assert java_utf8_decode(data) == case["jdk"]
    escaped = "".join(f"%{byte:02X}" for byte in data)
    assert decode_query(f"a={escaped}".encode("ascii")) == {"a": [case["jdk"]]}


def test_encoded_surrogate_is_one_replacement_and_the_checksum_follows() -> None:
    vector = OBSERVED["escapes"]
    event = parse_browser_event(
        CapturedRequest("browser", vector["surrogate_query"].encode("ascii"), (), "10.0.0.1", 0),
        use_x_forwarded_for=False,
    )
    assert event.location == vector["location"]
    assert event.corrupt is vector["corrupt"]


def test_replacement_is_linear_in_the_malformed_input() -> None:
    assert java_utf8_decode(b"\xed\xa0\x80" * 200_000) == "\ufffd" * 200_000  # quadratic would take minutes


# -- 7. queries Divolte refuses -------------------------------------------------------------------------------


def _refused_queries() -> list[tuple[str, bytes]]:
    cases = []
    for case in OBSERVED["refused_queries"]["cases"]:
        suffix = case["suffix"] if "suffix" in case else case["suffix_repeat"][0] * case["suffix_repeat"][1]
        cases.append((case["name"], (REQUIRED + suffix).encode("latin-1")))
    return cases


@pytest.mark.parametrize(("name", "query"), _refused_queries(), ids=lambda v: v if isinstance(v, str) else "")
def test_refused_queries(name: str, query: bytes) -> None:
    assert refusal(query) is not None
    with pytest.raises(IncompleteRequest):
        decode_query(query)


def test_separator_limit_is_undertows_count() -> None:
    limits = OBSERVED["refused_queries"]["separators"]
    assert limits["accepted"] == MAX_SEPARATORS
    accepted = b"a" + b"&" * limits["accepted"]
    refused = b"a" + b"&" * limits["refused"]
    assert refusal(accepted) is None
    assert decode_query(accepted) == {"a": [""]}
    assert refusal(refused) == "too_many_parameters"
    assert refusal(b"a=%41&b=%e2%9a%95") is None
    assert refusal(b"a=%4") == "malformed_query"
