"""Divolte's answers for JSON-source bodies where ours differed (issue 16, items 9-11), as vectors.

Each body of ``tests/data/divolte-json-observed.json`` goes through ``parse_json_event``, the function the
pipeline calls for every JSON-source request, and must give what Divolte records (or refuse what Divolte
refuses). The same vectors go over the wire in ``tests/unit/server/test_divolte_json_wire.py`` and through a
real collector process in ``tests/integration/test_json_divolte_observed.py``.
"""

from __future__ import annotations

import datetime
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from collector.errors import IncompleteRequest
from collector.events import CapturedRequest, DivolteEvent
from collector.protocol.java_time import TimestampError, epoch_millis
from collector.protocol.json_body import (
    JsonBodyError,
    java_string,
    number_texts,
    read_first_value,
    read_first_value_carefully,
)
from collector.protocol.json_event import DROP_REASONS, parse_json_event, read_event_object
from tests.json_vectors import OBSERVED, PARTY_QUERY, body_of, depth, jackson_text


def parse(body: bytes) -> DivolteEvent:
    request = CapturedRequest("json", PARTY_QUERY, (), "10.0.0.1", 0, body)
    return parse_json_event(request, party_id_parameter="p", use_x_forwarded_for=False)


def recorded(event: DivolteEvent) -> dict[str, Any]:
    """The event in the vectors' terms: what Divolte's record holds for each property."""
    answer: dict[str, Any] = {
        "event_type": event.event_type,
        "event_id": event.event_id,
        "is_new_party": event.new_party,
        "is_new_session": event.first_in_session,
        "client_timestamp": event.client_timestamp,
    }
    return answer


# -- items 9 and 10: bodies and coercions ------------------------------------------------------------------------


@pytest.mark.parametrize("case", OBSERVED["bodies"], ids=lambda case: case["name"])
def test_bodies_read_as_divolte_reads_them(case: dict[str, Any]) -> None:
    body = body_of(case)
    answer = case.get("ours", case["divolte"]) if "kept" in case else case["divolte"]
    if answer == "refused":
        with pytest.raises(IncompleteRequest) as refused:
            parse(body)
        assert refused.value.reason in DROP_REASONS
        return
    event = parse(body)
    if "kept" in case:  # a documented difference: ours records what Divolte loses
        assert depth(event.parameters) == answer["parameters_depth"]
        return
    assert recorded(event) == {key: answer[key] for key in recorded(event)}
    if "parameters_depth" in answer:
        assert depth(event.parameters) == answer["parameters_depth"]
    else:
        assert (None if event.parameters is None else jackson_text(event.parameters)) == answer["parameters"]


def test_the_issues_examples_are_among_the_vectors() -> None:
    names = {case["name"] for case in OBSERVED["bodies"] if case["source"] == "issue 16"}
    assert {"trailing x", "two objects", "object then null", "utf8 bom", "utf16le", "utf32be"} <= names
    assert {"escape lone high", "parameters 1e400", "parameters nested 1024", 'is_new_party "TRUE"'} <= names
    assert {"event_type 1.50", "event_type 1e3", "event_type -0", "event_type 1.0E-7"} <= names


def test_numbers_keep_their_text_where_divolte_reads_text() -> None:
    for written in ("1.50", "1e3", "-0", "1.0E-7", "100000000000000000000000", "-1.5e+10"):
        body = body_of({"set": {"event_type": written, "event_id": written}})
        event = parse(body)
        assert (event.event_type, event.event_id) == (written, written)


def test_unpaired_surrogates_are_written_as_java_writes_them() -> None:
    assert java_string("a\ud800b") == "a?b"
    assert java_string("\ude00\ud83d") == "??"
    assert java_string("\ud83d\ude00") == "\U0001f600"
    assert java_string("plain") == "plain"
    event = parse(body_of({"set": {"parameters": '{"k\\ud800": ["\\udfff", "\\ud83d\\ude00"]}'}}))
    assert event.parameters == {"k?": ["?", "\U0001f600"]}


def test_any_depth_is_read_without_recursion() -> None:
    nested = ("[" * 200_000 + "]" * 200_000).encode()
    assert depth(read_first_value(nested)) == depth(read_first_value_carefully(nested)) == 200_000


