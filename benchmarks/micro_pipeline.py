"""Micro-benchmark: µs per event of the batch path (parse → dedup → map → encode → offer), no HTTP.

Run from the repository root: ``python -m benchmarks.micro_pipeline [--events N]``. It builds the
collector's real components from the same configuration ``make bench`` uses, turns the corpus into
captured requests, and times ``Processor.process_batch`` over it (best of several repeats: the minimum is
the least noisy estimate on a shared machine), then each stage on its own. Use it for before/after figures
of batch-path optimisations; ``make bench`` for the whole collector.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks.bench import build_corpus
from benchmarks.servers import collector_config
from collector.app import Collector
from collector.avro.encode import RecordEncoder
from collector.config import load
from collector.events import CapturedRequest
from collector.protocol.browser_event import parse_browser_event

BATCH = 256


def captured(corpus: Path, count: int) -> list[CapturedRequest]:
    """The corpus's requests as the pixel endpoint would capture them (peer 127.0.0.1, like the bench)."""
    out = []
    with corpus.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines):
            if number >= count:
                break
            target, *header_lines = line.rstrip("\n").split("\t")
            headers = tuple(
                (name.lower().encode(), value.encode("latin-1", "replace"))
                for name, value in (h.split(": ", 1) for h in header_lines)
            )
            query = target.split("?", 1)[1].encode("ascii")
            out.append(CapturedRequest("browser", query, headers, "127.0.0.1", 1_735_000_000_000 + number))
    return out


def best_us_per_item(func: Callable[[], Any], items: int, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        began = time.perf_counter()
        func()
        best = min(best, time.perf_counter() - began)
    return best / items * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=50_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    corpus, _ = build_corpus(100_000, 1)
    requests = captured(corpus, args.events)
    with tempfile.TemporaryDirectory() as tmp:
        config, _published = collector_config(Path(tmp))
        collector = Collector(load(config))
        processor = collector.processor
        runners = list(collector.topology.sinks.values())

        def whole_path() -> None:
            for start in range(0, len(requests), BATCH):
                processor.process_batch(requests[start : start + BATCH])
            for runner in runners:  # the sink runners are not started: empty their queues by hand
                runner._queue.clear()

        whole = best_us_per_item(whole_path, len(requests), args.repeat)
        events = [parse_browser_event(r, use_x_forwarded_for=True) for r in requests]
        route = collector.topology.routes["browser"][0]
        mapping = route.mapping
        encoder = RecordEncoder(mapping.schema)  # what map_encoded does for a mapping other than the default
        records = [mapping.map(e) for e in events]

        def each(func: Callable[[Any], Any], items: list[Any]) -> Callable[[], None]:
            def run() -> None:  # results are dropped at once, as in the pipeline (keeping them costs GC time)
                for item in items:
                    func(item)

            return run

        parse = best_us_per_item(each(lambda r: parse_browser_event(r, use_x_forwarded_for=True), requests),
                                 len(requests), args.repeat)  # fmt: skip
        map_only = best_us_per_item(each(mapping.map, events), len(events), args.repeat)
        encode = best_us_per_item(each(encoder.encode, records), len(records), args.repeat)
        mapped = best_us_per_item(each(route.map_encoded, events), len(events), args.repeat)
        print(f"events: {len(requests):,} from {corpus.name}")
        print(f"whole batch path (process_batch):  {whole:6.2f} µs per event")
        print(f"  parse_browser_event:             {parse:6.2f} µs")
        print(f"  mapping.map (record dict):       {map_only:6.2f} µs")
        print(f"  encoder.encode (fastavro):       {encode:6.2f} µs")
        print(f"  mapping.map_encoded (pipeline):  {mapped:6.2f} µs")


if __name__ == "__main__":
    main()
