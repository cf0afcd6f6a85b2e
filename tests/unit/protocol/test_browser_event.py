"""Captured ``/csc-event`` requests → events, and every reason an event is dropped."""

from __future__ import annotations

import dataclasses
import urllib.parse

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from collector.errors import IncompleteRequest
from collector.events import CapturedRequest, Headers
from collector.protocol.browser_event import DROP_REASONS, EVENT_SOURCE, parse_browser_event
from tests.vectors import browser_query

_HEADERS: Headers = ((b"user-agent", b"Mozilla/5.0"), (b"x-forwarded-for", b"127.0.0.1, 192.168.13.23"))
_GOOD = browser_query("browser_checksum", "good")


def _request(query: str, *, peer: str = "::ffff:10.1.2.3", headers: Headers = _HEADERS) -> CapturedRequest:
    return CapturedRequest(
        source="browser",
        query=query.encode("utf-8"),
        headers=headers,
        peer=peer,
        received_ms=1_700_000_000_123,
    )


def _without(query: str, key: str) -> str:
    return "&".join(item for item in query.split("&") if item.split("=")[0] != key)


def _replace(query: str, key: str, value: str) -> str:
    return "&".join(f"{key}={value}" if item.split("=")[0] == key else item for item in query.split("&"))


def test_good_event_fills_every_field() -> None:
    request = _request(_GOOD)
    event = parse_browser_event(request, use_x_forwarded_for=False)
    assert event.source == "browser"
    assert event.event_source == EVENT_SOURCE == "browser"
    assert event.party_id == "0:i1t84hgy:5AF359Zjq5kUy98u4wQjlIZzWGhN~GlG"
    assert event.session_id == "0:i1t84hgy:95CbiPCYln_1e0a6rFvuRkDkeNnc6KC8"
    assert event.page_view_id == "0:1fF6GFGjDOQiEx_OxnTm_tl4BH91eGLF"
    assert event.event_id == "0:1fF6GFGjDOQiEx_OxnTm_tl4BH91eGLF0"
    assert event.corrupt is False
    assert event.new_party is False
    assert event.first_in_session is False
    assert event.timestamp == 1_700_000_000_123
    assert event.client_timestamp == 1414499908146
    assert event.remote_host == "10.1.2.3"
    assert event.headers is _HEADERS
    assert event.location == "http://localhost:8290/"
    assert event.referer is None
    assert event.screen_pixel_width == 1676
    assert event.screen_pixel_height == 1027
    assert event.device_pixel_ratio == 2
    assert event.viewport_pixel_width == 1106
    assert event.viewport_pixel_height == 949
    assert event.event_type == "pageView"
    assert event.raw_parameters is None
    assert event.parameters is None
    assert event.duplicate is False
    assert event.memo == {}


@pytest.mark.parametrize(
    ("name", "corrupt"),
    [("good", False), ("bad", True), ("missing", True), ("partial_no_equals", True), ("partial_empty", True)],
)
def test_corrupt_events_are_kept_and_flagged(name: str, corrupt: bool) -> None:
    event = parse_browser_event(_request(browser_query("browser_checksum", name)), use_x_forwarded_for=False)
    assert event.corrupt is corrupt
    assert event.event_type == "pageView"


@pytest.mark.parametrize("name", ["unicode", "sentinel", "emoji", "custom", "dpr-float"])
def test_divolte_js_queries_are_not_corrupt(name: str) -> None:
    event = parse_browser_event(
        _request(browser_query("browser_checksum_js_generated", name)), use_x_forwarded_for=False
    )
    assert event.corrupt is False
    assert event.party_id == "0:i1t84hgy:party"


def test_emoji_event_type_and_custom_parameters() -> None:
    emoji = browser_query("browser_checksum_js_generated", "emoji")
    assert parse_browser_event(_request(emoji), use_x_forwarded_for=False).event_type == "clicked😀"
    custom = browser_query("browser_checksum_js_generated", "custom")
    event = parse_browser_event(_request(custom), use_x_forwarded_for=False)
    assert event.raw_parameters == "(sfoo!hello!dbar!16!abaz!j1.5!tn.sq!a~~b~!c!sd!2015-06-13T15:49:33.002Z!)"


def test_fractional_device_pixel_ratio_is_absent() -> None:
    query = browser_query("browser_checksum_js_generated", "dpr-float")
    event = parse_browser_event(_request(query), use_x_forwarded_for=False)
    assert event.device_pixel_ratio is None
    assert event.viewport_pixel_width == int("um", 36)


@pytest.mark.parametrize(
    ("key", "value", "field"),
    [
        ("i", "zik0zk", "screen_pixel_width"),  # one past Integer.MAX_VALUE
        ("j", "", "screen_pixel_height"),
        ("w", "1_0", "viewport_pixel_width"),
        ("h", "%20qd", "viewport_pixel_height"),
    ],
)
def test_bad_optional_numbers_are_absent(key: str, value: str, field: str) -> None:
    event = parse_browser_event(_request(_replace(_GOOD, key, value)), use_x_forwarded_for=False)
    assert getattr(event, field) is None
    assert event.corrupt is True


