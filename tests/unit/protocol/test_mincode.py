"""The mincode decoder against Divolte's fixtures, divolte.js's encoder output, and hostile input."""

from __future__ import annotations

import json
import math
import time
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from collector.protocol.base36 import to_base36
from collector.protocol.mincode import MAX_DEPTH, MincodeError, decode
from collector.protocol.query import decode_query
from tests.paths import FIXTURES
from tests.vectors import load_json_with_comments, load_vectors

_SAMPLES = load_json_with_comments(FIXTURES / "mincode-samples.json")
_JS_CASES = load_vectors()["mincode_js_encoder"]["cases"]

# The JavaScript values of the mincode_js_encoder cases, as the JSON Divolte's server builds from them.
_JS_VALUES: dict[str, Any] = {
    "{foo:'hello', bar:42}": {"foo": "hello", "bar": 42},
    "[1,-37,53.2,-7.83e-9,1e21,255]": [1, -37, 53.2, -7.83e-9, 1e21, 255],
    "{}": {},
    "[]": [],
    "'x'": "x",
    "{foo:'hello',bar:42,baz:[1.5,true,null],q:'a~b!c',d:new Date(Date.UTC(2015,5,13,15,49,33,2))}": {
        "foo": "hello",
        "bar": 42,
        "baz": [1.5, True, None],
        "q": "a~b!c",
        "d": "2015-06-13T15:49:33.002Z",
    },
}

# What divolte.js sends for the custom event of Divolte's Selenium test page (static/strict/
# test-basic-page.html), written out by hand from the mincode rules; the server must decode it to the
# JSON in mincode_js_encoder.selenium_expected_json.
_SELENIUM_MINCODE = (
    "((a!)sb!c!sc!A string with lots of things to escape… ~!+~~?=;()-_[]<>%|^`&\"'!"
    "(d!aa!.sb!g!)ae!s1!s2!.df!16!jg!53.2!dh!-11!ji!-7.83e-9!tj!fk!nl!sm!2015-06-13T15:49:33.002Z!"
    "(n!)ao!()(sa!b!)(sc!d!).ap!nn(sa!b!)scustom!n().(q!))"
)


@pytest.mark.parametrize("sample", _SAMPLES, ids=lambda s: s["title"])
def test_divolte_fixtures(sample: dict[str, Any]) -> None:
    assert decode(sample["code"]) == sample["json"]


@pytest.mark.parametrize("case", [c for c in _JS_CASES if c["mincode"]], ids=lambda c: c["js"])
def test_divolte_js_encoder_output(case: dict[str, Any]) -> None:
    assert decode(case["mincode"]) == _JS_VALUES[case["js"]]


def test_undefined_parameters_arrive_as_text_that_is_not_mincode() -> None:
    case = next(c for c in _JS_CASES if c["mincode"] is None)
    assert "undefined" in case["note"]
    with pytest.raises(MincodeError, match="unknown record type 'u'"):
        decode("undefined")


def test_selenium_custom_event() -> None:
    expected = json.loads(load_vectors()["mincode_js_encoder"]["selenium_expected_json"]["server_side_json"])
    decoded = decode(_SELENIUM_MINCODE)
    assert decoded == expected
    assert list(decoded) == list(expected)  # property order is kept
    assert isinstance(decoded["f"], int)
    assert isinstance(decoded["i"], float)


def test_custom_event_through_the_query_decoder() -> None:
    query = next(c for c in load_vectors()["browser_checksum_js_generated"]["cases"] if c["name"] == "custom")
    raw = decode_query(query["query"].encode("ascii"))["u"][0]
    assert decode(raw) == _JS_VALUES[next(c["js"] for c in _JS_CASES if c["mincode"] == raw)]


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("tGARBAGE", True),
        ("sx!sy!", "x"),
        ("()trailing", {}),
        ("s~a~b!", "ab"),
        ("s~~~!!", "~!"),
        ("s!", ""),
        ("o", {}),
        ("(ofoo!)", {"foo": {}}),
        ("aoo.", [{}, {}]),
        ("(sa!1!sa!2!)", {"a": "2"}),
        ("(s~!~~!v!)", {"!~": "v"}),
        ("d+16!", 42),
        ("d-16!", -42),
        ("dZZ!", 1295),
        ("d" + "z" * 30 + "!", 36**30 - 1),
        ("j12!", 12),
        ("j-0!", 0),
        ("j1.!", 1),
        ("j1.5e1!", 15),
        ("j1.50e1!", 15.0),
        ("j1e0!", 1),
        ("j+7!", 7),
        ("j.5!", 0.5),
        ("j10.0!", 10.0),
        ("j1e21!", 1e21),
        ("j1E+21!", 1e21),
        ("j-7.83e-9!", -7.83e-9),
    ],
)
def test_records(code: str, expected: Any) -> None:
    value = decode(code)
    assert value == expected
    assert type(value) is type(expected)


