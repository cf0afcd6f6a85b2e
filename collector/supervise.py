"""Supervision: no task of the collector dies silently, whatever it raises.

Every background task (sink runners, spool sync, the processor, the S3 uploader, the Kafka topic probe) is
started with ``supervise()``; work that must survive one failure (a sink's write, a heartbeat, a reload in a
thread, a metrics scrape) reports it with ``failure()``. Either way an unexpected exception is:

- logged at once as an error with its traceback, at most once per ``LOG_INTERVAL`` for the same task, kind
  of exception and place it was raised (a running total in each line, so a flood cannot flood the logs,
  while a new failure is never hidden behind an old one);
- counted in ``TASK_FAILURES`` (exported as ``divolte_task_failures_total{task}``);
- survived: ``supervise()`` starts the task's body again after a short backoff, and callers of
  ``failure()`` carry on (a sink runner keeps the batch and retries it).

What no task of ours awaits is handled by ``report_unobserved``, the event loop's exception handler.

Only ``asyncio.CancelledError`` (the collector stopping the task) ends a supervised task; an exception that is
not an ``Exception`` (``KeyboardInterrupt``, ``SystemExit``) is left to end the process, as it should.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import time
from collections.abc import Callable, Coroutine
from typing import Any

log = logging.getLogger(__name__)

LOG_INTERVAL = 10.0
"""Seconds between two log lines for the same task and kind of exception."""
RESTART_BACKOFF = (0.1, 5.0)
"""A supervised task that raised starts again after 0.1 s, doubling to 5 s while it keeps failing."""

TASK_FAILURES: collections.Counter[str] = collections.Counter()
"""Unexpected exceptions by task label, since the process started (all collectors of the process)."""
_last_logged: dict[tuple[str, str, str], float] = {}


def failure(task: str, exc: BaseException, what: str = "failed") -> None:
    """Count an unexpected exception of ``task`` and log it with its traceback (rate-limited)."""
    TASK_FAILURES[task] += 1
    key = (task, type(exc).__name__, _origin(exc))
    now = time.monotonic()
    if now - _last_logged.get(key, float("-inf")) < LOG_INTERVAL:
        return
    _last_logged[key] = now
    log.error(
        "Task '%s' %s with an unexpected %s: %s (%d unexpected failures of this task so far; it carries on).",
        task, what, type(exc).__name__, exc, TASK_FAILURES[task], exc_info=exc,
    )  # fmt: skip


def _origin(exc: BaseException) -> str:
    """Where the exception was raised (its innermost frame), or what the caller said if it was not raised."""
    trace = exc.__traceback__
    if trace is None:
        return str(exc)
    while trace.tb_next is not None:
        trace = trace.tb_next
    return f"{trace.tb_frame.f_code.co_filename}:{trace.tb_lineno}"


def supervise(task: str, body: Callable[[], Coroutine[Any, Any, None]]) -> asyncio.Task[None]:
    """Run ``body()`` as a task that is started again whenever it raises; it ends when ``body`` returns."""
    return asyncio.create_task(_supervised(task, body), name=task)


async def _supervised(task: str, body: Callable[[], Coroutine[Any, Any, None]]) -> None:
    delay, most = RESTART_BACKOFF
    while True:
        try:
            await body()
            return
        except Exception as exc:  # the point of supervision: anything a bug or a library raises
            failure(task, exc, f"stopped; starting it again in {delay:.1f} s")
        await asyncio.sleep(delay)
        delay = min(delay * 2, most)


def report_unobserved(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
    """The event loop's exception handler: a failure nobody awaited is still reported, and counted.

    A client library (aiokafka, grpc, httpx) can leave a connection's future holding an ``OSError`` that
    nobody awaits, when the call that made it was cancelled or timed out: a refused or reset connection, a TLS
    handshake the server refused. The library raised the same failure to the sink that called it, which
    reports it and keeps the records, so such a plain future (not a task: our work runs in tasks) is logged
    at INFO without a traceback. Anything else (a task, any other exception) is counted under ``unobserved``
    and goes to asyncio's default handler, which logs it as an error with its traceback.
    """
    exc = context.get("exception")
    future = context.get("future")
    if isinstance(exc, OSError) and isinstance(future, asyncio.Future) and not isinstance(future, asyncio.Task):
        log.info("A client library's connection failed with nobody waiting for it: %r (its sink reports it).", exc)
        return
    if exc is not None:
        TASK_FAILURES["unobserved"] += 1
    loop.default_exception_handler(context)
