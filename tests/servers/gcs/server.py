"""A real Cloud Storage emulator (``fake-gcs-server``, Go) on 127.0.0.1, built from the Go module proxy, for tests.

    python tests/servers/gcs/server.py fetch              # go install it into .cache/go/bin (once: 3-5 min cold)
    python -m tests.servers.gcs.server run [--port 4443]  # a server until Ctrl-C, buckets: --bucket NAME

``fetch`` runs ``go install github.com/fsouza/fake-gcs-server@<VERSION>`` with ``GOBIN`` in the repository's
``.cache/go/bin``; a second run finds the binary (and its version stamp) and does nothing. ``FakeGcsServer``
serves Google's JSON API over plain HTTP (``-scheme http``) with the in-memory backend (the filesystem backend
drops the leading ``/`` of object names, which Divolte's default ``publish_dir`` gives), so a stopped and
restarted server (the outage tests) starts empty, on the same port; clients reach it through
``STORAGE_EMULATOR_HOST``. It is stopped by its PID. Only the standard library is used here, so
``make gcs-server`` can build before any virtual environment exists; the tests read objects back through the
JSON API with plain HTTP, independent of the client library under test.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
MODULE = "github.com/fsouza/fake-gcs-server"
VERSION = "v1.56.1"
BIN = REPO / ".cache" / "go" / "bin"
BINARY = BIN / "fake-gcs-server"
STAMP = BIN / "fake-gcs-server.version"


class GcsServerUnavailable(RuntimeError):
    """Go is missing or the build failed, so no emulator can run here."""


def fetch() -> Path:
    """The emulator's binary, building it with ``go install`` first if this version is not there yet."""
    if BINARY.exists() and STAMP.exists() and STAMP.read_text().strip() == VERSION:
        return BINARY
    go = shutil.which("go") or ("/usr/local/go/bin/go" if Path("/usr/local/go/bin/go").exists() else None)
    if go is None:
        raise GcsServerUnavailable("the Go toolchain is needed to build fake-gcs-server (install Go 1.24 or later)")
    BIN.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    result = subprocess.run([go, "install", f"{MODULE}@{VERSION}"], capture_output=True, text=True, check=False,
                            env={**os.environ, "GOBIN": str(BIN), "GOFLAGS": "-buildvcs=false"})  # fmt: skip
    if result.returncode != 0:
        raise GcsServerUnavailable(f"go install {MODULE}@{VERSION} failed:\n{result.stdout}\n{result.stderr}")
    STAMP.write_text(VERSION + "\n")
    print(f"built fake-gcs-server {VERSION} in {time.monotonic() - started:.0f} s", file=sys.stderr)
    return BINARY


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class FakeGcsServer:
    """One ``fake-gcs-server`` process on a fixed port, its log in ``workdir``; ``stop``/``start`` keep the port
    (objects are in memory: a restarted server is empty)."""

    def __init__(self, workdir: Path, *, port: int | None = None) -> None:
        if not BINARY.exists():
            raise GcsServerUnavailable(f"{BINARY} is missing: run `make gcs-server` (or python {__file__} fetch)")
        self.workdir = workdir
        self.port = port or free_port()
        self.log_path = workdir / "fake-gcs-server.log"
        self.process: subprocess.Popen[bytes] | None = None
        workdir.mkdir(parents=True, exist_ok=True)

    @property
    def endpoint(self) -> str:
        """What ``STORAGE_EMULATOR_HOST`` is set to."""
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 30.0) -> None:
        assert not self.running, "already running"
        command = [str(BINARY), "-scheme", "http", "-host", "127.0.0.1", "-port", str(self.port),
                   "-backend", "memory", "-log-level", "warn",
                   "-external-url", self.endpoint, "-public-host", f"127.0.0.1:{self.port}"]  # fmt: skip
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + timeout
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"fake-gcs-server exited with {self.process.returncode}:\n{self.tail()}")
            try:
                with urllib.request.urlopen(f"{self.endpoint}/_internal/healthcheck", timeout=1):
                    return
            except (urllib.error.URLError, OSError):
                if time.monotonic() > deadline:
                    self.stop()
                    message = f"fake-gcs-server did not answer within {timeout:.0f} s:\n{self.tail()}"
                    raise RuntimeError(message) from None
                time.sleep(0.05)

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self) -> None:
        """Stop at once (SIGKILL, as an outage); its objects are gone."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(10)
        self.process = None

    def tail(self, lines: int = 40) -> str:
        if not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    # -- the JSON API, in plain HTTP (independent of the client under test) ----------------------------

    def _call(self, method: str, path: str, body: object = None) -> object:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(f"{self.endpoint}{path}", data=data, method=method,
                                         headers={"Content-Type": "application/json"})  # fmt: skip
        with urllib.request.urlopen(request, timeout=10) as response:
            raw = response.read()
        return json.loads(raw) if raw.strip() else None

    def create_bucket(self, name: str) -> None:
        self._call("POST", "/storage/v1/b", {"name": name})

    def names(self, bucket: str, prefix: str = "") -> list[str]:
        """The names of the objects under ``prefix``, sorted."""
        names: list[str] = []
        token = ""
        while True:
            query = urllib.parse.urlencode({"prefix": prefix, **({"pageToken": token} if token else {})})
            page = self._call("GET", f"/storage/v1/b/{bucket}/o?{query}")
            assert isinstance(page, dict)
            names += [item["name"] for item in page.get("items", [])]
            token = page.get("nextPageToken", "")
            if not token:
                return sorted(names)

    def read(self, bucket: str, name: str) -> bytes:
        quoted = urllib.parse.quote(name, safe="")
        with urllib.request.urlopen(f"{self.endpoint}/storage/v1/b/{bucket}/o/{quoted}?alt=media", timeout=30) as r:
            return bytes(r.read())

    def objects(self, bucket: str, prefix: str = "") -> dict[str, bytes]:
        """Every object under ``prefix``: name → content."""
        return {name: self.read(bucket, name) for name in self.names(bucket, prefix)}


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("fetch", help="build the emulator (once; later runs reuse it)")
    run = commands.add_parser("run", help="run an emulator in the foreground until Ctrl-C")
    run.add_argument("--port", type=int, default=4443)
    run.add_argument("--bucket", action="append", default=[], help="create this bucket once started (may repeat)")
    args = parser.parse_args(argv)
    try:
        fetch()
    except GcsServerUnavailable as exc:
        print(exc, file=sys.stderr)
        return 1
    if args.command == "fetch":
        return 0
    signal.signal(signal.SIGTERM, _interrupt)
    with tempfile.TemporaryDirectory(prefix="fake-gcs-") as folder:
        server = FakeGcsServer(Path(folder), port=args.port)
        server.start()
        for bucket in args.bucket:
            server.create_bucket(bucket)
        print(f"fake-gcs-server at {server.endpoint} (export STORAGE_EMULATOR_HOST={server.endpoint}); Ctrl-C stops it")
        try:
            while server.running:
                time.sleep(0.5)
        except KeyboardInterrupt:
            pass
        finally:
            server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
