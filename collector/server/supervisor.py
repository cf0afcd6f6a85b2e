"""Several worker processes as one collector: the supervisor binds, shares, starts, restarts and stops them.

With ``divolte.global.server.processes`` above 1, ``divolte-collector`` becomes this supervisor. It

1. checks the configuration by building the whole app once (as ``check-config`` does), so a bad
   directory or mapping fails before anything is bound;
2. binds the listening socket(s) itself and keeps them open for its whole life, so a restarted worker takes
   over the same socket, with the connections waiting in its accept queue;
3. creates the shared duplicate memory and the status board (``collector.enrich.shared_memory``,
   ``collector.server.board``) and a private runtime folder for the workers' metric sockets;
4. starts ``processes`` workers (``collector.server.workers``), passing them the fds;
5. restarts a worker that dies, at once and with the same index (so it recovers its predecessor's
   ``.partial`` files and replays its spool); a worker that dies 5 times within 60 s, or that fails its
   first start, stops the whole collector with exit status 1 and the cause in the log;
6. on SIGTERM or SIGINT, passes the signal on: every worker runs the usual drain (``/ping`` 503,
   ``shutdown_delay``, in-flight requests, queues, files published, spools kept); it exits 0 when every
   worker did. A second signal kills the workers at once and exits 1.

Listening: one ``SO_REUSEPORT`` socket per worker where the platform has it, else one socket shared by
all. The kernel spreads new connections evenly over reuse-port sockets by a hash of the addresses; with one
shared socket, libuv in each worker accepts every pending connection it can when it wakes, so under a
burst of new keep-alive connections (wrk, a load balancer's pool) one worker takes most of them. The
supervisor holds every worker's socket, so connections hashed to a worker that is restarting wait in its
queue (about a second) instead of being refused.

Why not ``uvicorn --workers`` or gunicorn: both restart workers, but neither knows that a worker owns a
sink: a file-name range, a spool folder, ``.partial`` files to recover under the same identity, a drain
to finish before the process may exit, and shared duplicate memory to hand over. Restarting "some worker"
instead of "worker 3" would strand spools; gunicorn's graceful timeout kills a worker that is still
publishing files. Workers come from ``multiprocessing``'s fork server, preloaded with the collector's
modules: not ``fork`` of the supervisor (it runs an event loop, which a child must not inherit), and not a
fresh interpreter per worker (``spawn`` or re-running the CLI: about 2 s of imports here, too slow to be
back within a second after a crash); fds cross as sockets do, by ``SCM_RIGHTS``.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import multiprocessing
import os
import shutil
import signal
import socket
import tempfile
import time
from multiprocessing.process import BaseProcess
from pathlib import Path

from collector import __version__
from collector.app import build_app
from collector.config.settings import Settings
from collector.enrich.shared_memory import SharedSlots
from collector.errors import CollectorError
from collector.server.board import RENEW_EVERY, Board
from collector.server.runner import describe
from collector.server.workers import InheritedFd, WorkerSpec, duplicate_slots, run_worker

log = logging.getLogger("collector")

CRASH_LOOP_DEATHS = 5
CRASH_LOOP_WINDOW = 60.0
"""A worker that dies ``CRASH_LOOP_DEATHS`` times within this many seconds stops the collector."""


def listening_sockets(host: str, port: int, count: int) -> list[socket.socket]:
    """``count`` reuse-port sockets bound to ``host:port`` (one shared socket where there is no reuse-port)."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM,
                                                             flags=socket.AI_PASSIVE)[0]  # fmt: skip
    except socket.gaierror as exc:
        raise CollectorError(f"cannot resolve the bind address '{host}': {exc}") from exc
    reuse_port = hasattr(socket, "SO_REUSEPORT")
    sockets = []
    try:
        for _ in range(count if reuse_port else 1):
            sock = socket.socket(family, kind, proto)
            sockets.append(sock)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if reuse_port:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
            sock.bind(address)
            sock.listen(2048)
            sock.setblocking(False)
    except OSError as exc:
        for sock in sockets:
            sock.close()
        raise CollectorError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from exc
    return sockets


def _exit_text(code: int) -> str:
    if code < 0:
        return f"killed by {signal.Signals(-code).name}"
    return f"exit status {code}"


