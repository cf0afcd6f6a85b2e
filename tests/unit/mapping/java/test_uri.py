"""URI parsing as strict as java.net.URI, the decoded getters, and Divolte's query-string map."""

from __future__ import annotations

import urllib.parse
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from collector.mapping.java.hashmap import java_hash_map_order, java_string_hash
from collector.mapping.java.uri import JavaURI, parse_uri
from collector.mapping.java.uri_decoding import form_decode, parse_query_string
from collector.protocol.java_utf8 import java_utf8_decode
from tests.vectors import load_vectors

_JAVA_CASES = load_vectors()["java_uri_parsing"]["cases"]
_MAPPING_CASES = {case["name"]: case for case in load_vectors()["mapping"]["cases"]}
_GETTERS = {
    "scheme": "scheme",
    "host": "host",
    "port": "port",
    "path": "path",
    "rawPath": "raw_path",
    "decodedQueryString": "query",
    "rawQueryString": "raw_query",
    "decodedFragment": "fragment",
    "rawFragment": "raw_fragment",
}


def _parsed(text: str) -> JavaURI:
    uri = parse_uri(text)
    assert uri is not None, text
    return uri


@pytest.mark.parametrize("case", _JAVA_CASES, ids=[case["in"] for case in _JAVA_CASES])
def test_java_uri_parsing_vectors(case: dict[str, Any]) -> None:
    uri = parse_uri(case["in"])
    if "result" in case:
        assert case["result"].startswith("absent")
        assert uri is None
        return
    assert uri is not None
    checked = [key for key in case if key != "in"]
    assert checked
    for key in checked:
        assert getattr(uri, _GETTERS[key]) == case[key], key


def test_mapping_uri_vector() -> None:
    case = _MAPPING_CASES["uri"]
    expect = case["expect"]
    location = _parsed(case["location"])
    for key in ("scheme", "path", "host", "port", "decodedQueryString"):
        assert getattr(location, _GETTERS[key]) == expect[key], key
    query = location.query_map()
    assert query == expect["query"]
    assert query is not None
    assert query["q"][0] == expect["query.value(q)"]
    assert query["p"] == expect["query.valueList(p)"]
    assert _parsed(case["referer"]).fragment == expect["referer.decodedFragment"]


def test_mapping_uri_raw_vector() -> None:
    case = _MAPPING_CASES["uri raw"]
    uri = _parsed(case["location"])
    for key, expected in case["expect"].items():
        assert getattr(uri, _GETTERS[key]) == expected, key


def test_mapping_uri_of_fragment_vector() -> None:
    case = _MAPPING_CASES["uri of fragment"]
    fragment = _parsed(case["location"]).raw_fragment
    assert fragment is not None
    inner = _parsed(fragment)
    assert inner.path == case["expect"]["h.path"]
    assert inner.raw_query == case["expect"]["h.rawQueryString"]
    query = inner.query_map()
    assert query is not None
    assert query["q"][0] == case["expect"]["h.query.value(q)"]


def test_mapping_funky_query_vector() -> None:
    case = _MAPPING_CASES["funky query"]
    query = _parsed(case["location"]).query_map()
    assert query is not None
    for key, expected in case["expect"].items():
        name = key.removeprefix("value(").removesuffix(")")
        assert query[name][0] == expected
    # "=42" and "=bla" both land under the empty key, in order.
    assert query[""] == ["42", "bla"]