def test_out_of_double_range_number_is_infinite() -> None:
    assert decode("j1e400!") == math.inf
    assert decode("j-1e400!") == -math.inf


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("", "unexpected end of input"),
        ("x", "unknown record type 'x'"),
        ("(xname!", "unknown record type 'x'"),
        ("sabc", "unterminated string"),
        ("sab~", "unterminated string"),
        ("sab~!", "unterminated string"),
        ("d!", "invalid integer"),
        ("d1_0!", "invalid integer"),
        ("d-!", "invalid integer"),
        ("d1.5!", "invalid integer"),
        ("j!", "invalid number"),
        ("j.!", "invalid number"),
        ("j1.2.3!", "invalid number"),
        ("jabc!", "invalid number"),
        ("j1e!", "invalid number"),
        ("jNaN!", "invalid number"),
        ("j1_0!", "invalid number"),
        ("j 1!", "invalid number"),
        ("j1e99999999999!", "out of range"),
        ("j1e" + "9" * 5000 + "!", "out of range"),
        (")", "end of object outside an object"),
        ("a)", "end of object outside an object"),
        (".", "end of array outside an array"),
        ("(.name!", "end of array outside an array"),
        ("(", "inside an object or array"),
        ("a", "inside an object or array"),
        ("(sa!b!", "inside an object or array"),
        ("(sa", "unterminated string"),
        ("at", "inside an object or array"),
    ],
)
def test_errors(code: str, message: str) -> None:
    with pytest.raises(MincodeError, match=message):
        decode(code)


def test_mincode_error_is_a_value_error() -> None:
    assert issubclass(MincodeError, ValueError)


def test_hostile_nesting_is_refused_without_recursion() -> None:
    with pytest.raises(MincodeError, match="nesting deeper"):
        decode("a" * 100_000)
    with pytest.raises(MincodeError, match="nesting deeper"):
        decode("(" + "(a!" * 100_000)
    with pytest.raises(MincodeError, match="nesting deeper"):
        decode("a" * (MAX_DEPTH + 1))
    deepest = decode("a" * MAX_DEPTH + "." * MAX_DEPTH)
    depth = 0
    while isinstance(deepest, list) and deepest:
        deepest = deepest[0]
        depth += 1
    assert depth == MAX_DEPTH - 1


def test_escape_heavy_strings_decode_in_linear_time() -> None:
    started = time.perf_counter()
    assert decode("s" + "~~" * 100_000 + "!") == "~" * 100_000
    assert decode("s" + "~!" * 100_000 + "!") == "!" * 100_000
    assert decode("d" + "1" * 10_000 + "!") == (36**10_000 - 1) // 35
    assert time.perf_counter() - started < 5.0


def _encode_string(text: str) -> str:
    return text.replace("~", "~~").replace("!", "~!") + "!"


def _encode(value: Any, name: str | None = None) -> str:
    """A test-side mincode encoder following divolte.js's rules (integers as ``d``, floats as ``j``)."""
    prefix = "" if name is None else _encode_string(name)
    if value is None:
        return "n" + prefix
    if value is True:
        return "t" + prefix
    if value is False:
        return "f" + prefix
    if isinstance(value, int):
        return "d" + prefix + _encode_string(to_base36(value))
    if isinstance(value, float):
        return "j" + prefix + _encode_string(repr(value))
    if isinstance(value, str):
        return "s" + prefix + _encode_string(value)
    if isinstance(value, list):
        return "a" + prefix + "".join(_encode(item) for item in value) + "."
    return "(" + prefix + "".join(_encode(item, key) for key, item in value.items()) + ")"


_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=10),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=5), children, max_size=4),
    max_leaves=20,
)


@settings(max_examples=200, deadline=None)
@given(_json_values)
def test_encoded_values_decode_back(value: Any) -> None:
    # Equal as JSON values; a float with no fractional digits left after its exponent (repr
    # "2.7791217575631436e+16") is an integer to Divolte's BigDecimal rule, and so it is here.
    assert decode(_encode(value)) == value


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.sampled_from("()a.o!~sdjtfn0z-+.e5"), max_size=40) | st.text(max_size=40))
def test_any_text_decodes_or_raises_mincode_error(text: str) -> None:
    try:
        value = decode(text)
    except MincodeError:
        return
    json.dumps(value)  # a JSON-like tree of dict/list/str/int/float/bool/None
