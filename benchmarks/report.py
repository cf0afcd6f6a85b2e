"""Summaries of a benchmark run: medians over rounds, ratios to the references, the table, JSON and the plot."""

from __future__ import annotations

import json
import statistics
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

LABELS = {
    "nginx": "nginx empty_gif",
    "asgi": "uvicorn empty ASGI",
    "collector": "collector → file",
    "collector-kafka": "collector → Kafka",
    "collector-b": "collector B → file",
}


@dataclass(slots=True)
class Measurement:
    """One target under one load, as measured."""

    target: str
    round: int
    requests_per_s: float
    latency_us: dict[str, float]
    wrk_errors: int
    cpu_s_per_million: float
    """Server CPU (user + system, all threads) per million requests, or per million delivered events."""
    core_share: float
    """Server CPU seconds per wall second under load: ~1.0 when it had its core to itself and was saturated."""
    peak_rss_mib: float
    events_per_s: float | None = None
    """Collector only: records counted in the sink, divided by the time from the first request to the last
    record written."""
    delivered: int | None = None
    accepted: int | None = None
    intake_dropped: int | None = None
    incomplete: int | None = None
    sink_dropped: int | None = None
    missing: int | None = None
    """Accepted events neither delivered nor counted as dropped: must be 0."""
    drain_s: float | None = None
    """From the end of the load to the last record written: the backlog the collector had built up."""
    corrupt_in_sample: int | None = None
    problems: list[str] = field(default_factory=list)

    @property
    def drops(self) -> int | None:
        if self.delivered is None:
            return None
        return sum(x or 0 for x in (self.intake_dropped, self.incomplete, self.sink_dropped, self.missing))

    @property
    def counts(self) -> bool:
        """Whether the figure may be quoted: no errors, no drops, nothing corrupt."""
        return self.wrk_errors == 0 and not self.drops and not self.corrupt_in_sample

    def throughput(self) -> float:
        """Delivered events/s for the collector, requests/s for a reference."""
        return self.events_per_s if self.events_per_s is not None else self.requests_per_s

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "drops": self.drops, "counts": self.counts}


def _median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def summarise(rounds: list[Measurement]) -> dict[str, dict[str, Any]]:
    """Per target: the median of every figure over its rounds (and the spread of the throughput)."""
    out: dict[str, dict[str, Any]] = {}
    for target in dict.fromkeys(m.target for m in rounds):
        ms = [m for m in rounds if m.target == target]
        summary: dict[str, Any] = {
            "rounds": len(ms),
            "requests_per_s": _median([m.requests_per_s for m in ms]),
            "throughput_min": min(m.throughput() for m in ms),
            "throughput_max": max(m.throughput() for m in ms),
            "p50_ms": _median([m.latency_us["p50"] / 1000 for m in ms]),
            "p99_ms": _median([m.latency_us["p99"] / 1000 for m in ms]),
            "max_ms": _median([m.latency_us["max"] / 1000 for m in ms]),
            "cpu_s_per_million": _median([m.cpu_s_per_million for m in ms]),
            "core_share": _median([m.core_share for m in ms]),
            "peak_rss_mib": max(m.peak_rss_mib for m in ms),
            "all_count": all(m.counts for m in ms),
        }
        if ms[0].events_per_s is not None:
            summary["events_per_s"] = _median([m.events_per_s or 0.0 for m in ms])
            summary["drops"] = sum(m.drops or 0 for m in ms)
            summary["drain_s"] = _median([m.drain_s or 0.0 for m in ms])
        out[target] = summary
    return out


def ratios(rounds: list[Measurement], target: str) -> dict[str, float]:
    """Median over rounds of ``target``'s delivered events/s divided by each reference's req/s that round.

    Also ``<reference>_cpu``: the reference's CPU per request divided by ``target``'s CPU per delivered
    event. On a quiet machine it matches the throughput ratio; on a shared one, where the server does not
    get its whole core, it is the steadier estimate of the same thing.
    """
    out: dict[str, float] = {}
    for reference in ("asgi", "nginx"):
        per_round = []
        per_round_cpu = []
        for m in rounds:
            if m.target != target or m.events_per_s is None:
                continue
            ref = [r for r in rounds if r.target == reference and r.round == m.round]
            if ref:
                per_round.append(m.events_per_s / ref[0].requests_per_s)
                per_round_cpu.append(ref[0].cpu_s_per_million / m.cpu_s_per_million)
        if per_round:
            out[reference] = _median(per_round)
            out[f"{reference}_cpu"] = _median(per_round_cpu)
    return out