@pytest.mark.parametrize(
    "text",
    [
        "http://example.com/a b",
        "http://example.com/a\tb",
        'http://example.com/?q="x"',
        "http://example.com/<p>",
        "http://example.com/a\\b",
        "http://example.com/a^b",
        "http://example.com/a`b",
        "http://example.com/a}b",
        "http://example.com/%",
        "http://example.com/%4",
        "http://example.com/?%G1",
        "http://example.com/#a%",
        "http://x/a#b#c",
        "http://x/[a]",
        "http://x/a\u00a0b",
        "http://x/a\u0085b",
        "http://x/a\u3000b",
        "http:",
        "http://",
        ":path",
        "1http://x/",
        "ht tp://x/",
        "http://[::1/",
        "http://[::1::2]/",
        "http://[1:2:3:4:5:6:7:8:9]/",
        "http://[fe80::1%]/",
        "http://a b/",
        "http://a%zz/",
        " ",
    ],
)
def test_java_refuses(text: str) -> None:
    assert parse_uri(text) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("http://example.com", {"host": "example.com", "path": "", "raw_query": None}),
        ("http://example.com:/x", {"host": "example.com", "port": None}),
        ("http://user:pw@example.com:81/", {"host": "example.com", "port": 81}),
        ("http://1.2.3.4:8/", {"host": "1.2.3.4", "port": 8}),
        ("http://[::1]:8080/x", {"host": "[::1]", "port": 8080}),
        ("http://[::ffff:1.2.3.4]/", {"host": "[::ffff:1.2.3.4]"}),
        ("http://[fe80::1%eth0]/", {"host": "[fe80::1%eth0]"}),
        ("http://example.com./", {"host": "example.com."}),
        ("http://123/", {"host": "123"}),
        # Registry-based authorities: valid URIs without host or port.
        ("http://256.1.1.1/", {"host": None}),
        ("http://1.2.3/", {"host": None}),
        ("http://a..b/", {"host": None}),
        ("http://a-.com/", {"host": None}),
        ("http://a.1b/", {"host": None}),
        ("http://h:99999999999/", {"host": None, "port": None}),
        ("http://h:2147483647/", {"host": "h", "port": 2147483647}),
        ("http://h:2147483648/", {"host": None, "port": None}),
        ("http://a@b@c/", {"host": None}),
        ("http://[1:2]/", None),
        # Opaque URIs have no path or query.
        ("mailto:someone@example.com", {"scheme": "mailto", "path": None, "raw_query": None}),
        ("urn:x?y#f", {"path": None, "raw_query": None, "fragment": "f"}),
        # Relative references.
        ("", {"scheme": None, "path": ""}),
        ("#f", {"path": "", "fragment": "f"}),
        ("?q", {"path": "", "raw_query": "q"}),
        ("//host/p", {"host": "host", "path": "/p"}),
        ("file:///etc/hosts", {"host": None, "path": "/etc/hosts"}),
        # Brackets are allowed in the query and the fragment.
        ("http://x/?a[]=1#[x]", {"raw_query": "a[]=1", "fragment": "[x]"}),
        # Non-ASCII "other" characters are accepted where escapes are.
        ("http://x/é?é#é", {"path": "/é", "query": "é", "fragment": "é"}),
        ("http://x/😀", {"path": "/😀"}),
    ],
)
def test_jdk_behaviour(text: str, expected: dict[str, Any] | None) -> None:
    uri = parse_uri(text)
    if expected is None:
        assert uri is None
        return
    assert uri is not None
    for key, value in expected.items():
        assert getattr(uri, key) == value, key


def test_decoding_is_utf8_with_replacement_per_escape_run() -> None:
    uri = _parsed("http://x/%C3%A9%C3?%2B+%E2%82%AC#%FF%41")
    assert uri.path == "/é\ufffd"
    assert uri.query == "++€"
    assert uri.fragment == "\ufffdA"
    assert uri.raw_path == "/%C3%A9%C3"


def test_java_utf8_decode_matches_the_jdk_for_encoded_surrogates() -> None:
    assert java_utf8_decode(b"a\xed\xa0\x80b") == "a\ufffdb"
    assert java_utf8_decode(b"\xed\xa0") == "\ufffd"
    assert java_utf8_decode(b"\xed\xa0A") == "\ufffdA"
    assert java_utf8_decode(b"\xe2\x82") == "\ufffd"
    assert java_utf8_decode(b"\xe2A") == "\ufffdA"
    assert java_utf8_decode(b"\xf0\x80\x80\x80") == "\ufffd" * 4
    assert java_utf8_decode("€".encode()) == "€"


