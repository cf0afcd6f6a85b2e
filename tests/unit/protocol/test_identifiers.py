"""Divolte identifiers: Java-compatible parsing, normalisation and generation."""

from __future__ import annotations

import re
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from collector.protocol.base36 import LONG_MAX, LONG_MIN
from collector.protocol.identifiers import DivolteIdentifier, generate, normalise, parse
from tests.vectors import load_vectors


@pytest.mark.parametrize("case", load_vectors()["divolte_identifier"]["cases"], ids=lambda c: c["in"])
def test_vectors(case: dict[str, Any]) -> None:
    parsed = parse(case["in"])
    if not case["valid"]:
        assert parsed is None
        return
    assert parsed is not None
    assert parsed.timestamp == case["timestamp"]
    assert parsed.value == case["value"]


def test_value_is_rendered_from_the_parts() -> None:
    assert DivolteIdentifier(42, "abc").value == "0:16:abc"
    assert DivolteIdentifier(-42, "").value == "0:-16:"


def test_generated_identifier_looks_like_divoltes() -> None:
    first = generate(1414498901362)
    second = generate(1414498901362)
    assert first.timestamp == 1414498901362
    assert re.fullmatch(r"[A-Za-z0-9_-]{32}", first.id)
    assert first.id != second.id
    assert first.value.startswith("0:i1t84hgy:")
    assert parse(first.value) == first


def test_identifier_is_immutable() -> None:
    identifier = DivolteIdentifier(42, "x")
    with pytest.raises(AttributeError):
        identifier.id = "y"  # type: ignore[misc]


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=LONG_MIN, max_value=LONG_MAX), st.text().filter(lambda s: ":" not in s))
def test_rendered_identifiers_parse_back(timestamp: int, identifier_id: str) -> None:
    identifier = DivolteIdentifier(timestamp, identifier_id)
    assert parse(identifier.value) == identifier


@settings(max_examples=200, deadline=None)
@given(
    st.one_of(
        st.text(max_size=40),
        st.builds(lambda a, b: f"0:{a}:{b}", st.text(max_size=15), st.text(max_size=10)),
    )
)
def test_any_text_parses_to_a_normalised_identifier_or_none(text: str) -> None:
    parsed = parse(text)
    if parsed is None:
        return
    assert text.count(":") == 2
    assert parse(parsed.value) == parsed
    assert parse(parsed.value).value == parsed.value  # type: ignore[union-attr]


@pytest.mark.parametrize("case", load_vectors()["divolte_identifier"]["cases"], ids=lambda c: c["in"])
def test_normalise_vectors(case: dict[str, Any]) -> None:
    assert normalise(case["in"]) == (case["value"] if case["valid"] else None)


@pytest.mark.parametrize(
    "text", ["0:0:x", "0:-0:x", "0:00:x", "0:-016:x", "0:+0:x", "0:Ab:x", "0:١٦:x", "0:-1y2p0ij32e8e8:x"]
)
def test_normalise_agrees_with_parse_on_edge_spellings(text: str) -> None:
    parsed = parse(text)
    assert parsed is not None
    assert normalise(text) == parsed.value


@settings(max_examples=200, deadline=None)
@given(
    st.builds(
        lambda sign, digits, rest: f"0:{sign}{digits}:{rest}",
        st.sampled_from(["", "-", "+"]),
        st.text(alphabet=st.sampled_from("00019azAZ١"), min_size=1, max_size=14),
        st.text(max_size=5),
    )
)
def test_normalise_is_parse_value(text: str) -> None:
    parsed = parse(text)
    assert normalise(text) == (None if parsed is None else parsed.value)
