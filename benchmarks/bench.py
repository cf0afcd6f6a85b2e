"""``make bench``: the collector's throughput and latency, side by side with nginx and an empty ASGI app.

    python -m benchmarks.bench            # full: 3 rounds × 30 s, alternating with the references (~7 min)
    python -m benchmarks.bench --quick    # smoke check: 1 round × 8 s (under 2 minutes)
    python -m benchmarks.bench --soak 5   # also 5 minutes at half the maximum rate: RSS at start and end
    python -m benchmarks.bench --kafka 127.0.0.1:9092   # also the collector → Kafka (`make kafka` runs a broker)
    python -m benchmarks.bench --compare "env PYTHONPATH=/tmp/base python -m collector.cli"   # A/B, same run
    python -m benchmarks.bench --processes 8              # the multi-process row with 8 workers (default 2)
    python -m benchmarks.bench --against http://127.0.0.1:8290 --against-published /data/published
                                                          # also load a running collector (Divolte or ours)

Method. A corpus of realistic, valid browser events (``benchmarks/corpus.py``) is replayed by wrk over
keep-alive connections; the server runs pinned to one core and wrk to another. Each round measures nginx
``empty_gif`` (the machine's limit), an empty raw ASGI app under uvicorn (the Python HTTP stack's limit) and
the collector with a file sink, in an order that rotates from round to round. For the collector the figure
is *delivered events/s*: the records counted in the published Avro files after a graceful stop, divided by
the time from wrk's first request to the last record written, so a backlog the collector builds up during
the load (and drains after it) counts against it. Any drop (intake, sink, malformed event, record missing
from the files) or HTTP error disqualifies a figure. Ratios are taken per round against the references
measured minutes apart, then the median over rounds. Then a fixed-rate load at half the collector's
maximum gives the latency users would see in normal operation.

The multi-process row (``--processes N``, default 2) runs the collector with N workers and nothing pinned
(wrk shares the cores with them); its CPU figure is the whole process tree's, per million delivered events,
so the cost of an event can be compared with the one-process row: it should not grow with N.
``--against URL`` loads a collector that is already running (see ``benchmarks/against.py``).

Results: a table on stdout and in ``benchmarks/results/<date>[-quick].txt``, the figures in a ``.json`` and
the plot in a ``.png`` of the same name.
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import os
import platform
import re
import shlex
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from benchmarks import corpus as corpus_module
from benchmarks.against import add_against_arguments, measure_against, processes_scaling
from benchmarks.load import delivered, run_wrk
from benchmarks.report import LABELS, Measurement, plot, ratios, summarise, table, write_json
from benchmarks.servers import (
    KAFKA_TOPIC,
    REPO,
    Running,
    collector_config,
    start_collector,
    start_empty_asgi,
    start_nginx,
)

RESULTS = REPO / "benchmarks" / "results"
WORK = REPO / "benchmarks" / "work"
_STOPPED = re.compile(r"Stopped: (\d+) events accepted, (\d+) processed, (\d+) dropped at intake, (\d+) incomplete")
_SINK_DROPPED = re.compile(r"queue full .*?\((\d+) dropped so far\)")
_SINK_LOST = re.compile(r"(\d+) records (?:lost|still queued|could not be written)")

_began = time.monotonic()


def say(message: str) -> None:
    elapsed = int(time.monotonic() - _began)
    print(f"[{elapsed // 60:2d}:{elapsed % 60:02d}] {message}", file=sys.stderr, flush=True)


# -- set-up ----------------------------------------------------------------------------------------------


def ensure_tools() -> None:
    """wrk and nginx come from the distribution: installed with apt-get when missing and we are root."""
    missing = [tool for tool, path in (("wrk", "wrk"), ("nginx", "nginx")) if not shutil.which(path)
               and not Path(f"/usr/sbin/{path}").exists()]  # fmt: skip
    if not missing:
        return
    if os.geteuid() == 0 and shutil.which("apt-get"):
        say(f"installing {', '.join(missing)} with apt-get …")
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
        subprocess.run(["apt-get", "install", "-y", "-qq", "--no-install-recommends", *missing], check=True, env=env)
        return
    sys.exit(f"bench needs {' and '.join(missing)}: run `sudo apt-get install {' '.join(missing)}` (Debian/Ubuntu)")


def cores() -> tuple[int | None, int | None, str]:
    """(server core, load-generator core, description): two different cores when the machine has them."""
    available = sorted(os.sched_getaffinity(0))
    if len(available) >= 2:
        return available[0], available[1], f"server on core {available[0]}, wrk on core {available[1]}"
    return None, None, "one core only: server and wrk share it (figures are not comparable to a 2-core run)"


def build_corpus(events: int, seed: int) -> tuple[Path, dict[str, int]]:
    """The corpus file, generated once per (size, seed, generator source) and cached under benchmarks/work."""
    here = Path(__file__).parent
    sources = b"".join((here / name).read_bytes() for name in ("corpus.py", "mincode.py", "useragents.py"))
    digest = hashlib.sha256(sources).hexdigest()[:10]
    path = WORK / f"corpus-{events}-{seed}-{digest}.tsv"
    stats_path = path.with_suffix(".stats")
    if path.exists() and stats_path.exists():
        stats = dict(item.split("=") for item in stats_path.read_text().split())
        return path, {k: int(v) for k, v in stats.items()}
    say(f"generating the corpus: {events:,} events …")
    WORK.mkdir(parents=True, exist_ok=True)
    for old in WORK.glob("corpus-*"):
        old.unlink()
    partial = path.with_suffix(".partial")
    stats = corpus_module.write_corpus(partial, events, seed=seed)
    partial.rename(path)
    stats_path.write_text(" ".join(f"{k}={v}" for k, v in stats.items()))
    return path, stats


def machine(server_core: int | None, load_core: int | None) -> dict[str, Any]:
    model = ""
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            break

    def git(*args: str) -> str:
        result = subprocess.run(["git", *args], cwd=REPO, capture_output=True, text=True, check=False)
        return result.stdout.strip()

    return {
        "cpu": model,
        "cores": os.cpu_count(),
        "cores_usable": len(os.sched_getaffinity(0)),
        "server_core": server_core,
        "load_core": load_core,
        "kernel": platform.release(),
        "python": platform.python_version(),
        "commit": git("rev-parse", "HEAD"),
        "tree_dirty": bool(git("status", "--porcelain", "--untracked-files=no", "--", "collector")),
        "load_average_start": os.getloadavg(),
    }


# -- measuring -------------------------------------------------------------------------------------------


class Run:
    """Settings shared by every measurement of one invocation."""

    def __init__(self, args: argparse.Namespace, corpus: Path, server_core: int | None, load_core: int | None):
        self.args = args
        self.corpus = corpus
        self.server_core = server_core
        self.load_core = load_core
        self.workdir = WORK / "run"
        shutil.rmtree(self.workdir, ignore_errors=True)
        self.workdir.mkdir(parents=True)

    def reference(self, target: str, round_number: int) -> Measurement:
        start = start_nginx if target == "nginx" else start_empty_asgi
        running = start(self.workdir, self.server_core)
        try:
            cpu_before = running.cpu_seconds()
            wrk = run_wrk(running.port, self.corpus, duration=self.args.duration, connections=self.args.connections,
                          core=self.load_core, progress=LABELS[target])  # fmt: skip
            cpu = running.cpu_seconds() - cpu_before
            peak = running.peak_rss_mib()
        finally:
            running.stop()
        return Measurement(
            target=target, round=round_number, requests_per_s=wrk.rate, latency_us=wrk.latency_us,
            wrk_errors=wrk.errors, cpu_s_per_million=cpu / max(wrk.requests, 1) * 1e6,
            core_share=cpu / wrk.duration_s, peak_rss_mib=peak,
        )  # fmt: skip

    def collector(
        self,
        round_number: int,
        *,
        kafka: str | None = None,
        duration: int | None = None,
        connections: int | None = None,
        delay_ms: int | None = None,
        sample_rss: bool = False,
        label: str = "collector",
        target: str = "collector",
        processes: int = 1,
    ) -> tuple[Measurement, list[tuple[float, float]]]:
        """Load the collector, stop it gracefully, and count what reached the sink."""
        config, published = collector_config(self.workdir, kafka)
        kafka_before = _kafka_end_offsets(kafka) if kafka else 0
        command = shlex.split(self.args.compare) if target == "collector-b" else None
        running = start_collector(
            self.workdir, self.server_core, config, name=target, command=command, processes=processes
        )
        load_core = self.load_core if processes == 1 else None  # several workers: nothing pinned
        rss_samples: list[tuple[float, float]] = []
        sampler = _RssSampler(running, rss_samples) if sample_rss else None
        try:
            cpu_before = running.cpu_seconds()
            if sampler:
                sampler.start()
            wrk = run_wrk(
                running.port, self.corpus, duration=duration or self.args.duration,
                connections=connections or self.args.connections, core=load_core, delay_ms=delay_ms,
                progress=label,
            )  # fmt: skip
            cpu_load = running.cpu_seconds() - cpu_before
        finally:
            if sampler:
                sampler.stop()
            exit_info = running.stop()
        log = running.log()
        stopped = _STOPPED.findall(log)  # one summary line per worker process
        if exit_info.returncode != 0 or len(stopped) != processes:
            raise RuntimeError(f"collector exited with {exit_info.returncode} without its summary:\n{log[-3000:]}")
        accepted, _processed, intake_dropped, incomplete = (sum(int(line[k]) for line in stopped) for k in range(4))
        sink_dropped = max((int(x) for x in _SINK_DROPPED.findall(log)), default=0)
        sink_dropped += sum(int(x) for x in _SINK_LOST.findall(log))
        problems = [line for line in log.splitlines() if " WARNING" in line or " ERROR" in line]
        if kafka:
            # Every record is acknowledged by the time the collector has exited (it flushes on the way out).
            records, last_write, corrupt = _kafka_end_offsets(kafka) - kafka_before, exit_info.exited_at, 0
        else:
            delivery = delivered(published)
            records, last_write, corrupt = delivery.records, delivery.last_write, delivery.corrupt_in_sample
        elapsed = max(last_write - wrk.started_at, 1e-9)
        cpu_total = exit_info.cpu_seconds - cpu_before
        measurement = Measurement(
            target=target, round=round_number, requests_per_s=wrk.rate, latency_us=wrk.latency_us,
            wrk_errors=wrk.errors, cpu_s_per_million=cpu_total / max(records, 1) * 1e6,
            core_share=cpu_load / wrk.duration_s, peak_rss_mib=exit_info.max_rss_mib,
            events_per_s=records / elapsed, delivered=records, accepted=accepted, intake_dropped=intake_dropped,
            incomplete=incomplete, sink_dropped=sink_dropped,
            missing=max(0, accepted - intake_dropped - incomplete - records),
            drain_s=max(0.0, last_write - wrk.ended_at), corrupt_in_sample=corrupt, problems=problems[:20],
        )  # fmt: skip
        return measurement, rss_samples


class _RssSampler:
    """Samples the collector's RSS every few seconds (the soak test)."""

    def __init__(self, running: Running, samples: list[tuple[float, float]], every: float = 5.0) -> None:
        self.running = running
        self.samples = samples
        self.every = every
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._began = 0.0

    def start(self) -> None:
        self._began = time.monotonic()
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            try:
                self.samples.append((time.monotonic() - self._began, self.running.rss_mib()))
            except OSError:
                return


