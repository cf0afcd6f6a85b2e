"""The browser checksum: canonical string, murmur3 and the corrupt flag, against Divolte's vectors."""

from __future__ import annotations

import urllib.parse
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from collector.protocol.base36 import to_base36
from collector.protocol.checksum import canonical_string, is_checksum_correct, murmur3_32_signed
from collector.protocol.query import decode_query
from tests.vectors import load_vectors

_CHECKSUM_CASES = [c for c in load_vectors()["browser_checksum"]["cases"] if "query" in c]
_JS_CASES = load_vectors()["browser_checksum_js_generated"]["cases"]


def _checksum(params: dict[str, list[str]]) -> str:
    return to_base36(murmur3_32_signed(canonical_string(params).encode("utf-8")))


@pytest.mark.parametrize("case", _CHECKSUM_CASES, ids=lambda c: c["name"])
def test_divolte_request_checksum_cases(case: dict[str, Any]) -> None:
    params = decode_query(case["query"].encode("ascii"))
    if "canonical_string" in case:
        assert canonical_string(params) == case["canonical_string"]
    if "expected_x" in case:
        assert _checksum(params) == case["expected_x"]
    assert is_checksum_correct(params) is not case["expect_corrupt"]


@pytest.mark.parametrize("case", _JS_CASES, ids=lambda c: c["name"])
def test_what_divolte_js_sends_is_correct(case: dict[str, Any]) -> None:
    params = decode_query(case["query"].encode("ascii"))
    assert canonical_string(params) == case["canonical_string"]
    assert _checksum(params) == case["x_correct_murmur3_utf8"] == case["x_sent_by_divolte_js"]
    assert is_checksum_correct(params)


# Guava 29's murmur3_32().hashString(s, UTF_8), bug included, for the documentation test below: it walks
# the UTF-16 string and, for a surrogate pair, ORs the 4 UTF-8 bytes into its buffer but forgets to
# advance the shift by 32 bits.
_M32 = 0xFFFFFFFF


def _rotl(x: int, r: int) -> int:
    return ((x << r) | (x >> (32 - r))) & _M32


def _mix_k1(k: int) -> int:
    return (_rotl((k * 0xCC9E2D51) & _M32, 15) * 0x1B873593) & _M32


def _mix_h1(h: int, k: int) -> int:
    return (_rotl(h ^ k, 13) * 5 + 0xE6546B64) & _M32


def _guava29_murmur3_32(text: str) -> int:
    h = buffer = shift = length = 0
    for ch in text:  # per code point; the 4-ASCII fast path of Guava gives the same result
        encoded = int.from_bytes(ch.encode("utf-8"), "little")
        buffer |= encoded << shift
        size = len(ch.encode("utf-8"))
        length += size
        if size < 4:
            shift += 8 * size  # the bug: a 4-byte sequence leaves shift where it was
        if shift >= 32:
            h = _mix_h1(h, _mix_k1(buffer & _M32))
            buffer >>= 32
            shift -= 32
    h ^= _mix_k1(buffer & _M32)
    h ^= length
    h ^= h >> 16
    h = (h * 0x85EBCA6B) & _M32
    h ^= h >> 13
    h = (h * 0xC2B2AE35) & _M32
    h ^= h >> 16
    return h - (1 << 32) if h >= 1 << 31 else h


@pytest.mark.parametrize("case", _JS_CASES, ids=lambda c: c["name"])
def test_guava_emulation_reproduces_divoltes_server_values(case: dict[str, Any]) -> None:
    assert to_base36(_guava29_murmur3_32(case["canonical_string"])) == case["x_divolte_server_guava29"]


def test_emoji_event_divolte_flags_corrupt_is_accepted_here() -> None:
    """Deliberate difference: Divolte's Guava bug marks this correct emoji event corrupt; we do not."""
    case = next(c for c in _JS_CASES if c["name"] == "emoji")
    params = decode_query(case["query"].encode("ascii"))
    divolte_server = to_base36(_guava29_murmur3_32(canonical_string(params)))
    assert case["divolte_flags_corrupt"] is True
    assert divolte_server != case["x_sent_by_divolte_js"]  # what Divolte computed: corrupt there
    assert is_checksum_correct(params)  # what we compute: the real murmur3 over UTF-8 matches


def test_keys_sort_in_java_utf16_order() -> None:
    # Code-point order puts U+FFFD before U+1F600; UTF-16 order (Java) puts the surrogate 0xD83D first.
    params = {"\ufffd": ["b"], "\U0001f600": ["a"], "a": ["c"], "B": ["d"]}
    assert canonical_string(params) == "B=d,;a=c,;\U0001f600=a,;\ufffd=b,;"


def test_canonical_string_keeps_every_value_in_order_and_skips_x() -> None:
    params = {"t": ["b", "a"], "x": ["1", "2"], "e": [""], "zz": ["1"]}
    assert canonical_string(params) == "e=,;t=b,a,;zz=1,;"


@pytest.mark.parametrize("spelling", ["SI9804", "%2Bsi9804", "000si9804", "si9804"])
def test_checksum_is_compared_as_a_number(spelling: str) -> None:
    case = next(c for c in _CHECKSUM_CASES if c["name"] == "good")
    query = case["query"].replace("x=si9804", f"x={spelling}")
    assert is_checksum_correct(decode_query(query.encode("ascii")))


def test_first_x_value_is_the_checksum() -> None:
    case = next(c for c in _CHECKSUM_CASES if c["name"] == "good")
    params = decode_query((case["query"] + "&x=junk").encode("ascii"))
    assert is_checksum_correct(params)
    params = decode_query(case["query"].replace("x=si9804", "x=junk&x=si9804").encode("ascii"))
    assert not is_checksum_correct(params)


def test_murmur3_32_signed() -> None:
    assert murmur3_32_signed(b"") == 0
    assert murmur3_32_signed(b"", seed=1) == 1364076727
    assert murmur3_32_signed(b"hello") == 613153351
    assert murmur3_32_signed(b"The quick brown fox jumps over the lazy dog") == 776992547


_values = st.text(max_size=10)


def _encode_uri_component(text: str) -> str:
    """JavaScript's ``encodeURIComponent``: everything but ``A-Za-z0-9-_.!~*'()`` is percent-encoded."""
    return urllib.parse.quote(text, safe="-_.!~*'()")


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.text(max_size=4).filter(lambda k: k != "x"), st.lists(_values, min_size=1, max_size=3)))
def test_a_checksum_computed_like_divolte_js_validates(params: dict[str, list[str]]) -> None:
    # divolte.js: checksum over the unencoded values, appended as x, each pair sent encodeURIComponent-ed.
    sent = {**params, "x": [_checksum(params)]}
    pairs = [(k, v) for k, values in sent.items() for v in values]
    query = "&".join(f"{_encode_uri_component(k)}={_encode_uri_component(v)}" for k, v in pairs)
    decoded = decode_query(query.encode("ascii"))
    assert decoded == sent
    assert is_checksum_correct(decoded)


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.text(max_size=4), st.lists(_values, min_size=1, max_size=3), max_size=5))
def test_any_params_give_a_bool(params: dict[str, list[str]]) -> None:
    assert isinstance(is_checksum_correct(params), bool)
    text = canonical_string(params)
    assert text.count(";") >= len([k for k in params if k != "x"])