@pytest.mark.parametrize(
    ("body", "why"),
    [
        (b"", "no content"),
        (b"   ", "no content"),
        (b'{"a":1', "expected ',' or '}'"),
        (b'{"a":"\\q"}', "unrecognised character escape"),
        (b'{"a":"\\u12"}', "four hex digits"),
        (b"{'a':1}", "double-quoted property name"),
        (b'{"a" 1}', "expected ':'"),
        (b'{"a":tru}', "unrecognised token"),
        (b'{"a":-}', "expected a value"),
        (b'{"a":"\xc3"}', "truncated UTF-8"),
        (b'{"a":"\xc3("}', "invalid UTF-8 middle byte"),
        (b'{"a":"\xf8\x88\x80\x80\x80"}', "invalid UTF-8 start byte 0xf8"),
        (b"\x00\x00\xff\xfe{}", "UCS-4"),
        (b"\x00\x00\x00{\x00\x11\x00\x00", "above 0x10ffff"),
    ],
)
def test_bodies_the_careful_reader_refuses_say_why(body: bytes, why: str) -> None:
    with pytest.raises(JsonBodyError, match=why.replace("(", r"\(")):
        read_first_value_carefully(body)
    with pytest.raises(JsonBodyError):  # the standard library's scanner, where it reads the body, refuses it too
        read_first_value(body)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-(10**30), max_value=10**30) | st.floats(allow_nan=False)
    | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=12,
)  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.sampled_from(["event_type", "parameters", "event_id", "x", "é"]), json_values), st.booleans())
def test_the_fast_path_reads_what_the_careful_reader_reads(value: dict[str, Any], ascii_only: bool) -> None:
    """orjson answers most bodies; whatever it answers must be what the Jackson-faithful reader answers."""
    try:
        body = json.dumps(value, allow_nan=False, ensure_ascii=ascii_only).encode("utf-8")
    except ValueError:  # infinity has no JSON spelling
        body = b"{}"
    fast = read_event_object(body)
    assert jackson_text(fast) == jackson_text(read_first_value(body)) == jackson_text(read_first_value_carefully(body))


@settings(max_examples=300, deadline=None)
@given(json_values, st.sampled_from([None, 2]), st.booleans(), st.sampled_from(["", " x", "{}", "null", "\xff"]))
def test_the_careful_reader_agrees_with_the_standard_library(
    value: Any, indent: int | None, ascii_only: bool, trailing: str
) -> None:
    """Any valid JSON text, in any layout, with anything after it: the first value, as ``json`` reads it."""
    try:
        text = json.dumps(value, allow_nan=False, ensure_ascii=ascii_only, indent=indent)
    except ValueError:  # infinity has no JSON spelling
        text = "[]"
    body = text.encode("utf-8") + trailing.encode("latin-1")
    expected = jackson_text(json.loads(text))
    assert jackson_text(read_first_value(body)) == jackson_text(read_first_value_carefully(body)) == expected


json_numbers = st.from_regex(r"-?(0|[1-9][0-9]{0,25})(\.[0-9]{1,5})?([eE][+-]?[0-9]{1,3})?", fullmatch=True)


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.sampled_from(["event_type", "event_id", "a"]), json_numbers | st.just('"text"')))
def test_number_texts_as_written_by_both_readers(written: dict[str, str]) -> None:
    body = "{" + ",".join(f'"{key}": {value}' for key, value in written.items()) + "}"
    expected = {key: value for key, value in written.items() if value != '"text"'}
    assert number_texts(body.encode()) == expected  # the standard library's scanner reads this one
    surrogate = body[:-1] + (', "s": "\\ud800"}' if written else '"s": "\\ud800"}')
    assert number_texts(surrogate.encode()) == expected  # and the careful reader this one


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300))
def test_no_bytes_raise_anything_but_incomplete_request(raw: bytes) -> None:
    try:
        parse(raw)
    except IncompleteRequest as exc:
        assert exc.reason in DROP_REASONS


# -- item 11: timestamps -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("case", OBSERVED["timestamps"], ids=lambda case: case["text"])
def test_timestamps_read_as_java_reads_them(case: dict[str, Any]) -> None:
    if case["millis"] is None:
        with pytest.raises(TimestampError):
            epoch_millis(case["text"])
        with pytest.raises(IncompleteRequest, match="invalid_client_timestamp"):
            parse(body_of({"set": {"client_timestamp_iso": json.dumps(case["text"])}}))
    else:
        assert epoch_millis(case["text"]) == case["millis"]
        assert (
            parse(body_of({"set": {"client_timestamp_iso": json.dumps(case["text"])}})).client_timestamp
            == (case["millis"])
        )


@settings(max_examples=500, deadline=None)
@given(st.datetimes(timezones=st.sampled_from([datetime.UTC, datetime.timezone(datetime.timedelta(hours=-7))])))
def test_timestamps_agree_with_python_inside_its_range(moment: datetime.datetime) -> None:
    text = f"{moment.year:04d}" + moment.strftime("-%m-%dT%H:%M:%S.%f") + moment.strftime("%z")[:3] + ":00"
    expected = (moment - datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)) // datetime.timedelta(milliseconds=1)
    assert epoch_millis(text) == expected


def test_a_timestamp_beyond_pythons_datetime_is_a_long_in_the_record() -> None:
    assert epoch_millis("+292278994-08-17T07:12:55.807Z") == 2**63 - 1
    assert epoch_millis("-292275055-05-16T16:47:04.192Z") == -(2**63)
    assert epoch_millis("+10000-01-01T00:00:00Z") == 253402300800000


def test_integers_longer_than_pythons_string_limit_stay_exact() -> None:
    digits = "7" * 5000  # Jackson keeps any integer (BigInteger); int(str) stops at 4,300 digits
    event = parse(body_of({"set": {"parameters": f"[{digits}, -{digits}]", "event_type": digits}}))
    half = int("7" * 2500)
    assert event.parameters == [half * 10**2500 + half, -(half * 10**2500 + half)]
    assert event.event_type == digits
