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

import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

if not __package__:  # run as a file (python3 tests/servers/gcs/server.py fetch): put the repository on the path
    sys.path.insert(0, str(Path(__file__).resolve().parents[3]))

from tests.servers import common
from tests.servers.common import free_port as free_port

MODULE = "github.com/fsouza/fake-gcs-server"
VERSION = "v1.56.1"
BIN = common.REPO / ".cache" / "go" / "bin"
BINARY = BIN / "fake-gcs-server"
STAMP = BIN / "fake-gcs-server.version"


class GcsServerUnavailable(common.ServerUnavailable):
    """Go is missing or the build failed, so no emulator can run here."""


def fetch() -> Path:
    """The emulator's binary, building it with ``go install`` first if this version is not there yet."""
    if BINARY.exists() and STAMP.exists() and STAMP.read_text().strip() == VERSION:
        return BINARY
    go = common.go_tool()
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


class FakeGcsServer(common.ServerProcess):
    """One ``fake-gcs-server`` process on a fixed port, its log in ``workdir``; ``stop``/``start`` keep the port
    (objects are in memory: a restarted server is empty)."""

    name = "fake-gcs-server"

    def __init__(self, workdir: Path, *, port: int | None = None) -> None:
        if not BINARY.exists():
            raise GcsServerUnavailable(f"{BINARY} is missing: run `make gcs-server` (or python {__file__} fetch)")
        self.workdir = workdir
        self.port = port or free_port()
        self.log_path = workdir / "fake-gcs-server.log"
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
        self._launch(command)
        self._wait_until(self._healthy, timeout, "answer")

    def _healthy(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.endpoint}/_internal/healthcheck", timeout=1):
                return True
        except (urllib.error.URLError, OSError):
            return False

    def stop(self) -> None:
        """Stop at once (SIGKILL, as an outage); its objects are gone."""
        self.kill()
        self.process = None

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


def main(argv: list[str] | None = None) -> int:
    parser, run = common.command_line(__doc__, "build the emulator (once; later runs reuse it)",
                                      "run an emulator in the foreground until Ctrl-C")  # fmt: skip
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
    with tempfile.TemporaryDirectory(prefix="fake-gcs-") as folder:
        server = FakeGcsServer(Path(folder), port=args.port)

        def started() -> None:
            server.start()
            for bucket in args.bucket:
                server.create_bucket(bucket)
            endpoint = server.endpoint
            print(f"fake-gcs-server at {endpoint} (export STORAGE_EMULATOR_HOST={endpoint}); Ctrl-C stops it")

        return common.serve([server], started)


if __name__ == "__main__":
    sys.exit(main())
