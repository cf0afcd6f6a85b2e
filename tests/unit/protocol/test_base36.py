"""Base-36 parsing and rendering with Java's ``Long``/``Integer``/``BigInteger`` rules."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from collector.protocol.base36 import (
    INT_MAX,
    INT_MIN,
    LONG_MAX,
    LONG_MIN,
    parse_bigint36,
    parse_int36,
    parse_long36,
    to_base36,
)
from tests.vectors import load_vectors

_ASCII_NUMBER = re.compile(r"[+-]?[0-9a-zA-Z]+")


def test_examples_from_the_vectors() -> None:
    for param, expected in load_vectors()["base36_params"]["examples"].items():
        raw = param.split(" ")[0].split("=", 1)[1]
        parse = parse_long36 if param.startswith("c=") else parse_int36
        assert parse(raw) == expected, param


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("16", 42),
        ("+16", 42),
        ("-16", -42),
        ("I1T8Q2B6", 1414499908146),
        ("i1T8q2B6", 1414499908146),
        ("0000000000000000000000016", 42),
        ("1y2p0ij32e8e7", LONG_MAX),
        ("-1y2p0ij32e8e8", LONG_MIN),
        ("1y2p0ij32e8e8", None),
        ("-1y2p0ij32e8e9", None),
        ("zzzzzzzzzzzzz", None),
        ("", None),
        ("+", None),
        ("-", None),
        ("++1", None),
        ("+-1", None),
        ("1-", None),
        ("1_6", None),
        (" 16", None),
        ("16 ", None),
        ("1.i", None),
        ("0x10", 42804),
    ],
)
def test_parse_long36_follows_java(text: str, expected: int | None) -> None:
    assert parse_long36(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("zik0zj", INT_MAX),
        ("-zik0zk", INT_MIN),
        ("zik0zk", None),
        ("-zik0zl", None),
        ("1ak", 1676),
        ("1.i", None),
        ("", None),
    ],
)
def test_parse_int36_follows_java(text: str, expected: int | None) -> None:
    assert parse_int36(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("١٦", 42),  # Arabic-Indic digits: Character.digit accepts every BMP decimal digit
        ("\uff11\uff16", 42),  # full-width digits
        ("\uff21", 10),  # full-width 'A'
        ("\uff5a", 35),  # full-width 'z'
        ("-\uff11\uff16", -42),
        ("\U0001d7cf", None),  # a digit outside the BMP is a surrogate pair to Java: rejected
        ("²", None),  # a superscript is a digit to str.isdigit() but not to Character.digit
        ("1\u00a0", None),
    ],
)
def test_non_ascii_digits_follow_character_digit(text: str, expected: int | None) -> None:
    assert parse_long36(text) == expected


def test_bigint_has_no_size_limit() -> None:
    assert parse_bigint36("z" * 10_000) == 36**10_000 - 1
    assert parse_bigint36("-" + "1" + "0" * 5000) == -(36**5000)
    assert parse_long36("z" * 10_000) is None
    assert parse_long36("0" * 10_000 + "16") == 42


@pytest.mark.parametrize(
    ("n", "text"),
    [(0, "0"), (42, "16"), (-42, "-16"), (1414499908146, "i1t8q2b6"), (LONG_MIN, "-1y2p0ij32e8e8")],
)
def test_to_base36_matches_long_to_string(n: int, text: str) -> None:
    assert to_base36(n) == text


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=LONG_MIN, max_value=LONG_MAX))
def test_round_trip_of_every_long(n: int) -> None:
    text = to_base36(n)
    assert text == text.lower()
    assert parse_long36(text) == n
    assert parse_long36(text.upper()) == n


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.sampled_from("0123456789abcxyzXYZ+-_ .\t"), max_size=20))
def test_ascii_input_matches_a_reference_reading_of_java(text: str) -> None:
    if _ASCII_NUMBER.fullmatch(text):
        value = int(text, 36)
        expected_long = value if LONG_MIN <= value <= LONG_MAX else None
        expected_int = value if INT_MIN <= value <= INT_MAX else None
    else:
        expected_long = expected_int = None
    assert parse_long36(text) == expected_long
    assert parse_int36(text) == expected_int


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=30))
def test_any_text_gives_a_value_in_range_or_none(text: str) -> None:
    value = parse_long36(text)
    assert value is None or LONG_MIN <= value <= LONG_MAX
    small = parse_int36(text)
    assert small is None or (INT_MIN <= small <= INT_MAX and small == value)