def _kafka_end_offsets(bootstrap: str) -> int:
    """The sum of the benchmark topic's end offsets: the difference over a run is what the sink delivered."""
    import asyncio

    from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

    async def total() -> int:
        producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
        consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap)
        await producer.start()
        await consumer.start()
        try:
            numbers = await producer.partitions_for(KAFKA_TOPIC)  # fetches the topic's metadata
            ends = await consumer.end_offsets([TopicPartition(KAFKA_TOPIC, p) for p in numbers])
            return int(sum(ends.values()))
        finally:
            await consumer.stop()
            await producer.stop()

    return asyncio.run(total())


def _describe(m: Measurement) -> str:
    lat = m.latency_us
    text = f"{m.requests_per_s:,.0f} req/s, p50 {lat['p50'] / 1000:.2f} ms, p99 {lat['p99'] / 1000:.2f} ms"
    if m.events_per_s is not None:
        text += f"; delivered {m.delivered:,} = {m.events_per_s:,.0f} events/s, drops {m.drops}"
        text += f", drained {m.drain_s:.1f} s after the load"
    if m.wrk_errors:
        text += f"; {m.wrk_errors} HTTP errors"
    return text + f"; server core {m.core_share:.0%}"


# -- the run ---------------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="make bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="1 round of 8 s each: a smoke check under 2 minutes")
    parser.add_argument("--rounds", type=int, help="rounds alternating with the references (default 3; quick 1)")
    parser.add_argument("--duration", type=int, help="seconds of load per measurement (default 30; quick 8)")
    parser.add_argument("--connections", type=int, default=64, help="keep-alive connections (default 64)")
    parser.add_argument("--events", type=int, default=100_000, help="distinct events in the corpus")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--kafka", metavar="BOOTSTRAP", help="also measure the collector → Kafka on this broker")
    parser.add_argument("--soak", type=float, metavar="MINUTES", help="also run at half rate this long: RSS drift")
    parser.add_argument("--no-fixed-rate", action="store_true", help="skip the latency run at half the max rate")
    parser.add_argument("--only-collector", action="store_true", help="skip the references (profiling runs)")
    parser.add_argument("--compare", metavar="COMMAND", help="also measure another collector build (A/B), e.g. "
                        "'env PYTHONPATH=/tmp/baseline .venv/bin/python -m collector.cli'")  # fmt: skip
    parser.add_argument("--compare-label", default="collector B → file", help="its name in the table and plot")
    parser.add_argument("--out", type=Path, default=RESULTS, help="where the JSON and PNG go")
    parser.add_argument("--processes", type=int, default=2, metavar="N",
                        help="the multi-process row: the collector with N worker processes, unpinned (default 2; "
                             "1 leaves the row out)")  # fmt: skip
    add_against_arguments(parser)
    args = parser.parse_args(argv)
    LABELS["collector-b"] = args.compare_label
    args.rounds = args.rounds or (1 if args.quick else 3)
    args.duration = args.duration or (8 if args.quick else 30)
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    ensure_tools()
    server_core, load_core, pinning = cores()
    corpus, corpus_stats = build_corpus(args.events, args.seed)
    say(f"corpus: {', '.join(f'{k} {v:,}' for k, v in corpus_stats.items())}")
    say(f"{pinning}; {args.rounds} round(s) × {args.duration} s, {args.connections} connections")
    run = Run(args, corpus, server_core, load_core)
    info = machine(server_core, load_core)
    if info["load_average_start"][0] > 0.5:
        say(f"note: load average {info['load_average_start'][0]:.1f} before starting: the machine is not quiet")

    skipped: dict[str, str] = {}
    if not args.kafka:
        skipped["collector-kafka"] = "no broker given (`make kafka` in another shell, then --kafka 127.0.0.1:9092)"
    LABELS["collector-processes"] = f"collector × {args.processes} processes → file"
    rounds: list[Measurement] = []
    targets = ["collector"] if args.only_collector else ["nginx", "asgi", "collector"]
    if args.processes > 1:
        targets.append("collector-processes")
    if args.kafka:
        targets.append("collector-kafka")
    if args.compare:
        targets.append("collector-b")
    if args.against:
        LABELS["against"] = f"against {args.against}"
        targets.append("against")
    for round_number in range(1, args.rounds + 1):
        order = targets[round_number - 1 :] + targets[: round_number - 1]  # rotate: no target always first
        for target in order:
            say(f"round {round_number}/{args.rounds}: {LABELS[target]} …")
            if target in ("nginx", "asgi"):
                m = run.reference(target, round_number)
            elif target == "against":
                m = measure_against(args, corpus, run.load_core, round_number)
            elif target == "collector-processes":
                m, _ = run.collector(round_number, label=LABELS[target], target=target, processes=args.processes)
            else:
                kafka = args.kafka if target == "collector-kafka" else None
                m, _ = run.collector(round_number, kafka=kafka, label=LABELS[target], target=target)
            rounds.append(m)
            say(f"  {LABELS[target]}: {_describe(m)}")

    summary = summarise(rounds)
    fixed_rate: dict[str, Any] | None = None
    maximum = summary["collector"]["events_per_s"]
    delay_ms = 10
    half = maximum / 2
    connections = max(1, round(half * delay_ms / 1000))
    if not args.no_fixed_rate:
        say(f"fixed rate: half the maximum ≈ {half:,.0f} events/s ({connections} connections, one event each "
            f"per ~{delay_ms} ms) …")  # fmt: skip
        m, _ = run.collector(0, connections=connections, delay_ms=delay_ms, label="fixed rate")
        fixed_rate = {
            "target_per_s": half, "achieved_per_s": m.requests_per_s, "connections": connections,
            "p50_ms": m.latency_us["p50"] / 1000, "p90_ms": m.latency_us["p90"] / 1000,
            "p99_ms": m.latency_us["p99"] / 1000, "max_ms": m.latency_us["max"] / 1000,
            "drops": m.drops, "counts": m.counts, "measurement": m.to_json(),
        }  # fmt: skip
        say(f"  fixed rate: {_describe(m)}")
    soak: dict[str, Any] | None = None
    if args.soak:
        say(f"soak: {args.soak:g} min at ≈ {half:,.0f} events/s, RSS sampled every 5 s …")
        m, samples = run.collector(0, connections=connections, delay_ms=delay_ms, duration=int(args.soak * 60),
                                   sample_rss=True, label="soak")  # fmt: skip
        after_warmup = [rss for t, rss in samples if t >= 10] or [rss for _, rss in samples]
        soak = {
            "minutes": args.soak, "achieved_per_s": m.requests_per_s, "rss_start_mib": after_warmup[0],
            "rss_end_mib": after_warmup[-1], "rss_max_mib": max(after_warmup), "samples": samples,
            "p99_ms": m.latency_us["p99"] / 1000, "drops": m.drops, "counts": m.counts,
        }  # fmt: skip
        say(f"  soak: RSS {soak['rss_start_mib']:.1f} MiB at 10 s → {soak['rss_end_mib']:.1f} MiB at the end "
            f"(max {soak['rss_max_mib']:.1f}); {_describe(m)}")  # fmt: skip

    info["load_average_end"] = os.getloadavg()
    collector_ratios = ratios(rounds, "collector")
    stamp = datetime.datetime.now().strftime("%Y-%m-%d")
    stem = stamp + ("-quick" if args.quick else "")
    document = {
        "date": datetime.datetime.now().isoformat(timespec="seconds"),
        "mode": "quick" if args.quick else "full",
        "machine": info,
        "settings": {
            "rounds": args.rounds,
            "duration_s": args.duration,
            "connections": args.connections,
            "pinning": pinning,
            "wrk_threads": 1,
        },
        "corpus": corpus_stats,
        "summary": summary,
        "ratios": {"collector": collector_ratios},
        "fixed_rate": fixed_rate,
        "soak": soak,
        "skipped": skipped,
        "rounds": [m.to_json() for m in rounds],
    }
    for other in ("collector-kafka", "collector-b", "collector-processes"):
        if other in summary:
            document["ratios"][other] = ratios(rounds, other)
    scaling = processes_scaling(rounds)
    if scaling:
        document["ratios"]["processes_vs_one"] = scaling
    json_path = args.out / f"{stem}.json"
    write_json(json_path, document)
    dirty = " +changes" if info["tree_dirty"] else ""
    title = (f"divolte-collector (Python) {info['commit'][:10]}{dirty} · {info['cores']} cores ({info['cpu']}) · "
             f"{document['date']} · {args.rounds}×{args.duration} s")  # fmt: skip
    png_path = args.out / f"{stem}.png"
    plot(png_path, summary, fixed_rate, title)

    out = ["", table(summary, skipped), ""]
    for target in ("collector", "collector-kafka", "collector-b"):
        if document["ratios"].get(target):
            r = document["ratios"][target]
            nan = float("nan")
            out.append(f"{LABELS[target]}: delivered events/s = {r.get('asgi', nan):.2f} × empty ASGI, "
                       f"{r.get('nginx', nan):.3f} × nginx (median of per-round ratios); by CPU per event: "
                       f"{r.get('asgi_cpu', nan):.2f} × empty ASGI, {r.get('nginx_cpu', nan):.3f} × nginx")  # fmt: skip
    if scaling:
        out.append(f"{LABELS['collector-processes']}: delivered events/s = {scaling['events']:.2f} × collector → file "
                   f"(1 process), CPU s per million events = {scaling['cpu']:.2f} × (median of per-round ratios; "
                   "bar on a 2-core machine: ≥ 1.4 × and ≤ 1.1 ×)")  # fmt: skip
    if fixed_rate:
        out.append(
            f"fixed rate (half of max): {fixed_rate['achieved_per_s']:,.0f}/s achieved of "
            f"{fixed_rate['target_per_s']:,.0f}/s offered: p50 {fixed_rate['p50_ms']:.2f} ms, "
            f"p99 {fixed_rate['p99_ms']:.2f} ms, max {fixed_rate['max_ms']:.1f} ms, drops {fixed_rate['drops']}"
        )
    if soak:
        out.append(
            f"soak ({soak['minutes']:g} min): RSS {soak['rss_start_mib']:.1f} → {soak['rss_end_mib']:.1f} MiB "
            f"(max {soak['rss_max_mib']:.1f}), p99 {soak['p99_ms']:.2f} ms, drops {soak['drops']}"
        )
    out.append(f"machine: {info['cores']} cores, {info['cpu']}; commit {info['commit'][:10]}"
               f"{' (collector/ has uncommitted changes)' if info['tree_dirty'] else ''}; load average "
               f"{info['load_average_start'][0]:.1f} → {info['load_average_end'][0]:.1f}")  # fmt: skip
    text = "\n".join(out)
    print(text)
    args.out.joinpath(f"{stem}.txt").write_text(text.lstrip("\n") + "\n")
    shown = json_path.relative_to(REPO) if json_path.is_relative_to(REPO) else json_path
    print(f"wrote {shown}, {png_path.name} and {stem}.txt")
    problems = {p for m in rounds for p in m.problems}
    if problems:
        print("collector warnings:", *sorted(problems)[:10], sep="\n  ")
    return 0 if all(m.counts for m in rounds) else 1


if __name__ == "__main__":
    sys.exit(main())
