"""Counters the components keep for metrics: plain integers, cheap on the hot path, read at scrape time."""

from __future__ import annotations

import bisect

LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class LatencyHistogram:
    """A lock-free histogram for one event loop: ``observe`` appends to bucket counts, scraping reads them."""

    __slots__ = ("buckets", "count", "counts", "total")

    def __init__(self, buckets: tuple[float, ...] = LATENCY_BUCKETS) -> None:
        self.buckets = buckets
        self.counts = [0] * (len(buckets) + 1)
        self.count = 0
        self.total = 0.0

    def observe(self, seconds: float) -> None:
        self.counts[bisect.bisect_left(self.buckets, seconds)] += 1
        self.count += 1
        self.total += seconds

    def cumulative(self) -> list[tuple[str, float]]:
        out, running = [], 0
        for bound, count in zip(self.buckets, self.counts, strict=False):
            running += count
            out.append((repr(bound), float(running)))
        out.append(("+Inf", float(self.count)))
        return out


class HttpCounts:
    """Responses by endpoint and status, counted by the endpoints themselves (a dict increment)."""

    __slots__ = ("counts",)

    def __init__(self) -> None:
        self.counts: dict[tuple[str, int], int] = {}

    def add(self, endpoint: str, status: int) -> None:
        key = (endpoint, status)
        self.counts[key] = self.counts.get(key, 0) + 1


REFUSAL_REASONS = ("url_too_long", "too_many_headers", "headers_too_large", "header_timeout", "malformed_request")
"""Why the HTTP protocol refused a request (``server/protocol.py``); every reason is exported, zero or not."""


class RefusalCounts:
    """Requests the HTTP protocol refused before the application saw them, by reason (``REFUSAL_REASONS``).

    One per running collector, handed to every connection's protocol, so the counts are the collector's
    (several collectors in one process, as in the tests, keep their own)."""

    __slots__ = ("counts",)

    def __init__(self) -> None:
        self.counts: dict[str, int] = dict.fromkeys(REFUSAL_REASONS, 0)

    def add(self, reason: str) -> None:
        self.counts[reason] = self.counts.get(reason, 0) + 1
