"""The fault matrix: every sink × stage × kind of failure, injected into a real, in-process collector.

Each cell builds a whole collector (configuration, pipeline, sink runner and sink: nothing replaced) writing
to a real destination (local disk, the test Kafka broker, moto's S3 server), and wraps one method of the
sink's own layer (the *seam*) so that its next calls raise the fault (or hang past the write timeout) before
doing their real work. Then events go in through the collector's ASGI application, and the cell checks what
the issue asks of every cell: the client got its answer at once; the failure was logged within a second
and counted; the collector recovered on its own (writing again, ready, every event at the destination
without a restart, or after the restart a failed close leaves to); and, counted at the destination once
the fault is gone, nothing accepted was lost.

The cells of one sink run concurrently in one event loop (they share nothing but the destination server),
so the whole matrix takes seconds, not minutes. ``report()`` writes the table (``$FAULT_MATRIX_REPORT``,
default ``build/fault-matrix.md``) from every sink's results of this run.
"""

from __future__ import annotations

import asyncio
import errno
import gc
import io
import json
import logging
import os
import time
from collections.abc import Awaitable, Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import fastavro
import httpx

from collector.app import FrontDoor, build_app
from collector.config import load
from collector.sinks.runner import SinkRunner
from collector.supervise import TASK_FAILURES
from tests.integration.kafka.records import USER_AGENT, event_number, event_query
from tests.paths import REPO

FAULTS = ("library", "ENOSPC", "EIO", "EACCES", "TimeoutError", "MemoryError", "RuntimeError", "AssertionError",
          "hang")  # fmt: skip
WRITE_TIMEOUT = 2.0
"""``supervision.write_timeout`` in every cell; a hang lasts ``HANG`` seconds, longer than that. A hang is a
failure once the write timeout expires, so "logged within a second" counts from then for hangs."""
HANG = 3.0
EVENTS = 12
DEADLINE = 30.0
"""Seconds a cell may take to recover (far more than it needs: a cell that hits it has failed)."""
REPORT = Path(os.environ.get("FAULT_MATRIX_REPORT", str(REPO / "build" / "fault-matrix.md")))


class Fault:
    """The first ``times`` calls through the seam fail with ``kind`` (or hang), then calls pass through."""

    def __init__(self, kind: str, library_error: Callable[[], Exception]) -> None:
        self.kind = kind
        self.library_error = library_error
        self.times = 1 if kind in ("MemoryError", "hang") else 2  # MemoryError: for one batch
        self.fired: list[float] = []
        self.armed = True

    def exception(self) -> Exception:
        codes = {"ENOSPC": errno.ENOSPC, "EIO": errno.EIO, "EACCES": errno.EACCES}
        if self.kind in codes:
            code = codes[self.kind]
            return OSError(code, os.strerror(code))
        simple: dict[str, Callable[[], Exception]] = {
            "library": self.library_error,
            "TimeoutError": lambda: TimeoutError("injected by the fault matrix"),
            "MemoryError": MemoryError,
            "RuntimeError": lambda: RuntimeError("injected by the fault matrix"),
            "AssertionError": lambda: AssertionError("injected by the fault matrix"),
        }
        return simple[self.kind]()

    def _fires(self) -> bool:
        if not self.armed or len(self.fired) >= self.times:
            return False
        self.fired.append(time.time())
        return True

    def wrap_blocking(self, func: Callable[..., Any]) -> Callable[..., Any]:
        def faulty(*args: Any) -> Any:
            if self._fires():
                if self.kind != "hang":
                    raise self.exception()
                time.sleep(HANG)
            return func(*args)

        return faulty

    def wrap_async(self, func: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
        async def faulty(*args: Any) -> Any:
            if self._fires():
                if self.kind != "hang":
                    raise self.exception()
                await asyncio.sleep(HANG)
            return await func(*args)

        return faulty

    @property
    def exhausted(self) -> bool:
        return len(self.fired) >= self.times


@dataclass
class Outcome:
    sink: str
    stage: str
    fault: str
    sent: int = 0
    answered: int = 0
    arrived: int = 0
    fired: int = 0
    logged_after: float | None = None
    """Seconds from the first injected failure (for a hang: from the end of the write timeout) to the first
    warning or error naming the sink."""
    counted: int = 0
    recovered_after: float | None = None
    problems: list[str] = field(default_factory=list)

    @property
    def lost(self) -> int:
        return self.sent - self.arrived


@dataclass
class Cell:
    """One cell: its names and folders, and how to build its collector, read its destination, install its
    fault. ``destination`` returns the (party, event) pairs that arrived."""

    sink: str
    stage: str
    fault: Fault
    folder: Path
    config: Callable[[Cell], str]
    destination: Callable[[Cell], Awaitable[set[tuple[int, int]]]]
    install: Callable[[Cell, FrontDoor], None]

    @property
    def name(self) -> str:
        return f"{self.stage}_{self.fault.kind}".lower()


class LogWatch(logging.Handler):
    """When each cell's sink was named in a warning or an error (``'<name>'`` or ``'<task>:<name>'``)."""

    def __init__(self, names: Iterable[str]) -> None:
        super().__init__(logging.WARNING)
        self.lines: dict[str, list[tuple[float, str]]] = {name: [] for name in names}

    def emit(self, record: logging.LogRecord) -> None:
        text = record.getMessage()
        for name, lines in self.lines.items():
            if f"{name}'" in text:
                lines.append((record.created, text))

    def first_after(self, fired: float, failed: float, name: str) -> float | None:
        """Seconds from ``failed`` to the first line naming the sink since the fault ``fired`` (0 if sooner)."""
        after = [max(0.0, when - failed) for when, _ in self.lines[name] if when >= fired]
        return min(after) if after else None


def settings_for(cell: Cell) -> Any:
    path = cell.folder / "collector.conf"
    path.write_text(cell.config(cell))
    return load(path, env={})


def runner_of(app: FrontDoor, cell: Cell) -> SinkRunner:
    return app.collector.topology.sinks[cell.name]


def failures_of(app: FrontDoor, cell: Cell) -> int:
    runner = runner_of(app, cell)
    counted = runner.retries + sum(n for task, n in TASK_FAILURES.items() if task.endswith(f":{cell.name}"))
    return counted + int(getattr(runner.sink, "failed_uploads", 0))


async def send(app: FrontDoor, events: Iterable[tuple[int, int]]) -> tuple[int, int]:
    """GET /csc-event for each event through the ASGI app; (answered 200 within a second, sent)."""
    answered = sent = 0
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://collector") as client:
        for party, event in events:
            started = time.monotonic()
            response = await client.get(f"/csc-event?{event_query(party, event)}", headers={"User-Agent": USER_AGENT})
            sent += 1
            answered += response.status_code == 200 and time.monotonic() - started < 1.0
    return answered, sent


async def until(condition: Callable[[], bool], timeout: float = DEADLINE) -> bool:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.05)
    return True


