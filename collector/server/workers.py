"""One worker process of a multi-process collector: a whole collector on the supervisor's listening socket.

Started by ``collector.server.supervisor`` through ``multiprocessing``'s fork server (``run_worker`` with a
``WorkerSpec``), with the validated settings pickled in it, so every worker and every restart runs the
configuration the supervisor checked, even if the file has changed since. A worker is an ordinary collector (fast path,
intake, mapping, its own sinks and Kafka producer) with four differences, all wired in here:

- it serves on the listening socket(s) it inherited (fds named on the command line), never binding its own;
- its duplicate memory is the shared segment (``collector.enrich.shared_memory``), so a retry that reaches
  another worker is still flagged;
- its file names number from ``index × 1000 + 1`` (``collector.sinks.file.number_files_for_worker``) and
  its Kafka (and Pub/Sub) spool is ``<spool_dir>/worker-<index>`` (worker 0 keeps ``<spool_dir>`` itself, so going from
  one process to several never strands a spool), so workers never share a file or a spool;
- it renews its readiness on the status board, answers the other workers' metric scrapes on a Unix socket,
  and stops (the usual drain) when its supervisor is gone (its lifeline pipe reads end of file).

A restarted worker gets the same index: it recovers the ``.partial`` files its predecessor left (their
locks died with it) and replays its spool, exactly as a restarted single process does.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import os
import signal
import socket
import sys
from multiprocessing import reduction
from pathlib import Path
from typing import Any

from prometheus_client import generate_latest
from prometheus_client.registry import CollectorRegistry

from collector.app import Collector, build_app
from collector.config.settings import Settings
from collector.enrich.dedup import DuplicateMemory
from collector.enrich.shared_memory import SharedSlots
from collector.errors import CollectorError
from collector.metrics import registry_for
from collector.server.board import RENEW_EVERY, Board
from collector.server.fleet_metrics import FleetMetrics, fleet_registry, socket_path
from collector.server.runner import serve
from collector.sinks.file import number_files_for_worker

log = logging.getLogger("collector")


def spool_dir_for(spool_dir: str, index: int) -> str:
    """Worker ``index``'s spool folder under ``spool_dir`` (worker 0: the configured one)."""
    return spool_dir if index == 0 else str(Path(spool_dir) / f"worker-{index}")


def settings_for(settings: Settings, index: int) -> Settings:
    """The settings worker ``index`` runs: its own spool folder, all else as configured."""
    kafka = dataclasses.replace(
        settings.global_.kafka, spool_dir=spool_dir_for(settings.global_.kafka.spool_dir, index)
    )
    gcps = dataclasses.replace(settings.global_.gcps, spool_dir=spool_dir_for(settings.global_.gcps.spool_dir, index))
    return dataclasses.replace(settings, global_=dataclasses.replace(settings.global_, kafka=kafka, gcps=gcps))


def stranded_spools(settings: Settings) -> list[Path]:
    """Spool folders (Kafka's and Pub/Sub's) of worker indexes this configuration no longer runs (``processes``
    was lowered): their records wait there until a worker of that index runs again."""
    spooling = (settings.global_.kafka, settings.global_.gcps)
    roots = sorted({Path(s.spool_dir) for s in spooling if s.enabled and s.spool_max_bytes > 0})
    processes = settings.global_.server.processes
    stranded = []
    for folder in (folder for root in roots for folder in sorted(root.glob("worker-*"))):
        index = folder.name.removeprefix("worker-")
        if index.isdigit() and int(index) >= processes and any(folder.rglob("*.spool")):
            stranded.append(folder)
    return stranded


def duplicate_slots(settings: Settings) -> int:
    """Slots of the shared duplicate segment: one memory of ``duplicate_memory_size`` per mapper thread."""
    mapper = settings.global_.mapper
    return mapper.duplicate_memory_size * max(1, mapper.threads)


