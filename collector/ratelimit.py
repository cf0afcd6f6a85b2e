"""A logger wrapper that emits a repeated message at most once per interval, so floods cannot flood logs."""

from __future__ import annotations

import logging
import time
from typing import Any


class RateLimitedLog:
    """Logs at most once every ``interval`` seconds; the caller's message should carry running totals."""

    __slots__ = ("_interval", "_last", "_logger")

    def __init__(self, logger: logging.Logger, interval: float) -> None:
        self._logger = logger
        self._interval = interval
        self._last = float("-inf")

    def _ready(self) -> bool:
        now = time.monotonic()
        if now - self._last < self._interval:
            return False
        self._last = now
        return True

    def warning(self, msg: str, *args: Any) -> None:
        if self._ready():
            self._logger.warning(msg, *args)

    def error(self, msg: str, *args: Any) -> None:
        if self._ready():
            self._logger.error(msg, *args)

    def info(self, msg: str, *args: Any) -> None:
        if self._ready():
            self._logger.info(msg, *args)
