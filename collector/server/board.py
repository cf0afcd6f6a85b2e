"""The status board of a collector's worker processes: a few shared slots per worker, no messages, no locks.

Each worker writes its own "ready until" deadline a few times a second; the supervisor writes each
worker's pid and restart count. Anyone reads any slot. A slot has one writer, so there is no race to lose;
a reader sees a slightly old value at worst, which is why readiness is a deadline (``time.monotonic_ns``,
one clock for every process of the machine) rather than a flag: a worker that hangs or dies stops renewing
it, and within ``READY_FOR`` every other worker's ``/ready`` answers 503.
"""

from __future__ import annotations

import time

from collector.enrich.shared_memory import SharedSlots

READY_FOR = 1.0
"""Seconds a worker's "ready" stays true without being renewed (it renews it every ``RENEW_EVERY``)."""
RENEW_EVERY = 0.2

_READY_UNTIL, _PID, _RESTARTS, _FIELDS = 0, 1, 2, 4


class Board:
    """Per-worker status in shared memory (see the module docstring)."""

    def __init__(self, shared: SharedSlots, workers: int) -> None:
        self.shared = shared
        self.workers = workers
        self._slots = shared.slots

    @classmethod
    def create(cls, workers: int) -> Board:
        return cls(SharedSlots.create("divolte-workers", workers * _FIELDS), workers)

    @classmethod
    def attach(cls, fd: int, workers: int) -> Board:
        return cls(SharedSlots.attach(fd, workers * _FIELDS), workers)

    def renew(self, index: int, ready: bool) -> None:
        """Worker ``index`` says whether it is ready (for the next ``READY_FOR`` seconds)."""
        self._slots[index * _FIELDS + _READY_UNTIL] = time.monotonic_ns() + int(READY_FOR * 1e9) if ready else 0

    def mark_down(self, index: int) -> None:
        """The supervisor saw worker ``index`` exit: not ready from now on."""
        self._slots[index * _FIELDS + _READY_UNTIL] = 0

    def is_ready(self, index: int) -> bool:
        return self._slots[index * _FIELDS + _READY_UNTIL] > time.monotonic_ns()

    def ready_count(self) -> int:
        return sum(self.is_ready(index) for index in range(self.workers))

    def set_pid(self, index: int, pid: int) -> None:
        self._slots[index * _FIELDS + _PID] = pid

    def pid(self, index: int) -> int:
        return self._slots[index * _FIELDS + _PID]

    def count_restart(self, index: int) -> None:
        self._slots[index * _FIELDS + _RESTARTS] += 1

    def restarts(self, index: int) -> int:
        return self._slots[index * _FIELDS + _RESTARTS]
