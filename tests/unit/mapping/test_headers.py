"""Header value splitting: Divolte's HeaderValueParser cases and the mapping vectors, quirks included."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from collector.mapping.headers import split_header_values
from tests.vectors import load_vectors

_PARSER_CASES = load_vectors()["header_value_parser"]["cases"]
_MAPPING_CASES = {case["name"]: case for case in load_vectors()["mapping"]["cases"]}
_REQUEST_HEADERS = load_vectors()["mapping"]["request_headers"]


def test_the_vectors_hold_all_but_one_of_divoltes_33_cases() -> None:
    # HeaderValueParserTest asserts 33 cases; the vector file lost its first one ("a,b,c"), tested below.
    assert len(_PARSER_CASES) == 32
    assert split_header_values(["a,b,c"]) == ["a", "b", "c"]


@pytest.mark.parametrize(("header", "expected"), _PARSER_CASES, ids=[repr(case[0]) for case in _PARSER_CASES])
def test_header_value_parser_vectors(header: str, expected: list[str]) -> None:
    assert split_header_values([header]) == expected


@pytest.mark.parametrize("name", ["headers", "header normalization"])
def test_mapping_header_vectors(name: str) -> None:
    case = _MAPPING_CASES[name]
    occurrences = _REQUEST_HEADERS[case["header"]]
    assert split_header_values(occurrences) == case["expect"]["list"]


def test_occurrences_keep_their_order_and_empty_ones_vanish() -> None:
    assert split_header_values(["b, a", "", " , ", "c"]) == ["b", "a", "c"]


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        # Once whitespace has been seen, every later part of the value is joined with a space.
        ('foo bar"baz"', ["foo bar baz"]),
        ('foo"bar"baz', ["foobarbaz"]),
        # An empty quoted string after whitespace still adds its separating space.
        ('a ""', ["a "]),
        ('"" a', [" a"]),
        # Escapes resolve to the escaped character, inside quotes only.
        (r'"a\,b",c', ["a,b", "c"]),
        (r"a\b", [r"a\b"]),
        # Only SP and HT are whitespace.
        ("a\nb, c\r", ["a\nb", "c\r"]),
    ],
)
def test_divolte_quirks(header: str, expected: list[str]) -> None:
    assert split_header_values([header]) == expected


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(alphabet=st.sampled_from(list('ab ,\t"\\x')), max_size=30), max_size=4))
def test_never_fails_and_never_yields_empty_values(occurrences: list[str]) -> None:
    values = split_header_values(occurrences)
    assert all(values)


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("ab ,\t")), max_size=30))
def test_without_quotes_it_is_split_strip_and_collapse(header: str) -> None:
    expected = [re.sub(r"[ \t]+", " ", part.strip(" \t")) for part in header.split(",")]
    assert split_header_values([header]) == [value for value in expected if value]
