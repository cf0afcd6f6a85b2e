"""Micro-benchmark: µs per decode of a typical Divolte query, our decoder against ``urllib.parse.parse_qs``.

Run from the repository root: ``python benchmarks/micro_query.py``. The query is the ``good`` case of
``browser_checksum`` in ``tests/data/test-vectors.json`` (what divolte.js sends for a page view). Absolute
numbers depend on the machine; compare the two lines of one run.
"""

from __future__ import annotations

import sys
import timeit
import urllib.parse
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from collector.protocol.query import decode_query
from tests.vectors import browser_query


def _good_query() -> bytes:
    """Return the ``good`` query of ``browser_checksum`` from the test vectors."""
    return browser_query("browser_checksum", "good").encode("ascii")


def _per_call_us(func: object, arg: object, number: int = 20_000, repeat: int = 7) -> float:
    """Best-of-``repeat`` time of one call, in µs (the minimum is the least noisy estimate)."""
    timer = timeit.Timer(lambda: func(arg))  # type: ignore[operator]
    return min(timer.repeat(repeat=repeat, number=number)) / number * 1e6


def main() -> None:
    query = _good_query()
    text = query.decode("ascii")
    ours = _per_call_us(decode_query, query)
    stdlib = _per_call_us(lambda q: urllib.parse.parse_qs(q, keep_blank_values=True), text)
    print(f"collector.protocol.query.decode_query: {ours:6.2f} µs per decode")
    print(f"urllib.parse.parse_qs (str input):     {stdlib:6.2f} µs per decode")
    print(f"ratio: {stdlib / ours:.2f}x")


if __name__ == "__main__":
    main()
