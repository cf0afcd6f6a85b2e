"""µs per duplicate check: the process's own ``array('q')`` against a ``memoryview`` over shared memory.

    python -m benchmarks.micro_dedup

The multi-process collector keeps the duplicate memory in one shared segment (``SharedSlots``); this shows
what that costs per event against the single-process array, in the same run (best of 5 repeats).
"""

from __future__ import annotations

import timeit
from array import array

from collector.enrich.dedup import DuplicateMemory, Slots
from collector.enrich.shared_memory import SharedSlots

SIZE = 1_000_000
EVENTS = [(f"0:i1t84hgy:party{i}", "0:i1t84hgy:session", f"0:event{i}") for i in range(10_000)]


def per_check_us(memory: DuplicateMemory) -> float:
    check = memory.is_duplicate
    seconds = min(timeit.repeat(lambda: [check(*event) for event in EVENTS], number=10, repeat=5))
    return seconds / (10 * len(EVENTS)) * 1e6


def slot_access_ns(slots: Slots) -> float:
    """The part that differs: read a slot, compare, write it (the hash is the same for both)."""
    indexes = [(i * 7919) % SIZE for i in range(10_000)]

    def touch() -> None:
        for index in indexes:
            _ = slots[index] == 12345
            slots[index] = 12345

    return min(timeit.repeat(touch, number=50, repeat=5)) / (50 * len(indexes)) * 1e9


def main() -> None:
    shared = SharedSlots.create("micro-dedup", SIZE)
    try:
        for _ in range(2):  # interleaved, twice
            print(f"array('q')          {per_check_us(DuplicateMemory(SIZE)):.3f} µs per is_duplicate, "
                  f"{slot_access_ns(array('q', [0]) * SIZE):.0f} ns of it the slot")  # fmt: skip
            print(f"shared memoryview   {per_check_us(DuplicateMemory(SIZE, shared.slots)):.3f} µs per is_duplicate, "
                  f"{slot_access_ns(shared.slots):.0f} ns of it the slot")  # fmt: skip
    finally:
        shared.close()


if __name__ == "__main__":
    main()
