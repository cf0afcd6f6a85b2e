"""Signed 64-bit slots in one memory segment that several processes map: created once, inherited by fd.

The supervisor creates a segment (``SharedSlots.create``) before it starts its workers and hands its file
descriptor to each of them (``pass_fds``); a worker maps it with ``SharedSlots.attach``. Every process
then reads and writes the same physical pages, with no lock and no system call per access.

The segment is an anonymous ``memfd`` (Linux), or an unlinked temporary file where there is none: it has
no name in ``/dev/shm`` that could leak after a ``kill -9``, and the kernel frees it when the last process
holding it exits.

Atomicity. Each slot is 8 bytes at an 8-byte-aligned offset (``mmap`` returns page-aligned memory), and
a ``memoryview`` cast to ``'q'`` reads and writes a slot with one aligned 64-bit load or store. Aligned
8-byte loads and stores are single-copy atomic on x86-64 and on AArch64 (ARMv8), the platforms we support,
so a reader sees either the old or the new value of a slot, never half of each. There is no compare-and-swap:
"read, compare, write" by two processes may interleave, which is what the users of this module accept
(see ``collector.enrich.dedup`` for what a race means there).
"""

from __future__ import annotations

import mmap
import os
import tempfile

SLOT_BYTES = 8


class SharedSlots:
    """``count`` int64 slots in a shared segment; ``slots`` is the ``memoryview`` to index."""

    __slots__ = ("_map", "count", "fd", "slots")

    def __init__(self, fd: int, count: int) -> None:
        if count < 1:
            raise ValueError(f"a shared segment needs at least one slot, got {count}")
        self.fd = fd
        self.count = count
        self._map = mmap.mmap(fd, count * SLOT_BYTES, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE)
        self.slots = memoryview(self._map).cast("q")

    @classmethod
    def create(cls, name: str, count: int) -> SharedSlots:
        """A new zero-filled segment. Its fd is not inheritable; pass it to children with ``pass_fds``."""
        if hasattr(os, "memfd_create"):
            fd = os.memfd_create(name, os.MFD_CLOEXEC)
        else:  # pragma: no cover - macOS and other systems without memfd
            handle = tempfile.TemporaryFile(prefix=f"{name}-")  # noqa: SIM115 - the fd outlives the object
            fd = os.dup(handle.fileno())
            handle.close()
        try:
            os.ftruncate(fd, count * SLOT_BYTES)
            return cls(fd, count)
        except BaseException:
            os.close(fd)
            raise

    @classmethod
    def attach(cls, fd: int, count: int) -> SharedSlots:
        """Map a segment this process inherited; its size must hold ``count`` slots."""
        size = os.fstat(fd).st_size
        if size < count * SLOT_BYTES:
            raise ValueError(f"shared segment on fd {fd} holds {size} bytes, fewer than {count} slots")
        return cls(fd, count)

    def close(self) -> None:
        """Unmap and close the fd (views handed out must have been released)."""
        self.slots.release()
        self._map.close()
        os.close(self.fd)