def install_seam(cell: Cell, target: object, method: str, *, blocking: bool) -> None:
    """Wrap ``target.method`` (an instance attribute shadows the class's method) with the cell's fault."""
    wrap = cell.fault.wrap_blocking if blocking else cell.fault.wrap_async
    setattr(target, method, wrap(getattr(target, method)))


def prepare(cell: Cell) -> FrontDoor:
    """The cell's collector, built (not started) with its fault installed."""
    app = build_app(settings_for(cell))
    cell.install(cell, app)
    return app


async def run_cell(cell: Cell, app: FrontDoor, watch: LogWatch) -> Outcome:
    outcome = Outcome(cell.sink, cell.stage, cell.fault.kind)
    try:
        await _run_cell(cell, app, watch, outcome)
    except Exception as exc:  # a broken cell is a failed cell, reported with the others
        outcome.problems.append(f"the cell itself raised {exc!r}")
    return outcome


async def _run_cell(cell: Cell, app: FrontDoor, watch: LogWatch, outcome: Outcome) -> None:
    events = [(party, n) for n in range(EVENTS // 3) for party in range(3)]
    if cell.stage == "close":
        cell.fault.armed = False  # armed when the sink starts closing
    await app.collector.start()
    runner = runner_of(app, cell)
    outcome.answered, outcome.sent = await send(app, events)
    if cell.stage == "close":
        await until(lambda: runner.written >= len(events))
        cell.fault.armed = True
        await app.collector.stop()
    else:
        await until(lambda: bool(cell.fault.fired))
    if not cell.fault.fired:
        outcome.problems.append("the fault never fired: the seam is not on this stage's path")
        if cell.stage != "close":
            await app.collector.stop()
        return
    first = cell.fault.fired[0]
    failed = first + (WRITE_TIMEOUT if cell.fault.kind == "hang" else 0.0)
    await until(lambda: watch.first_after(first, failed, cell.name) is not None, 3.0)
    outcome.logged_after = watch.first_after(first, failed, cell.name)
    if outcome.logged_after is None or outcome.logged_after > 1.0:
        lines = [(round(when - first, 2), text[:150]) for when, text in watch.lines[cell.name]]
        outcome.problems.append(f"the fault fired at {cell.fault.fired}; lines naming the sink: {lines}")
    outcome.counted = failures_of(app, cell)
    if cell.stage == "close":  # recovery is the next start's: it finds what the failed close left
        app = build_app(settings_for(cell))
        await app.collector.start()
    expected = set(events)

    async def everything_arrived() -> bool:
        return await cell.destination(cell) >= expected

    started = time.time()
    recovered = False
    while time.time() - started < DEADLINE:
        runner = runner_of(app, cell)
        settled = cell.fault.exhausted and not runner.statistics().failing and app.collector.ready
        if settled and await everything_arrived():
            recovered = True
            break
        await asyncio.sleep(0.25)
    if recovered:
        outcome.recovered_after = time.time() - first
    await app.collector.stop()
    outcome.arrived = len(await cell.destination(cell) & expected)
    outcome.fired = len(cell.fault.fired)


def check(outcome: Outcome) -> list[str]:
    """What is wrong with a cell's outcome (empty: every expectation holds)."""
    problems = list(outcome.problems)
    if outcome.answered != outcome.sent:
        problems.append(f"{outcome.sent - outcome.answered} of {outcome.sent} requests got no prompt 200")
    if outcome.lost:
        problems.append(f"{outcome.lost} of {outcome.sent} accepted events lost")
    if outcome.logged_after is None or outcome.logged_after > 1.0:
        problems.append(f"not logged within a second (after {outcome.logged_after} s)")
    if not outcome.counted:
        problems.append("not counted (no retry, task failure or failed upload)")
    if outcome.recovered_after is None:
        problems.append(f"did not recover within {DEADLINE:.0f} s")
    return problems


async def run_matrix(cells: list[Cell]) -> dict[str, Outcome]:
    """Every cell; outcomes by ``sink/stage/fault``. The cells run at once in two waves: the hangs, whose
    detection is a timer, get a wave of their own, so that the start-up burst of the other cells (all on this
    one event loop) cannot delay their timers."""
    watch = LogWatch(cell.name for cell in cells)
    logging.getLogger().addHandler(watch)
    # Many collectors share this process: enough worker threads that hung calls of some do not queue the
    # file work of the others (each real collector process has its own pool).
    asyncio.get_running_loop().set_default_executor(ThreadPoolExecutor(max_workers=len(cells) + 8))
    outcomes: list[Outcome] = []
    try:
        for wave in ([c for c in cells if c.fault.kind != "hang"], [c for c in cells if c.fault.kind == "hang"]):
            apps = [prepare(cell) for cell in wave]  # first: building one blocks the loop the others run on
            outcomes += await asyncio.gather(*(run_cell(c, app, watch) for c, app in zip(wave, apps, strict=True)))
        await asyncio.sleep(0.5)  # closed connections finish closing before the loop does
        gc.collect()  # anything a cell leaked (an unclosed connection) is reported here, not in a later test
    finally:
        logging.getLogger().removeHandler(watch)
    return {f"{o.sink}/{o.stage}/{o.fault}": o for o in outcomes}


def avro_events(data: bytes) -> set[tuple[int, int]]:
    return {event_number(record) for record in fastavro.reader(io.BytesIO(data))}  # type: ignore[arg-type]


def report(sink: str, outcomes: dict[str, Outcome]) -> None:
    """Keep this sink's results of the run and write the table of every sink's."""
    results = REPORT.with_suffix(".json")
    REPORT.parent.mkdir(parents=True, exist_ok=True)
    known: dict[str, dict[str, Any]] = json.loads(results.read_text()) if results.exists() else {}
    known = {key: value for key, value in known.items() if not key.startswith(f"{sink}/")}
    known.update({key: asdict(outcome) for key, outcome in outcomes.items()})
    results.write_text(json.dumps(known, indent=1))
    lines = [
        "| sink | stage | fault | answered | lost | logged after | counted | recovered after | result |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for key in sorted(known, key=_order):
        outcome = Outcome(**known[key])
        problems = check(outcome)
        logged = f"{outcome.logged_after:.2f} s" if outcome.logged_after is not None else "no"
        recovered = f"{outcome.recovered_after:.1f} s" if outcome.recovered_after is not None else "no"
        lines.append(
            f"| {outcome.sink} | {outcome.stage} | {outcome.fault} | {outcome.answered}/{outcome.sent} | "
            f"{outcome.lost} | {logged} | {outcome.counted} | {recovered} | "
            f"{'ok' if not problems else 'FAILED: ' + '; '.join(problems)} |"
        )
    REPORT.write_text("\n".join(lines) + "\n")


def _order(key: str) -> tuple[int, int, int]:
    sink, stage, fault = key.split("/")
    stages = ("open", "connect", "write", "sync", "publish", "upload", "close", "heartbeat")
    return (("file", "kafka", "s3", "gcs").index(sink), stages.index(stage), FAULTS.index(fault))