def test_query_map_form_decodes_and_keeps_every_value() -> None:
    assert parse_query_string("a=1+2&a=%2B&b=x%3Dy=z&c") == {"a": ["1 2", "+"], "b": ["x=y=z"], "c": [""]}
    assert parse_query_string("") == {}
    assert parse_query_string("&") == {"": [""]}
    assert parse_query_string("a=1&&b=2&") == {"": [""], "a": ["1"], "b": ["2"]}
    assert form_decode("%E2%82%AC+%zz") == "€ %zz"


def test_query_map_is_absent_without_a_query_and_empty_for_an_empty_one() -> None:
    assert _parsed("http://x/").query_map() is None
    assert _parsed("http://x/?").query_map() == {}


def test_java_string_hash() -> None:
    assert java_string_hash("") == 0
    assert java_string_hash("hello") == 99162322
    assert java_string_hash("Aa") == java_string_hash("BB") == 2112
    assert java_string_hash("😀") == (0xD83D * 31 + 0xDE00)
    assert java_string_hash("polygenelubricants") == 2**32 - 2**31  # Integer.MIN_VALUE


def test_java_hash_map_order() -> None:
    # Buckets in index order; within a bucket the latest key first (HashMap.compute inserts at the head).
    assert java_hash_map_order(["q", "a", "b"]) == ["a", "q", "b"]
    assert java_hash_map_order(["a", "q"]) == ["q", "a"]
    assert java_hash_map_order(["a", "q", "a"]) == ["q", "a"]
    # 13 keys exceed the threshold of 12, but Java only resizes at the start of the next compute call.
    keys = [chr(ord("a") + i) for i in range(12)] + ["q"]
    assert java_hash_map_order(keys)[:2] == ["q", "a"]
    assert java_hash_map_order([*keys, "a"])[:2] == ["a", "b"]


def test_query_map_iterates_in_java_hash_map_order() -> None:
    query = parse_query_string("q=1&p=2&a=3&=4")
    assert list(query) == ["", "p", "a", "q"]


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=60))
def test_arbitrary_text_never_raises(text: str) -> None:
    uri = parse_uri(text)
    if uri is not None and uri.raw_query is not None:
        assert isinstance(uri.query_map(), dict)


_LABEL = st.from_regex(r"[a-z][a-z0-9]{0,5}", fullmatch=True)
_SEGMENT = st.text(alphabet=st.characters(codec="utf-8"), max_size=8)


@settings(max_examples=200, deadline=None)
@given(
    st.sampled_from(["http", "https", "ftp"]),
    st.lists(_LABEL, min_size=1, max_size=3),
    st.one_of(st.none(), st.integers(0, 65535)),
    st.lists(_SEGMENT, max_size=3),
    st.one_of(st.none(), st.dictionaries(_SEGMENT, _SEGMENT, max_size=3)),
    st.one_of(st.none(), _SEGMENT),
)
def test_well_formed_urls_round_trip(
    scheme: str,
    labels: list[str],
    port: int | None,
    segments: list[str],
    query: dict[str, str] | None,
    fragment: str | None,
) -> None:
    host = ".".join(labels)
    raw_path = "".join("/" + urllib.parse.quote(segment, safe="") for segment in segments)
    raw_query = None if query is None else urllib.parse.urlencode(query)
    raw_fragment = None if fragment is None else urllib.parse.quote(fragment, safe="")
    text = f"{scheme}://{host}{'' if port is None else f':{port}'}{raw_path}"
    text += "" if raw_query is None else f"?{raw_query}"
    text += "" if raw_fragment is None else f"#{raw_fragment}"
    uri = _parsed(text)
    assert (uri.scheme, uri.host, uri.port) == (scheme, host, port)
    assert (uri.raw_path, uri.raw_query, uri.raw_fragment) == (raw_path, raw_query, raw_fragment)
    assert uri.path == "".join("/" + segment for segment in segments)
    assert uri.fragment == fragment
    if query is not None:
        assert uri.query_map() == {key: [value] for key, value in query.items()}
