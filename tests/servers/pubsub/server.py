"""Google's in-memory Pub/Sub fake (``pstest``) as a real gRPC server on 127.0.0.1, for tests.

    python tests/servers/pubsub/server.py fetch        # go build main.go into .cache/go/bin/pstest-server (once)
    python -m tests.servers.pubsub.server run [--port 8085]   # a server until Ctrl-C (make pubsub-server)

``fetch`` builds ``main.go`` (a small wrapper of ``cloud.google.com/go/pubsub/v2/pstest``) with the Go toolchain;
the modules come through the Go module proxy into Go's own module cache. A stamp beside the binary holds a hash
of the sources, so a second run with the same sources does nothing. ``PubsubServer`` starts the binary on a
port, waits until it accepts connections and stops it by its PID; ``stop`` is a clean stop (SIGTERM), after
which the server has written every message it acknowledged to ``dump`` (the fake keeps them only in memory).
Only the standard library is used here, so ``make pubsub-server`` can build before any virtual environment exists.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

if not __package__:  # run as a file (python3 tests/servers/pubsub/server.py fetch): put the repository on the path
    sys.path.insert(0, str(Path(__file__).resolve().parents[3]))

from tests.servers import common
from tests.servers.common import free_port as free_port

HERE = Path(__file__).resolve().parent
BINARY = common.REPO / ".cache" / "go" / "bin" / "pstest-server"
STAMP = BINARY.with_name("pstest-server.sources")
SOURCES = ("main.go", "go.mod", "go.sum")
FETCH = "python3 tests/servers/pubsub/server.py fetch   (or: make pubsub-server)"


class PubsubUnavailable(common.ServerUnavailable):
    """Go is missing or the build failed, so no Pub/Sub server can run here."""


def _sources_hash() -> str:
    digest = hashlib.sha256()
    for name in SOURCES:
        digest.update((HERE / name).read_bytes())
    return digest.hexdigest()


def fetch() -> Path:
    """The server binary, building it first if it is missing or older than its sources."""
    wanted = _sources_hash()
    if BINARY.exists() and STAMP.exists() and STAMP.read_text() == wanted:
        return BINARY
    go = common.go_tool()
    if go is None:
        raise PubsubUnavailable(
            "Go (1.26 or later) is needed to build the Pub/Sub test server: install it from "
            "go.dev/dl or your system's packages, with `go` on the PATH"
        )
    BINARY.parent.mkdir(parents=True, exist_ok=True)
    partial = BINARY.with_name(BINARY.name + ".partial")
    env = {**os.environ, "GOFLAGS": "-mod=readonly", "GOTOOLCHAIN": "local", "CGO_ENABLED": "0"}
    command = [go, "build", "-o", str(partial), "."]
    result = subprocess.run(command, cwd=HERE, env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise PubsubUnavailable(f"go build of the Pub/Sub test server failed:\n{result.stdout}\n{result.stderr}")
    partial.replace(BINARY)
    STAMP.write_text(wanted)
    return BINARY


def binary() -> Path:
    """The built server (built now if missing or stale and Go is here), or an error that says how to build it:
    tests fail, they are never skipped."""
    try:
        return fetch()
    except PubsubUnavailable as exc:
        raise PubsubUnavailable(f"{exc}\nThe Pub/Sub test server is not built; run: {FETCH}") from exc


class PubsubServer(common.ServerProcess):
    """One pstest server on ``port``; ``start``/``stop`` keep the port, so clients reconnect to a restart (which
    starts empty: topics and messages are in memory)."""

    name = "pstest-server"

    def __init__(self, workdir: Path, *, port: int | None = None, dump: bool = True) -> None:
        """``dump``: have the server write what it acknowledged when stopped (off for benchmarks: it takes time)."""
        self.binary = binary()
        self.dump = dump
        self.deny: list[str] = []
        """Methods the next ``start`` has the server answer PERMISSION_DENIED (``GetTopic``, ``Publish``)."""
        self.workdir = workdir
        self.port = port or free_port()
        self.log_path = workdir / "server.log"
        self.runs = 0
        workdir.mkdir(parents=True, exist_ok=True)

    @property
    def host(self) -> str:
        """What ``PUBSUB_EMULATOR_HOST`` is set to."""
        return f"127.0.0.1:{self.port}"

    def dump_path(self, run: int) -> Path:
        return self.workdir / f"messages-{run}.jsonl"

    def start(self, timeout: float = 30.0) -> None:
        assert not self.running, "already running"
        self.runs += 1
        self._launch([str(self.binary), "-port", str(self.port),
                      *(["-dump", str(self.dump_path(self.runs))] if self.dump else []),
                      *(arg for method in self.deny for arg in ("-deny", method))])  # fmt: skip
        self._wait_until(lambda: common.port_open(self.port), timeout, "listen")

    def stop(self, timeout: float = 30.0) -> list[dict[str, Any]]:
        """Stop serving (SIGTERM) and return the messages this run acknowledged, as the server dumped them."""
        if not self.running:
            return []
        if not self._terminate(timeout):
            raise RuntimeError(f"pstest-server did not stop within {timeout:.0f} s:\n{self.tail()}")
        return self.dumped(self.runs)

    def dumped(self, run: int) -> list[dict[str, Any]]:
        path = self.dump_path(run)
        if not path.exists():
            return []
        return [json.loads(line) for line in path.read_text().splitlines() if line]


def main(argv: list[str] | None = None) -> int:
    parser, run = common.command_line(__doc__, "build the server (once; later runs reuse it)",
                                      "run a server in the foreground until Ctrl-C")  # fmt: skip
    run.add_argument("--port", type=int, default=8085)
    args = parser.parse_args(argv)
    if args.command == "fetch":
        began = time.monotonic()
        return common.report_fetch(
            lambda: f"Pub/Sub test server: {fetch().relative_to(common.REPO)} ({time.monotonic() - began:.1f} s)"
        )
    try:
        server = PubsubServer(common.REPO / ".cache" / "pubsub-run", port=args.port, dump=False)
    except PubsubUnavailable as exc:
        print(exc, file=sys.stderr)
        return 1

    def started() -> None:
        server.start()
        print(f"Pub/Sub (pstest) on {server.host}: export PUBSUB_EMULATOR_HOST={server.host}; Ctrl-C stops it")

    return common.serve([server], started)


if __name__ == "__main__":
    sys.exit(main())