@pytest.mark.parametrize(
    ("mutate", "reason"),
    [
        (lambda q: _without(q, "p"), "invalid_party_id"),
        (lambda q: _replace(q, "p", "notavalidpartyid"), "invalid_party_id"),
        (lambda q: _replace(q, "p", "0%3Azzzzzzzzzzzzz%3Aabc"), "invalid_party_id"),
        (lambda q: _without(q, "s"), "invalid_session_id"),
        (lambda q: _replace(q, "s", "1%3A16%3Aabc"), "invalid_session_id"),
        (lambda q: _without(q, "v"), "missing_page_view_id"),
        (lambda q: _without(q, "e"), "missing_event_id"),
        (lambda q: _without(q, "n"), "missing_new_party_flag"),
        (lambda q: _without(q, "f"), "missing_first_in_session_flag"),
        (lambda q: _without(q, "c"), "invalid_client_timestamp"),
        (lambda q: _replace(q, "c", "1.5"), "invalid_client_timestamp"),
        (lambda q: _replace(q, "c", ""), "invalid_client_timestamp"),
        (lambda q: q + "&l=%zz", "malformed_query"),
        (lambda q: q + "&a=1" * 1000, "too_many_parameters"),
    ],
)
def test_drop_reasons(mutate: object, reason: str) -> None:
    with pytest.raises(IncompleteRequest) as caught:
        parse_browser_event(_request(mutate(_GOOD)), use_x_forwarded_for=False)  # type: ignore[operator]
    assert caught.value.reason == reason
    assert reason in DROP_REASONS


def test_party_is_checked_before_session() -> None:
    with pytest.raises(IncompleteRequest) as caught:
        parse_browser_event(_request("v=1&e=2"), use_x_forwarded_for=False)
    assert caught.value.reason == "invalid_party_id"


def test_empty_required_values_are_present() -> None:
    query = _replace(_replace(_GOOD, "v", ""), "e", "")
    event = parse_browser_event(_request(query), use_x_forwarded_for=False)
    assert event.page_view_id == ""
    assert event.event_id == ""


def test_identifiers_are_normalised() -> None:
    query = _replace(_replace(_GOOD, "p", "0%3AI1T84HGY%3Aparty"), "s", "0%3A%2B0016%3Asession")
    event = parse_browser_event(_request(query), use_x_forwarded_for=False)
    assert event.party_id == "0:i1t84hgy:party"
    assert event.session_id == "0:16:session"


@pytest.mark.parametrize(("flag", "expected"), [("t", True), ("f", False), ("T", False), ("true", False), ("", False)])
def test_flags_are_true_only_for_t(flag: str, expected: bool) -> None:
    event = parse_browser_event(_request(_replace(_replace(_GOOD, "n", flag), "f", flag)), use_x_forwarded_for=False)
    assert event.new_party is expected
    assert event.first_in_session is expected


def test_first_value_of_a_repeated_parameter_wins() -> None:
    event = parse_browser_event(_request(_GOOD + "&t=second&l=other"), use_x_forwarded_for=False)
    assert event.event_type == "pageView"
    assert event.location == "http://localhost:8290/"
    assert event.corrupt is True  # the extra values are in the checksum


def test_optional_text_fields() -> None:
    query = _GOOD + "&r=http%3A%2F%2Fexample.com%2F%3Fq%3Da+b&u=sx!"
    event = parse_browser_event(_request(query), use_x_forwarded_for=False)
    assert event.referer == "http://example.com/?q=a b"
    assert event.raw_parameters == "sx!"
    assert parse_browser_event(_request(_without(_GOOD, "t")), use_x_forwarded_for=False).event_type is None


def test_remote_host_with_and_without_x_forwarded_for() -> None:
    request = _request(_GOOD, peer="::1")
    assert parse_browser_event(request, use_x_forwarded_for=False).remote_host == "0:0:0:0:0:0:0:1"
    assert parse_browser_event(request, use_x_forwarded_for=True).remote_host == "192.168.13.23"
    bare = dataclasses.replace(request, headers=())
    assert parse_browser_event(bare, use_x_forwarded_for=True).remote_host == "0:0:0:0:0:0:0:1"


_REQUIRED = {
    "p": "0:i1t84hgy:party",
    "s": "0:i1t84hgy:session",
    "v": "pv",
    "e": "ev",
    "c": "i1t8q2b6",
    "n": "t",
}


@settings(max_examples=200, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from("psvecnfxlrijkwhtu"),
        st.one_of(st.sampled_from(sorted(_REQUIRED.values())), st.text(max_size=8)),
        max_size=17,
    ),
    st.text(alphabet=st.sampled_from("=&%+az"), max_size=6),
)
def test_any_query_gives_an_event_or_a_listed_drop_reason(params: dict[str, str], tail: str) -> None:
    query = urllib.parse.urlencode(params) + tail
    try:
        event = parse_browser_event(_request(query), use_x_forwarded_for=True)
    except IncompleteRequest as exc:
        assert exc.reason in DROP_REASONS
        return
    assert event.party_id.startswith("0:")
    assert event.session_id.startswith("0:")
    assert isinstance(event.corrupt, bool)
