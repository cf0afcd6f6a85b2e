"""JSON-source bodies: Divolte's strict properties, Jackson's coercions, ISO-8601 timestamps with offsets."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from collector.errors import IncompleteRequest
from collector.events import CapturedRequest
from collector.protocol.java_time import epoch_millis
from collector.protocol.json_event import DROP_REASONS, parse_json_event

PARTY = b"p=0%3Ai1t84hgy%3A5AF359Zjq5kUy98u4wQjlIZzWGhN~GlG"
BODY = {
    "session_id": "0:ikfm9ufy:4PxwWyVYSjqHW_ZZBQjZ3EiIovxYMBFY",
    "event_id": "e1",
    "is_new_party": True,
    "is_new_session": False,
    "client_timestamp_iso": "2016-06-01T18:54:16.123Z",
}


def parse(body: Any, query: bytes = PARTY, raw: bytes | None = None) -> Any:
    request = CapturedRequest("json", query, (), "::1", 7, json.dumps(body).encode() if raw is None else raw)
    return parse_json_event(request, party_id_parameter="p", use_x_forwarded_for=False)


def test_minimal_event() -> None:
    event = parse(BODY)
    assert (event.party_id, event.session_id, event.event_id) == (
        "0:i1t84hgy:5AF359Zjq5kUy98u4wQjlIZzWGhN~GlG", BODY["session_id"], "e1",
    )  # fmt: skip
    assert event.event_source == "json" and event.corrupt is False and event.page_view_id is None
    assert (event.new_party, event.first_in_session) == (True, False)
    assert (event.timestamp, event.client_timestamp) == (7, 1464807256123)
    assert event.remote_host == "0:0:0:0:0:0:0:1"
    assert event.event_type is None and event.parameters is None


def test_identifiers_are_normalised_and_parameters_kept() -> None:
    event = parse({**BODY, "session_id": "0:IKFM9UFY:x", "parameters": {"a": [1, 2.5, None]}, "event_type": None})
    assert event.session_id == "0:ikfm9ufy:x"
    assert event.parameters == {"a": [1, 2.5, None]}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2016-06-01T18:54:16.123Z", 1464807256123),
        ("2016-06-01T20:54:16.123+02:00", 1464807256123),
        ("2016-06-01T18:54:16Z", 1464807256000),
        ("2016-06-01T18:54:16.123456Z", 1464807256123),
        ("1969-12-31T23:59:59.999Z", -1),
    ],
)
def test_timestamps(text: str, expected: int) -> None:
    assert epoch_millis(text) == expected
    assert parse({**BODY, "client_timestamp_iso": text}).client_timestamp == expected


@pytest.mark.parametrize("text", ["2016-06-01T18:54:16.123", "2016-06-01", "yesterday", ""])
def test_timestamps_need_a_date_time_and_an_offset(text: str) -> None:
    with pytest.raises(IncompleteRequest) as raised:
        parse({**BODY, "client_timestamp_iso": text})
    assert raised.value.reason == "invalid_client_timestamp"


def test_jackson_scalar_coercions() -> None:
    event = parse({**BODY, "event_id": 42, "is_new_party": "false", "is_new_session": 1, "event_type": True})
    assert (event.event_id, event.new_party, event.first_in_session, event.event_type) == ("42", False, True, "true")


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ({**BODY, "p": "x"}, "unknown_property"),
        ({k: v for k, v in BODY.items() if k != "is_new_party"}, "missing_property"),
        ({**BODY, "event_id": None}, "missing_property"),
        ({**BODY, "session_id": "1:abc:def"}, "invalid_session_id"),
        ({**BODY, "is_new_party": "yes"}, "invalid_property"),
        ({**BODY, "event_type": {"nested": 1}}, "invalid_property"),
        ({**BODY, "client_timestamp_iso": 1464807256123}, "invalid_client_timestamp"),
        ([BODY], "invalid_json"),
    ],
)
def test_bad_bodies_are_dropped_with_a_reason(body: Any, reason: str) -> None:
    with pytest.raises(IncompleteRequest) as raised:
        parse(body)
    assert raised.value.reason == reason


def test_bad_json_and_bad_party() -> None:
    with pytest.raises(IncompleteRequest, match="invalid_json"):
        parse(None, raw=b"{not json")
    with pytest.raises(IncompleteRequest, match="invalid_party_id"):
        parse(BODY, query=b"p=nope")


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=10,
)


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.sampled_from([*BODY, "event_type", "parameters", "other"]), json_values) | json_values)
def test_no_body_raises_anything_but_incomplete_request(body: Any) -> None:
    try:
        parse(body)
    except IncompleteRequest as exc:
        assert exc.reason in DROP_REASONS


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=200))
def test_no_bytes_raise_anything_but_incomplete_request(raw: bytes) -> None:
    try:
        parse(None, raw=raw)
    except IncompleteRequest as exc:
        assert exc.reason in DROP_REASONS
