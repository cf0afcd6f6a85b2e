"""Merging the workers' scrapes: counters and histograms summed, gauges per worker, readiness the minimum."""

from __future__ import annotations

from prometheus_client import generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.registry import CollectorRegistry

from collector.server.fleet_metrics import merge


def worker(accepted: float, depth: float, ready: float, buckets: list[tuple[str, float]]) -> list[Metric]:
    requests = CounterMetricFamily("divolte_http_requests", "Requests.", labels=["endpoint", "status"])
    requests.add_metric(["/csc-event", "200"], accepted)
    queue = GaugeMetricFamily("divolte_queue_depth", "Items waiting.", labels=["queue"])
    queue.add_metric(["intake"], depth)
    latency = HistogramMetricFamily("divolte_batch_duration_seconds", "Batch time.")
    latency.add_metric([], buckets, sum_value=1.5)
    return [requests, queue, GaugeMetricFamily("divolte_ready", "Ready.", value=ready), latency]


def registry_of(families: list[Metric]) -> CollectorRegistry:
    class Fixed:
        def collect(self) -> list[Metric]:
            return families

    registry = CollectorRegistry(auto_describe=False)
    registry.register(Fixed())  # type: ignore[arg-type]
    return registry


def scraped(families: list[Metric]) -> list[Metric]:
    """Families as another worker's scrape delivers them: text, parsed back."""
    return list(text_string_to_metric_families(generate_latest(registry_of(families)).decode()))


def test_merge_rules() -> None:
    zero = worker(10, 3, 1, [("0.01", 2), ("+Inf", 4)])  # this worker's own registry
    one = scraped(worker(5, 7, 0, [("0.01", 1), ("+Inf", 1)]))
    merged = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in scraped(merge({0: zero, 1: one}))
        for s in family.samples
    }
    assert merged[("divolte_http_requests_total", (("endpoint", "/csc-event"), ("status", "200")))] == 15
    assert merged[("divolte_queue_depth", (("queue", "intake"), ("worker", "0")))] == 3
    assert merged[("divolte_queue_depth", (("queue", "intake"), ("worker", "1")))] == 7
    assert ("divolte_queue_depth", (("queue", "intake"),)) not in merged  # no meaningless sum
    assert merged[("divolte_ready", ())] == 0  # one worker not ready: the collector is not
    assert merged[("divolte_batch_duration_seconds_bucket", (("le", "0.01"),))] == 3
    assert merged[("divolte_batch_duration_seconds_count", ())] == 5
    assert merged[("divolte_batch_duration_seconds_sum", ())] == 3.0
