"""The short-term duplicate memory and the affinity hash, bit for bit against Divolte's vectors."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from collector.enrich.dedup import DEFAULT_SIZE, DuplicateMemory, memory_key
from collector.protocol.identifiers import affinity_hash, parse
from collector.protocol.query import decode_query
from tests.vectors import load_vectors

_VECTORS = load_vectors()["duplicate_memory"]


def _event_ids(name: str) -> tuple[str, str, str]:
    """Party, session (normalised) and event id of one of the vector queries."""
    params = decode_query(_VECTORS["queries"][name].encode("ascii"))
    party = parse(params["p"][0])
    session = parse(params["s"][0])
    assert party is not None
    assert session is not None
    return party.value, session.value, params["e"][0]


@pytest.mark.parametrize("name", sorted(_VECTORS["slots"]))
def test_slot_and_signature_match_guava(name: str) -> None:
    expected = _VECTORS["slots"][name]
    selector, signature = memory_key(*_event_ids(name))
    assert selector % 2 == expected["slot_mod_2"]
    assert selector % 1_000_000 == expected["slot_mod_1000000"]
    assert signature == expected["signature"]


@pytest.mark.parametrize("sequence", _VECTORS["sequences"], ids=lambda s: ",".join(s["requests"]))
def test_divolte_duplicate_sequences(sequence: dict[str, Any]) -> None:
    memory = DuplicateMemory(2)
    flags = [memory.is_duplicate(*_event_ids(name)) for name in sequence["requests"]]
    assert flags == sequence["expect_duplicate"]


def test_default_memory_remembers_and_forgets_nothing_it_should_not() -> None:
    memory = DuplicateMemory()
    assert memory.size == DEFAULT_SIZE == 1_000_000
    assert not memory.is_duplicate("0:16:p", "0:16:s", "e1")
    assert memory.is_duplicate("0:16:p", "0:16:s", "e1")
    assert memory.is_duplicate("0:16:p", "0:16:s", "e1")
    assert not memory.is_duplicate("0:16:p", "0:16:s", "e2")
    assert not memory.is_duplicate("0:16:q", "0:16:s", "e1")


def test_concatenation_has_no_separator() -> None:
    # As in Divolte: the three strings are hashed back to back, so shifting a character across a
    # boundary gives the same key.
    assert memory_key("ab", "c", "d") == memory_key("a", "bc", "d")


@pytest.mark.parametrize("size", [0, -1])
def test_size_must_be_positive(size: int) -> None:
    with pytest.raises(ValueError, match="at least 1"):
        DuplicateMemory(size)


def test_affinity_hash_vector() -> None:
    example = load_vectors()["affinity_hash"]["example"]
    assert affinity_hash(example["partyId"]) == example["value"]


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=20), st.text(max_size=20), st.text(max_size=20), st.integers(1, 50))
def test_an_event_seen_twice_in_a_row_is_a_duplicate(party: str, session: str, event: str, size: int) -> None:
    memory = DuplicateMemory(size)
    memory.is_duplicate(party, session, event)
    assert memory.is_duplicate(party, session, event)
    assert 0 <= affinity_hash(party) <= 0x7FFFFFFF
