"""The query decoder: Undertow's form decoding, its limits and its error cases."""

from __future__ import annotations

import re
import urllib.parse

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from collector.errors import IncompleteRequest
from collector.protocol.query import MAX_PARAMETERS, decode_query
from tests.vectors import browser_query

_MALFORMED_ESCAPE = re.compile(r"%(?![0-9A-Fa-f]{2})")


def test_good_query_from_the_vectors() -> None:
    params = decode_query(browser_query("browser_checksum", "good").encode("ascii"))
    assert params["p"] == ["0:i1t84hgy:5AF359Zjq5kUy98u4wQjlIZzWGhN~GlG"]
    assert params["l"] == ["http://localhost:8290/"]
    assert params["x"] == ["si9804"]
    assert list(params) == ["p", "s", "v", "e", "c", "n", "f", "l", "i", "j", "k", "w", "h", "t", "x"]


def test_unicode_event_type_is_utf8_decoded() -> None:
    params = decode_query(browser_query("browser_checksum", "unicode_event_type").encode("ascii"))
    assert params["t"] == ["ụñ⚕©ºḌℨ"]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        (b"", {}),
        (b"a=1", {"a": ["1"]}),
        (b"a=1+2", {"a": ["1 2"]}),
        (b"a=1%2B2", {"a": ["1+2"]}),
        (b"a+b=c", {"a b": ["c"]}),
        (b"a%3db=c", {"a=b": ["c"]}),
        (b"a=b=c", {"a": ["b=c"]}),
        (b"x", {"x": [""]}),
        (b"x=", {"x": [""]}),
        (b"=v", {"": ["v"]}),
        (b"=", {"": [""]}),
        (b"a=1&&b=2&", {"a": ["1"], "b": ["2"]}),
        (b"&&&", {}),
        (b"t=a&u=b&t=c", {"t": ["a", "c"], "u": ["b"]}),
        (b"a=%2541", {"a": ["%41"]}),
        (b"a=%e2%9A%95", {"a": ["⚕"]}),
        (b"a=%F0%9F%98%80", {"a": ["😀"]}),
        ("a=é😀".encode(), {"a": ["é😀"]}),
        ("a=%C3%A9+é".encode(), {"a": ["é é"]}),
    ],
)
def test_form_decoding(query: bytes, expected: dict[str, list[str]]) -> None:
    assert decode_query(query) == expected


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        (b"a=%C3", "\ufffd"),
        (b"a=%C3%28", "\ufffd("),
        (b"a=%FF%FE", "\ufffd\ufffd"),
        (b"a=%E2%82", "\ufffd"),
        (b"a=\xff", "\ufffd"),
        (b"a=%ED%A0%80", "\ufffd"),  # one, as the JDK decodes an encoded surrogate (Python would give three)
    ],
)
def test_invalid_utf8_becomes_replacement_characters(query: bytes, expected: str) -> None:
    assert decode_query(query) == {"a": [expected]}


@pytest.mark.parametrize("query", [b"a=%zz", b"a=%4", b"a=%", b"a=%%41", b"%g0=1", b"a=1&b=%-1", b"a=%+1", b"a=% 1"])
def test_malformed_escapes_are_rejected(query: bytes) -> None:
    with pytest.raises(IncompleteRequest) as caught:
        decode_query(query)
    assert caught.value.reason == "malformed_query"


def test_parameter_limit_is_undertows() -> None:
    # Undertow counts every '&' (empty items too) and refuses the query at the 1,002nd.
    at_limit = b"&".join(b"k%d=v" % i for i in range(MAX_PARAMETERS + 2))
    assert len(decode_query(at_limit)) == MAX_PARAMETERS + 2
    assert len(decode_query(b"&".join(b"k%d=v" % i for i in range(MAX_PARAMETERS)) + b"&&")) == MAX_PARAMETERS
    assert decode_query(b"a=1&" * MAX_PARAMETERS) == {"a": ["1"] * MAX_PARAMETERS}
    for refused in (at_limit + b"&one=more", at_limit + b"&"):
        with pytest.raises(IncompleteRequest) as caught:
            decode_query(refused)
        assert caught.value.reason == "too_many_parameters"


_texts = st.text(max_size=12)


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(_texts, st.lists(_texts, min_size=1, max_size=3), max_size=6), st.booleans())
def test_urlencoded_dict_decodes_back(params: dict[str, list[str]], plus_for_space: bool) -> None:
    quote_via = urllib.parse.quote_plus if plus_for_space else urllib.parse.quote
    query = urllib.parse.urlencode(params, doseq=True, quote_via=quote_via).encode("ascii")
    assert decode_query(query) == params


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        # A raw byte >= 0x80 before any '%': Undertow re-reads the component as UTF-8 and decodes nothing...
        ("a=é%41", "é%41"),
        ("a=é+%C3%A9", "é+%C3%A9"),
        # ...unless a '+' came first: then bytes up to the first '%' are one character each (ISO-8859-1).
        ("a=b+é", "b Ã©"),
        ("a=b+é%41", "b Ã©A"),
        # From the first '%' on, the rest is bytes decoded together, raw ones included.
        ("a=%41é+", "Aé "),
    ],
)
def test_raw_non_ascii_bytes_read_as_undertow_reads_them(query: str, expected: str) -> None:
    assert decode_query(query.encode("utf-8")) == {"a": [expected]}


def _escape_first(component: str) -> str:
    head, percent, tail = component.partition("%")
    return head.replace("é", "") + percent + tail


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.sampled_from("ab=&+%0fFgé~ "), max_size=30))
def test_agrees_with_parse_qs_where_escapes_are_well_formed(text: str) -> None:
    # Raw 'é' only after an escape in its key or value, where Undertow and parse_qs agree (see the test above).
    text = "&".join("=".join(_escape_first(part) for part in item.split("=", 1)) for item in text.split("&"))
    query = text.encode("utf-8")
    if _MALFORMED_ESCAPE.search(text):
        with pytest.raises(IncompleteRequest):
            decode_query(query)
        return
    expected = urllib.parse.parse_qs(text, keep_blank_values=True, errors="replace")
    assert decode_query(query) == expected


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=60))
def test_arbitrary_bytes_decode_or_raise_a_documented_reason(query: bytes) -> None:
    try:
        params = decode_query(query)
    except IncompleteRequest as exc:
        assert exc.reason == "malformed_query"
        return
    for key, values in params.items():
        assert isinstance(key, str)
        assert values
        assert all(isinstance(value, str) for value in values)
