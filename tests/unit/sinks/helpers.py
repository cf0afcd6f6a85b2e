"""What the sink runner's tests share: a small numbered record, and waiting for a condition in the event loop."""

from __future__ import annotations

import asyncio

from collector.events import EncodedRecord


def record(n: int) -> EncodedRecord:
    return EncodedRecord(f"0:a:party{n % 5}", n, n.to_bytes(4, "big") * 10)


async def until(condition: object, timeout: float = 10.0) -> None:
    """Wait until ``condition()`` is true; fail the test when ``timeout`` seconds pass first."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():  # type: ignore[operator]
        assert loop.time() < deadline, "condition not met in time"
        await asyncio.sleep(0.01)