def _fmt(value: float | None, spec: str = ",.0f") -> str:
    return "—" if value is None else format(value, spec)


def table(summary: dict[str, dict[str, Any]], skipped: dict[str, str]) -> str:
    head = (f"{'target':<30}{'req/s':>10}{'events/s':>10}{'drops':>7}{'p50 ms':>8}{'p99 ms':>8}{'max ms':>8}"
            f"{'CPU s/M':>9}{'core':>6}{'RSS MiB':>9}")  # fmt: skip
    lines = [head, "-" * len(head)]
    for target, s in summary.items():
        flag = "" if s["all_count"] else "  (does not count: errors or drops)"
        lines.append(
            f"{LABELS.get(target, target):<30}{_fmt(s['requests_per_s']):>10}{_fmt(s.get('events_per_s')):>10}"
            f"{_fmt(s.get('drops'), 'd'):>7}{s['p50_ms']:>8.2f}{s['p99_ms']:>8.2f}{s['max_ms']:>8.1f}"
            f"{s['cpu_s_per_million']:>9.1f}{s['core_share']:>6.0%}{s['peak_rss_mib']:>9.0f}{flag}"
        )
    for target, reason in skipped.items():
        lines.append(f"{LABELS.get(target, target):<30}skipped: {reason}")
    return "\n".join(lines)


def write_json(path: Path, document: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=2, sort_keys=False) + "\n")


def plot(path: Path, summary: dict[str, dict[str, Any]], fixed_rate: dict[str, Any] | None, title: str) -> None:
    """Throughput (left) and latency (right), side by side, as a PNG."""
    import matplotlib
    import matplotlib.ticker

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    targets = list(summary)
    names = [LABELS.get(t, t) for t in targets]
    figure, (left, right) = plt.subplots(1, 2, figsize=(13, 5))
    values = [summary[t].get("events_per_s", summary[t]["requests_per_s"]) for t in targets]
    low = [v - summary[t]["throughput_min"] for v, t in zip(values, targets, strict=True)]
    high = [summary[t]["throughput_max"] - v for v, t in zip(values, targets, strict=True)]
    colours = ["#999999" if t in ("nginx", "asgi") else "#1f77b4" for t in targets]
    bars = left.bar(names, values, yerr=[low, high], capsize=4, color=colours)
    for bar, value in zip(bars, values, strict=True):
        left.annotate(f"{value:,.0f}", (bar.get_x() + bar.get_width() / 2, bar.get_height()),
                      ha="center", va="bottom", fontsize=9, xytext=(0, 3), textcoords="offset points")  # fmt: skip
    left.set_ylabel("requests/s (references) · delivered events/s (collector)")
    left.set_title("Throughput, one server core (median, min–max over rounds)")
    left.tick_params(axis="x", labelrotation=15)

    groups = [*names]
    p50 = [summary[t]["p50_ms"] for t in targets]
    p99 = [summary[t]["p99_ms"] for t in targets]
    if fixed_rate:
        groups.append(f"collector @ {fixed_rate['achieved_per_s']:,.0f}/s\n(half of max)")
        p50.append(fixed_rate["p50_ms"])
        p99.append(fixed_rate["p99_ms"])
    x = range(len(groups))
    right.bar([i - 0.2 for i in x], p50, width=0.4, label="p50")
    right.bar([i + 0.2 for i in x], p99, width=0.4, label="p99")
    right.set_xticks(list(x), groups, rotation=15)
    right.set_yscale("log")
    right.yaxis.set_major_formatter(matplotlib.ticker.FormatStrFormatter("%g"))
    right.yaxis.set_minor_formatter(matplotlib.ticker.FormatStrFormatter("%g"))
    right.set_ylabel("latency, ms (log scale)")
    right.set_title("Latency at full load, and at a fixed half rate")
    right.legend()
    figure.suptitle(title, fontsize=10)
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)
    plt.close(figure)
