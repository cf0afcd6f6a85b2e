"""What the test servers share: a free port, Maven jars resolved into ``.cache/``, a server process's life cycle
(started in a session of its own, stopped by its PID), the ``run`` command's wait for Ctrl-C, and a small HTTP(S)
server in a thread for tests that script a server's answers.

Only the standard library is used here: ``make kafka-jars``, ``make hdfs-jars`` and the Go builds run the servers'
scripts with the system ``python3`` before any virtual environment exists. Those scripts are run as files
(``python3 tests/servers/kafka/broker.py fetch``), so each puts the repository on ``sys.path`` before importing this.
"""

from __future__ import annotations

import argparse
import contextlib
import http.server
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, Protocol

REPO = Path(__file__).resolve().parents[2]


class ServerUnavailable(RuntimeError):
    """A tool (Java, Maven, Go) or a build is missing, so this server cannot run here; the message says what to do."""


def free_port() -> int:
    """A TCP port of 127.0.0.1 that nothing listens on now (the OS picks it)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def port_open(port: int) -> bool:
    """Whether something accepts connections on 127.0.0.1:``port``."""
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


@contextlib.contextmanager
def serve_in_thread(
    handler: type[http.server.BaseHTTPRequestHandler], *, tls: ssl.SSLContext | None = None
) -> Iterator[int]:
    """A small HTTP(S) server on 127.0.0.1 in a thread of this process, for a test's scripted answers; yields
    its port and shuts it down afterwards."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    if tls is not None:
        server.socket = tls.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, name=f"test-{handler.__name__}", daemon=True)
    thread.start()
    try:
        yield int(server.server_address[1])
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def go_tool() -> str | None:
    """The Go toolchain: on the PATH, or where Go's own installer puts it, for shells whose PATH lacks it."""
    return shutil.which("go") or ("/usr/local/go/bin/go" if Path("/usr/local/go/bin/go").exists() else None)


def maven_resolve(pom: Path, folder: Path, error: type[ServerUnavailable], what: str) -> None:
    """``pom``'s runtime jars copied into ``folder`` by Maven, unless an earlier run completed it (``.complete``):
    Maven copies into ``folder.partial``, renamed once complete, so a half-copied folder never has the real name.
    Maven's output (``-q`` leaves only terminal escapes) is shown only when it fails, as ``error``."""
    marker = folder / ".complete"
    if marker.exists():
        return
    partial = folder.with_name(folder.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    command = ["mvn", "-q", "-B", "-f", str(pom), "dependency:copy-dependencies", f"-DoutputDirectory={partial}",
               "-DincludeScope=runtime"]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise error(f"mvn could not resolve {what}:\n{result.stdout}\n{result.stderr}")
    shutil.rmtree(folder, ignore_errors=True)
    partial.rename(folder)
    marker.touch()


class ServerProcess:
    """One server process: started in a session of its own (a Ctrl-C meant for the test run does not reach it, its
    fixture stops it), stopped by its PID. A subclass sets ``name`` (for errors) and ``log_path`` (for ``tail``), and
    says how it stops: politely (``_terminate``) or at once, as an outage (``kill``)."""

    name: str
    log_path: Path
    process: subprocess.Popen[Any] | None = None

    def _launch(self, command: list[str], *, log: Path | None = None, new_session: bool = True, **options: Any) -> None:
        """Start ``command``, its stderr and (unless ``options`` send it elsewhere) its stdout appended to ``log``
        (default: ``log_path``)."""
        with open(log or self.log_path, "ab") as out:
            options.setdefault("stdout", out)
            self.process = subprocess.Popen(command, stderr=out, start_new_session=new_session, **options)

    def _wait_until(self, ready: Callable[[], bool], timeout: float, promise: str) -> None:
        """Return once ``ready()``; if the process exits first, or ``timeout`` passes (it is killed then), raise an
        error with the log's tail: "<name> did not <promise> within …"."""
        process = self.process
        assert process is not None
        deadline = time.monotonic() + timeout
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {process.returncode}:\n{self.tail()}")
            if ready():
                return
            if time.monotonic() > deadline:
                self.kill()
                raise RuntimeError(f"{self.name} did not {promise} within {timeout:.0f} s:\n{self.tail()}")
            time.sleep(0.05)

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def _terminate(self, timeout: float) -> bool:
        """SIGTERM to its PID, SIGKILL if it has not exited within ``timeout`` seconds; False if it had to be killed."""
        if not self.running:
            return True
        assert self.process is not None
        self.process.terminate()
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            return False
        return True

    def kill(self) -> None:
        """Stop at once (SIGKILL), as a crash would."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()

    def tail(self, lines: int = 40) -> str:
        """The last ``lines`` of the log, for error messages."""
        return tail(self.log_path, lines)


def tail(path: Path, lines: int = 40) -> str:
    if not path.exists():
        return ""
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


def command_line(doc: str, fetch_help: str, run_help: str) -> tuple[argparse.ArgumentParser, argparse.ArgumentParser]:
    """A script's parser with its ``fetch`` and ``run`` commands, and the ``run`` command's parser for its options."""
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("fetch", help=fetch_help)
    return parser, commands.add_parser("run", help=run_help)


def report_fetch(fetched: Callable[[], str]) -> int:
    """The ``fetch`` command: prints what ``fetched`` fetched, or why it could not (exit status 1)."""
    try:
        print(fetched())
    except ServerUnavailable as exc:
        print(exc, file=sys.stderr)
        return 1
    return 0


class Stoppable(Protocol):
    """What ``serve`` needs of a server; each kind stops its own way (politely, or at once as an outage)."""

    @property
    def running(self) -> bool: ...

    def stop(self) -> object: ...


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def serve(servers: Sequence[Stoppable], started: Callable[[], object]) -> int:
    """The ``run`` command in the foreground: ``started`` (start the servers, print where they are), then wait until
    Ctrl-C or SIGTERM, or until a server exits; the servers are stopped by their PIDs on the way out, last first."""
    signal.signal(signal.SIGTERM, _interrupt)
    signal.signal(signal.SIGINT, _interrupt)
    try:
        started()
        while all(server.running for server in servers):
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        for server in reversed(servers):
            server.stop()
    return 0
