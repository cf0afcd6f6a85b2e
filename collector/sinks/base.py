"""The sink contract: sinks take whole batches and say, by exception, whether a failure may pass.

A ``SinkRunner`` owns the queue in front of each sink and is the only caller of these methods, one call at
a time, so a sink never needs its own locking.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from collector.events import EncodedRecord


class Sink(Protocol):
    name: str

    async def start(self) -> None:
        """Acquire resources. Raise ``SinkError`` if the sink cannot start at all."""

    async def write_batch(self, records: Sequence[EncodedRecord]) -> None:
        """Take every record of the batch, or none: raise ``SinkError`` before taking any."""

    async def heartbeat(self) -> None:
        """Time-based work (sync after a duration, roll files); called at least once a second."""

    async def aclose(self) -> None:
        """Flush and release everything; called once, after the last ``write_batch``."""
