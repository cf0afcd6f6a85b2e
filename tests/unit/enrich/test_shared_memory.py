"""Shared int64 slots: another process sees the same memory, and the duplicate memory works over them."""

from __future__ import annotations

import subprocess
import sys

import pytest
from hypothesis import given
from hypothesis import strategies as st

from collector.enrich.dedup import DuplicateMemory
from collector.enrich.shared_memory import SharedSlots

CHILD = """
import sys
from collector.enrich.shared_memory import SharedSlots
from collector.enrich.dedup import DuplicateMemory
shared = SharedSlots.attach(int(sys.argv[1]), 16)
print(shared.slots[3])
shared.slots[5] = -42
memory = DuplicateMemory(16, shared.slots)
print(memory.is_duplicate("0:a:party", "0:a:session", "event"))
"""


def test_a_child_process_reads_and_writes_the_same_slots() -> None:
    shared = SharedSlots.create("test", 16)
    try:
        shared.slots[3] = 2**63 - 1  # a whole 64-bit value crosses intact
        memory = DuplicateMemory(16, shared.slots)
        assert not memory.is_duplicate("0:a:party", "0:a:session", "event")
        result = subprocess.run([sys.executable, "-c", CHILD, str(shared.fd)], pass_fds=[shared.fd],
                                capture_output=True, text=True, check=True)  # fmt: skip
        assert result.stdout.split() == [str(2**63 - 1), "True"]  # the child saw this process's event
        assert shared.slots[5] == -42
    finally:
        shared.close()


@given(st.lists(st.tuples(st.sampled_from("abc"), st.sampled_from("xy"), st.text(max_size=3)), max_size=60))
def test_shared_slots_answer_as_a_private_array_does(events: list[tuple[str, str, str]]) -> None:
    shared = SharedSlots.create("test", 7)
    try:
        private, over_shared = DuplicateMemory(7), DuplicateMemory(7, shared.slots)
        for event in events:
            assert private.is_duplicate(*event) == over_shared.is_duplicate(*event)
    finally:
        shared.close()


def test_sizes_must_agree() -> None:
    shared = SharedSlots.create("test", 8)
    try:
        with pytest.raises(ValueError, match="8 slots"):
            DuplicateMemory(10, shared.slots)
        with pytest.raises(ValueError, match="fewer than 100 slots"):
            SharedSlots.attach(shared.fd, 100)
    finally:
        shared.close()
