"""The benchmark corpus's mincode encoder (a port of divolte.js's) against the ``mincode_js_encoder`` vectors."""

from __future__ import annotations

import datetime
from typing import Any

import pytest

from benchmarks.mincode import UNDEFINED, js_number_to_string, js_to_exponential, mincode
from collector.protocol.mincode import decode
from tests.vectors import load_vectors

_JS_CASES = load_vectors()["mincode_js_encoder"]["cases"]

# The JavaScript source of each vector, as the Python value the encoder takes.
_VALUES: dict[str, Any] = {
    "{foo:'hello', bar:42}": {"foo": "hello", "bar": 42},
    "[1,-37,53.2,-7.83e-9,1e21,255]": [1, -37, 53.2, -7.83e-9, 1e21, 255],
    "{}": {},
    "[]": [],
    "'x'": "x",
    "undefined": UNDEFINED,
    "{foo:'hello',bar:42,baz:[1.5,true,null],q:'a~b!c',d:new Date(Date.UTC(2015,5,13,15,49,33,2))}": {
        "foo": "hello",
        "bar": 42,
        "baz": [1.5, True, None],
        "q": "a~b!c",
        "d": datetime.datetime(2015, 6, 13, 15, 49, 33, 2000, tzinfo=datetime.UTC),
    },
}


@pytest.mark.parametrize("case", _JS_CASES, ids=[c["js"] for c in _JS_CASES])
def test_encoder_matches_divolte_js(case: dict[str, Any]) -> None:
    assert mincode(_VALUES[case["js"]]) == case["mincode"]


@pytest.mark.parametrize(
    ("value", "plain", "exponential"),
    [
        (53.2, "53.2", "5.32e+1"),
        (-7.83e-9, "-7.83e-9", "-7.83e-9"),
        (1e21, "1e+21", "1e+21"),
        (1e20, "100000000000000000000", "1e+20"),
        (0.000001, "0.000001", "1e-6"),
        (1e-7, "1e-7", "1e-7"),
        (123456.789, "123456.789", "1.23456789e+5"),
    ],
)
def test_javascript_number_formatting(value: float, plain: str, exponential: str) -> None:
    assert js_number_to_string(value) == plain
    assert js_to_exponential(value) == exponential


def test_round_trips_through_the_collector_decoder() -> None:
    value = {"2": "b", "10": "c", "sku": "A-1!~", "price": 12.5, "n": [1, -1, 1e100, None, False], "o": {}}
    encoded = mincode(value)
    assert encoded is not None
    assert encoded.startswith("(s2!b!s10!c!")  # integer-like keys first, ascending, as Object.keys
    assert decode(encoded) == {"2": "b", "10": "c", "sku": "A-1!~", "price": 12.5,
                               "n": [1, -1, 1e100, None, False], "o": {}}  # fmt: skip
