"""A pytest plugin: a test during which asyncio reports an exception nobody retrieved fails.

asyncio's default exception handler logs "Task exception was never retrieved" (or "Future exception ...")
on the ``asyncio`` logger when a task that raised is garbage-collected unobserved: the sign of a task that
died silently. Every test is watched (``tests/conftest.py`` loads this plugin); what surfaces only at the final
garbage collection fails the session.
"""

from __future__ import annotations

import gc
import logging
from collections.abc import Iterator

import pytest

MARK = "exception was never retrieved"


class _Unretrieved(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if MARK in record.getMessage():
            text = record.getMessage()
            if record.exc_info and record.exc_info[1] is not None:
                text += f": {record.exc_info[1]!r}"
            self.messages.append(text)


_handler = _Unretrieved()
logging.getLogger("asyncio").addHandler(_handler)


@pytest.fixture(autouse=True)
def _no_task_dies_silently() -> Iterator[None]:
    _handler.messages.clear()
    yield
    if _handler.messages:
        found, _handler.messages[:] = list(_handler.messages), []
        pytest.fail(f"asyncio reported an unobserved exception (a task died silently): {found}", pytrace=False)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    gc.collect()
    if _handler.messages:
        print(f"\nasyncio reported unobserved exceptions after the last test: {_handler.messages}")
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
