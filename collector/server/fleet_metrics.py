"""One ``/metrics`` for a collector of several worker processes: each worker's series, gathered and merged.

Each worker keeps its statistics in its own memory, as a single process does, and answers on a private
Unix socket (``<runtime dir>/worker-<i>.sock``) with its scrape in Prometheus' text format. The worker that
receives ``GET /metrics`` reads its own registry directly, the others' over their sockets, and merges:

- counters and histograms are summed over the workers (``events_accepted_total`` is the collector's);
- gauges are labelled ``worker="<i>"``, because their sum is wrong or meaningless (a queue's depth is per
  worker, as are cache sizes and process memory), except ``divolte_ready``, which is the minimum: 1 only
  when ``/ready`` answers 200;
- ``divolte_workers{state}`` (configured, ready, scraped) and ``divolte_worker_restarts_total{worker}``
  come from the supervisor's status board.

Prometheus' multiprocess mode was not used: it needs every metric to be a ``prometheus_client`` object
writing to mmap files on each increment, while our components keep plain integers and are read at scrape
time (``collector.metrics``). A worker that is restarting is missing from a scrape for about a second
(``divolte_workers{state="scraped"}`` says so), and its counters start again from zero as a restarted
single process's do.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.registry import CollectorRegistry

from collector.server.board import Board

SCRAPE_TIMEOUT = 2.0
"""Seconds to wait for one worker's scrape; a worker that misses it is left out of that scrape."""
MINIMUM_GAUGES = frozenset({"divolte_ready"})


def socket_path(runtime_dir: Path, index: int) -> Path:
    return runtime_dir / f"worker-{index}.sock"


def scrape_worker(path: Path) -> str | None:
    """One worker's metrics text, or None when it does not answer (not started yet, restarting)."""
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(SCRAPE_TIMEOUT)
            sock.connect(str(path))
            chunks = []
            while chunk := sock.recv(65536):
                chunks.append(chunk)
    except OSError:
        return None
    return b"".join(chunks).decode("utf-8")


def merge(per_worker: dict[int, list[Metric]]) -> list[Metric]:
    """The families of several workers as one collector's (rules in the module docstring)."""
    merged: dict[str, Metric] = {}
    sums: dict[str, dict[tuple[str, tuple[tuple[str, str], ...]], float]] = {}
    for worker, families in sorted(per_worker.items()):
        for family in families:
            target = merged.get(family.name)
            if target is None:
                target = merged[family.name] = Metric(family.name, family.documentation, family.type, family.unit)
                sums[family.name] = {}
            if family.type == "gauge" and family.name not in MINIMUM_GAUGES:
                for sample in family.samples:
                    target.add_sample(sample.name, {**sample.labels, "worker": str(worker)}, sample.value)
                continue
            values = sums[family.name]
            minimum = family.name in MINIMUM_GAUGES
            for sample in family.samples:
                key = (sample.name, tuple(sorted(sample.labels.items())))
                if key not in values:
                    values[key] = sample.value
                else:
                    values[key] = min(values[key], sample.value) if minimum else values[key] + sample.value
    for name, values in sums.items():
        for (sample_name, labels), value in values.items():
            merged[name].add_sample(sample_name, dict(labels), value)
    return list(merged.values())


class FleetMetrics:
    """A ``prometheus_client`` collector over every worker: this one's registry plus the others' sockets."""

    def __init__(self, index: int, own: CollectorRegistry, board: Board, runtime_dir: Path) -> None:
        self.index = index
        self.own = own
        self.board = board
        self.runtime_dir = runtime_dir

    def describe(self) -> list[Metric]:
        return []

    def collect(self) -> Iterator[Metric]:
        per_worker: dict[int, list[Metric]] = {self.index: list(self.own.collect())}
        for index in range(self.board.workers):
            if index != self.index and (text := scrape_worker(socket_path(self.runtime_dir, index))) is not None:
                per_worker[index] = list(text_string_to_metric_families(text))
        yield from merge(per_worker)
        workers = GaugeMetricFamily("divolte_workers", "Worker processes, by state.", labels=["state"])
        workers.add_metric(["configured"], self.board.workers)
        workers.add_metric(["ready"], self.board.ready_count())
        workers.add_metric(["scraped"], len(per_worker))
        yield workers
        restarts = CounterMetricFamily(
            "divolte_worker_restarts", "Worker processes restarted after they died.", labels=["worker"]
        )
        for index in range(self.board.workers):
            restarts.add_metric([str(index)], self.board.restarts(index))
        yield restarts


def fleet_registry(metrics: FleetMetrics) -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(metrics)
    return registry