class Supervisor:
    """Starts, watches and stops the workers (see the module docstring)."""

    def __init__(self, settings: Settings, host: str, port: int, log_level: str) -> None:
        self.settings = settings
        self.host = host
        self.port = port
        self.log_level = log_level
        self.count = settings.global_.server.processes
        self.sockets = listening_sockets(host, port, self.count)
        self.board = Board.create(self.count)
        self.duplicates = SharedSlots.create("divolte-duplicates", duplicate_slots(settings))
        self.runtime_dir = Path(tempfile.mkdtemp(prefix="divolte-workers-"))
        self.lifeline_read, self.lifeline_write = os.pipe()  # only this process ever holds the write end
        self.context = multiprocessing.get_context("forkserver")
        # Workers fork from a server that has imported the collector once: a restart is ready in a fraction
        # of a second instead of the seconds a fresh interpreter takes to import everything.
        self.context.set_forkserver_preload(["collector.server.preload"])
        self.workers: dict[int, BaseProcess] = {}
        self.deaths: dict[int, collections.deque[float]] = collections.defaultdict(collections.deque)
        self.ever_ready: set[int] = set()
        self.died_at: dict[int, float] = {}
        self.stopping = False
        self.failed: str | None = None
        self.signals = 0

    def close(self) -> None:
        for sock in self.sockets:
            sock.close()
        self.board.shared.close()
        self.duplicates.close()
        shutil.rmtree(self.runtime_dir, ignore_errors=True)
        os.close(self.lifeline_read)
        os.close(self.lifeline_write)

    def _spec(self, index: int) -> WorkerSpec:
        return WorkerSpec(
            index=index, processes=self.count, settings=self.settings,
            listening=self.sockets[index] if len(self.sockets) == self.count else self.sockets[0],
            board=InheritedFd(self.board.shared.fd), duplicates=InheritedFd(self.duplicates.fd),
            lifeline=InheritedFd(self.lifeline_read),
            runtime_dir=self.runtime_dir, host=self.host, port=self.port, log_level=self.log_level,
        )  # fmt: skip

    def _spawn(self, index: int) -> None:
        process = self.context.Process(target=run_worker, args=(self._spec(index),), name=f"worker-{index}")
        process.start()
        self.workers[index] = process
        self.board.set_pid(index, process.pid or 0)

    async def _exit_status(self, process: BaseProcess) -> int:
        """Wait, without blocking the loop, for ``process`` to exit (its sentinel becomes readable)."""
        loop = asyncio.get_running_loop()
        exited = loop.create_future()

        def on_exit() -> None:
            if not exited.done():
                exited.set_result(None)

        loop.add_reader(process.sentinel, on_exit)
        try:
            await exited
        finally:
            loop.remove_reader(process.sentinel)
        process.join()
        code = process.exitcode if process.exitcode is not None else 1
        process.close()
        return code

    async def _watch(self, index: int) -> int:
        """Wait for worker ``index`` to exit; restart it unless stopping; its last exit status."""
        while True:
            pid = self.workers[index].pid
            code = await self._exit_status(self.workers[index])
            self.board.mark_down(index)
            if self.stopping:
                return code
            now = time.monotonic()
            deaths = self.deaths[index]
            deaths.append(now)
            while deaths and now - deaths[0] > CRASH_LOOP_WINDOW:
                deaths.popleft()
            if index not in self.ever_ready and index not in self.died_at:
                self._fail(f"worker {index} exited during start-up ({_exit_text(code)}); see its log lines above")
                return code
            if len(deaths) >= CRASH_LOOP_DEATHS:
                self._fail(f"worker {index} died {len(deaths)} times within {CRASH_LOOP_WINDOW:.0f} s (last: "
                           f"{_exit_text(code)}); see its log lines above (marked worker-{index})")  # fmt: skip
                return code
            log.error("Worker %d (pid %s) died (%s); restarting it.", index, pid, _exit_text(code))
            self.died_at.setdefault(index, now)
            self.ever_ready.discard(index)
            self.board.count_restart(index)
            self._spawn(index)

    async def _follow_readiness(self) -> None:
        """Log when each worker is first ready, and how long a restarted one took."""
        announced = False
        while not self.stopping:
            for index in range(self.count):
                if index not in self.ever_ready and self.board.is_ready(index):
                    self.ever_ready.add(index)
                    if index in self.died_at:
                        took = time.monotonic() - self.died_at.pop(index)
                        log.info("Worker %d is back (pid %d), ready %.2f s after its predecessor died.",
                                 index, self.workers[index].pid, took)  # fmt: skip
            if not announced and len(self.ever_ready) == self.count:
                announced = True
                log.info("All %d workers ready on %s:%d.", self.count, self.host, self.port)
            await asyncio.sleep(RENEW_EVERY / 2)

    def _fail(self, reason: str) -> None:
        if self.failed is None:
            self.failed = reason
            log.error("Stopping the collector: %s.", reason)
            self._stop_workers(signal.SIGTERM)

    def _stop_workers(self, sig: int) -> None:
        self.stopping = True
        for process in self.workers.values():
            with contextlib.suppress(ProcessLookupError, ValueError):  # ValueError: already closed
                if process.pid is not None and process.exitcode is None:
                    os.kill(process.pid, sig)
        for sock in self.sockets:  # the workers hold their own copies until their listeners close
            sock.close()

    def _on_signal(self, sig: int) -> None:
        self.signals += 1
        name = signal.Signals(sig).name
        if self.signals == 1:
            log.info("%s received: every worker drains and stops.", name)
            self._stop_workers(sig)
        else:
            log.warning("Second %s: killing every worker at once; what they held in memory is lost.", name)
            self._stop_workers(signal.SIGKILL)

    async def run(self) -> int:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, self._on_signal, sig)
        for index in range(self.count):
            self._spawn(index)
        follower = asyncio.create_task(self._follow_readiness())
        codes = await asyncio.gather(*(self._watch(index) for index in range(self.count)))
        follower.cancel()
        if self.failed is not None:
            return 1
        if self.signals > 1 or any(codes):
            return 1
        log.info("All %d workers stopped.", self.count)
        return 0


def supervise(settings: Settings, host: str | None, port: int | None, log_level: str) -> int:
    """Run the collector as ``processes`` workers until a signal stops it; the exit status."""
    server = settings.global_.server
    host = host or server.host or "127.0.0.1"
    port = port or server.port
    build_app(settings)  # every component once, as check-config does: a bad setting stops us here
    log.info("divolte-collector %s, configuration: %s", __version__, settings.origin)
    for line in describe(settings, host, port):
        log.info("%s", line)
    supervisor = Supervisor(settings, host, port, log_level)
    log.info("Supervisor (pid %d): %d worker processes on %s:%d.", os.getpid(), supervisor.count, host, port)
    try:
        return asyncio.run(supervisor.run())
    finally:
        supervisor.close()
