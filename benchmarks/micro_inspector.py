"""Micro-benchmark: what the inspector costs the batch path, and whether its memory stays flat.

Run from the repository root: ``python -m benchmarks.micro_inspector [--events N] [--total N]``. It builds
two collectors from the configuration ``make bench`` uses, one with the inspector off and one with it on
(``max_events = 1000``), and times ``Processor.process_batch`` over the same captured requests, alternating
off and on (best of several repeats each, the least noisy estimate on a shared machine): the ratio is the
inspector's cost per event. Then it feeds the inspecting collector ``--total`` events, rendering each as
the API would, and reports this process's resident memory once the ring is full and after each pass: with
a bounded ring it must not grow with the number of events (the collector's own caches fill on the first
passes). ``make bench`` measures the whole collector
(``--compare`` with ``--inspect`` for the A/B under HTTP load).
"""

from __future__ import annotations

import argparse
import functools
import gc
import tempfile
from pathlib import Path

from benchmarks.bench import build_corpus
from benchmarks.micro_pipeline import BATCH, best_us_per_item, captured
from benchmarks.servers import collector_config
from collector.app import Collector, _inspected_sources
from collector.config import load
from collector.events import CapturedRequest
from collector.inspect.render import render


def rss_mib() -> float:
    """This process's resident set size (``VmRSS``), MiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def batches(collector: Collector, requests: list[CapturedRequest]) -> None:
    processor = collector.processor
    for start in range(0, len(requests), BATCH):
        processor.process_batch(requests[start : start + BATCH])
    for runner in collector.topology.sinks.values():  # not started: empty their queues by hand
        runner._queue.clear()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=20_000, help="events per timed pass")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--total", type=int, default=100_000, help="events fed for the memory check")
    args = parser.parse_args()
    corpus, _ = build_corpus(100_000, 1)
    requests = captured(corpus, args.events)
    with tempfile.TemporaryDirectory() as tmp:
        config, _published = collector_config(Path(tmp))
        off = Collector(load(config))
        on = Collector(load(config, overrides={"divolte.global.inspector.enabled": True}))
        assert off.inspector is None and on.inspector is not None and on.inspector.max_events == 1000
        times: dict[str, float] = {"off": float("inf"), "on": float("inf")}
        for _ in range(args.repeat):  # alternate, so that a noisy moment hits both
            for name, collector in (("off", off), ("on", on)):
                taken = best_us_per_item(functools.partial(batches, collector, requests), len(requests), 1)
                times[name] = min(times[name], taken)
        print(f"events per pass: {len(requests):,} from {corpus.name}; best of {args.repeat}, alternating")
        print(f"process_batch, inspector off: {times['off']:6.2f} µs per event")
        ratio = times["on"] / times["off"]
        print(f"process_batch, inspector on:  {times['on']:6.2f} µs per event  (on/off = {ratio:.3f})")
        print("memory of a fresh collector with the inspector on (max_events = 1000), rendering what it keeps:")

        fresh = Collector(load(config, overrides={"divolte.global.inspector.enabled": True}))
        inspector = fresh.inspector
        assert inspector is not None
        sources = _inspected_sources(fresh.settings)
        fed = 0
        while fed < args.total:
            size = inspector.max_events if fed == 0 else len(requests)  # first fill the ring, then pass after pass
            chunk = requests[: min(size, args.total - fed)]
            batches(fresh, chunk)
            for inspection in inspector.recent():  # what the page and API do: each kept event rendered
                render(inspection, sources)
            fed += len(chunk)
            gc.collect()
            print(f"  RSS {rss_mib():.1f} MiB after {fed:,} events ({len(inspector.recent())} kept, rendered)")


if __name__ == "__main__":
    main()