class WorkerFleet:
    """This worker's view of the others (``collector.app.Fleet``)."""

    def __init__(
        self, index: int, board: Board, duplicates: SharedSlots, runtime_dir: Path, settings: Settings, lifeline: int
    ) -> None:
        self.index = index
        self.board = board
        self.duplicates = duplicates
        self.runtime_dir = runtime_dir
        self.settings = settings
        self.own_registry: CollectorRegistry | None = None
        self._collector: Collector | None = None
        self._renewer: asyncio.Task[None] | None = None
        self._scrapes: asyncio.Server | None = None
        self._lifeline = lifeline

    def duplicate_memories(self) -> list[DuplicateMemory]:
        size = self.settings.global_.mapper.duplicate_memory_size
        view = self.duplicates.slots
        return [DuplicateMemory(size, view[k * size : (k + 1) * size]) for k in range(len(view) // size)]

    def others_ready(self) -> bool:
        return all(self.board.is_ready(index) for index in range(self.board.workers) if index != self.index)

    def metrics_registry(self, collector: Collector) -> CollectorRegistry:
        self.own_registry = registry_for(collector)
        return fleet_registry(FleetMetrics(self.index, self.own_registry, self.board, self.runtime_dir))

    async def start(self, collector: Collector) -> None:
        self._collector = collector
        path = socket_path(self.runtime_dir, self.index)
        path.unlink(missing_ok=True)  # left by this worker's predecessor
        self._scrapes = await asyncio.start_unix_server(self._answer_scrape, str(path))
        self._renewer = asyncio.create_task(self._renew(), name="worker-status")
        asyncio.get_running_loop().add_reader(self._lifeline, self._supervisor_gone)

    async def stop(self) -> None:
        asyncio.get_running_loop().remove_reader(self._lifeline)
        if self._renewer is not None:
            self._renewer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._renewer
        self.board.renew(self.index, ready=False)

    async def _answer_scrape(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            if self.own_registry is not None:
                writer.write(generate_latest(self.own_registry))
                await writer.drain()
        finally:
            writer.close()

    def _supervisor_gone(self) -> None:
        """The lifeline pipe is at end of file: the supervisor died (``kill -9``). Drain and stop, as on SIGTERM,
        rather than serve on unsupervised."""
        asyncio.get_running_loop().remove_reader(self._lifeline)
        log.error("The supervisor is gone: stopping this worker.")
        os.kill(os.getpid(), signal.SIGTERM)

    async def _renew(self) -> None:
        """Renew this worker's readiness on the board."""
        collector = self._collector
        assert collector is not None
        while True:
            self.board.renew(self.index, ready=collector.ready_here)
            await asyncio.sleep(RENEW_EVERY)


class InheritedFd:
    """A file descriptor handed to a worker as ``multiprocessing`` hands it a socket: duplicated into the
    child (``SCM_RIGHTS`` through the fork server), never by number."""

    def __init__(self, fd: int) -> None:
        self.fd = fd

    def __reduce__(self) -> tuple[object, tuple[object]]:
        return (_rebuild_fd, (reduction.DupFd(self.fd),))


def _rebuild_fd(duplicate: Any) -> InheritedFd:
    return InheritedFd(duplicate.detach())


@dataclasses.dataclass(frozen=True)
class WorkerSpec:
    """Everything a worker is given: who it is, what it serves on, what it shares."""

    index: int
    processes: int
    settings: Settings
    listening: socket.socket
    board: InheritedFd
    duplicates: InheritedFd
    lifeline: InheritedFd
    """Read end of a pipe whose write end only the supervisor holds: end of file when it is gone."""
    runtime_dir: Path
    host: str
    port: int
    log_level: str


def run_worker(spec: WorkerSpec) -> None:
    """The worker process's main function (``multiprocessing`` target); its exit status is serve's."""
    from collector.cli import configure_logging

    os.setpgid(0, 0)  # a terminal's Ctrl-C reaches the supervisor only, which passes it on once
    configure_logging(spec.log_level, worker=spec.index)
    try:
        status = _serve_worker(spec)
    except CollectorError as exc:
        log.error("Worker %d could not start: %s", spec.index, exc)
        status = 1
    sys.exit(status)


def _serve_worker(spec: WorkerSpec) -> int:
    index = spec.index
    settings = settings_for(spec.settings, index)
    number_files_for_worker(index)
    board = Board.attach(spec.board.fd, spec.processes)
    duplicates = SharedSlots.attach(spec.duplicates.fd, duplicate_slots(settings))
    fleet = WorkerFleet(index, board, duplicates, spec.runtime_dir, settings, spec.lifeline.fd)
    app = build_app(settings, fleet)
    log.info("Worker %d of %d (pid %d) serving.", index, spec.processes, os.getpid())
    return serve(settings, spec.host, spec.port, app=app, sockets=[spec.listening])
