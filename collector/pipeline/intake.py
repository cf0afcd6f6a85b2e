"""The bounded queue between the HTTP handlers and the batch processor.

``offer`` is called on the request path, so it never blocks and never awaits: when the queue is full the
request is dropped and counted (the client has already had its answer). The processor takes whole batches,
so its per-event overhead is paid once per batch.
"""

from __future__ import annotations

import asyncio
import collections
import logging
from collections.abc import Callable
from dataclasses import dataclass

from collector.events import CapturedRequest
from collector.ratelimit import RateLimitedLog

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class IntakeStatistics:
    queued: int
    capacity: int
    accepted: int
    dropped: int


class Intake:
    """A bounded FIFO of captured requests with a counted overflow."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._items: collections.deque[CapturedRequest] = collections.deque()
        self._ready = asyncio.Event()
        self._closed = False
        self.accepted = 0
        self.dropped = 0
        self._drop_log = RateLimitedLog(log, 10.0)
        self.on_overflow: Callable[[CapturedRequest, str], None] | None = None
        """Told of each request dropped here, with the reason (the inspector, when it is on)."""

    def offer(self, item: CapturedRequest) -> bool:
        items = self._items
        if len(items) >= self.capacity or self._closed:
            self.dropped += 1
            if self.on_overflow is not None:
                self.on_overflow(item, "intake_closed" if self._closed else "intake_full")
            self._drop_log.warning(
                "Intake queue full (%d events): dropping events (%d dropped so far). "
                "Raise divolte.global.mapper.buffer_size or add workers.",
                self.capacity, self.dropped,
            )  # fmt: skip
            return False
        items.append(item)
        self.accepted += 1
        if not self._ready.is_set():
            self._ready.set()
        return True

    async def take_batch(self, limit: int) -> list[CapturedRequest] | None:
        """Wait for at least one item and return up to ``limit``; None once closed and empty."""
        items = self._items
        while not items:
            if self._closed:
                return None
            self._ready.clear()
            await self._ready.wait()
        count = min(limit, len(items))
        return [items.popleft() for _ in range(count)]

    def close(self) -> None:
        """Refuse new items; ``take_batch`` drains what is queued and then returns None."""
        self._closed = True
        self._ready.set()

    def statistics(self) -> IntakeStatistics:
        return IntakeStatistics(len(self._items), self.capacity, self.accepted, self.dropped)
