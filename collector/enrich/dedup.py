"""Remember recent events to flag exact repeats (``duplicate()``), the way Divolte's memory does.

Browsers, proxies and the tracker's own queue sometimes deliver one event twice. Divolte keeps a fixed
table of 64-bit signatures indexed by a hash of (party, session, event id): an event whose slot already
holds its signature is a duplicate; either way the slot then holds it. It forgets old events as new ones
take their slots, so it costs a fixed 8 bytes per slot and never grows.

The hash, slot and signature match Divolte bit for bit (Guava ``murmur3_128`` fed with the UTF-16 code
units of the three strings), so a memory that saw the same events answers the same way. As in Divolte the
memory is per mapper thread, chosen by party. With several worker processes the slots live in one segment
that every worker maps (``collector.enrich.shared_memory``), so a retry that reaches another worker over
another connection is still caught.

Races between processes: a slot is one aligned 8-byte word, read and written with single atomic loads and
stores (x86-64, AArch64), so a slot always holds some event's whole signature. Two workers checking events
of the same slot at the same instant can interleave "read, compare, write": the outcome is what a slightly
different arrival order would have given, a repeat that is missed or an event flagged as a repeat of one
that just lost its slot. Both need two events hashed to one slot within microseconds; Divolte's memory has
the same loss by design (a slot forgets its event when another takes it). No lock is ever taken.
"""

from __future__ import annotations

from array import array
from typing import Protocol

import mmh3

DEFAULT_SIZE = 1_000_000
"""Divolte's ``duplicate_memory_size`` default: 1,000,000 slots, 8 MB."""


def memory_key(party_id: str, session_id: str, event_id: str) -> tuple[int, int]:
    """Return ``(slot selector, signature)`` for an event, as Divolte's ``ShortTermDuplicateMemory``.

    The slot is ``selector % size``; the selector is already masked to be non-negative. Guava's
    ``HashCode.asBytes()`` is h1 then h2, each little-endian: the same 16 bytes mmh3 returns. Divolte reads
    the slot from bytes 0–3 and the signature from bytes 8–15, both big-endian.
    """
    data = (party_id + session_id + event_id).encode("utf-16-le", "surrogatepass")
    digest = mmh3.mmh3_x64_128_digest(data, 0)
    selector = int.from_bytes(digest[0:4], "big") & 0x7FFFFFFF
    signature = int.from_bytes(digest[8:16], "big", signed=True)
    return selector, signature


class Slots(Protocol):
    """int64 slots: an ``array('q')`` of this process, or a ``memoryview`` cast to ``'q'`` over shared memory."""

    def __getitem__(self, index: int, /) -> int: ...
    def __setitem__(self, index: int, value: int, /) -> None: ...
    def __len__(self) -> int: ...


class DuplicateMemory:
    """A fixed-size table of event signatures that answers "seen this event recently?"."""

    __slots__ = ("_size", "_slots")

    def __init__(self, size: int = DEFAULT_SIZE, slots: Slots | None = None) -> None:
        """A memory of ``size`` slots; ``slots`` (shared memory, exactly ``size`` long) instead of our own."""
        if size < 1:
            raise ValueError(f"duplicate memory size must be at least 1, got {size}")
        if slots is not None and len(slots) != size:
            raise ValueError(f"duplicate memory of {size} slots given {len(slots)} slots to use")
        self._size = size
        # array('q') stores raw int64s: 8 bytes per slot (a list would cost 8 bytes per pointer plus the
        # ints), and multiplying a one-element array fills a million slots in about a millisecond.
        self._slots: Slots = array("q", [0]) * size if slots is None else slots

    @property
    def size(self) -> int:
        """Number of slots."""
        return self._size

    def is_duplicate(self, party_id: str, session_id: str, event_id: str) -> bool:
        """Return whether this event's signature is in its slot, then store it there.

        Pass the normalised identifier values (``DivolteIdentifier.value``), as Divolte hashes those.
        Like Divolte, an event whose signature happens to be 0 reads as a duplicate of the empty slot.
        """
        selector, signature = memory_key(party_id, session_id, event_id)
        slot = selector % self._size
        seen = self._slots[slot] == signature
        self._slots[slot] = signature
        return seen
