"""A real HDFS (Hadoop's MiniDFSCluster, WebHDFS on) on 127.0.0.1, from Maven Central jars, for tests.

    python tests/servers/hdfs/cluster.py fetch          # resolve the jars and compile the main (once)
    python -m tests.servers.hdfs.cluster run [--http-port 9870]   # a cluster until Ctrl-C

``fetch`` runs ``mvn dependency:copy-dependencies`` on ``tests/servers/hdfs/pom.xml`` into
``.cache/hdfs/<version>`` and compiles ``MiniHdfs.java`` against those jars, and resolves the HttpFS gateway's
jars (``httpfs-pom.xml``, into ``.cache/hdfs/httpfs-<version>``: a classpath of their own, run in a JVM of their
own by ``tests/servers/hdfs/httpfs.py``); a second run finds them and does nothing. ``HdfsCluster`` starts
``MiniHdfs`` (one NameNode, DataNodes, all in one JVM) on free ports chosen here, so that the NameNode keeps its
address when a test stops and restarts it (``stop_namenode``, ``start_namenode``: commands on the JVM's stdin),
and stops the JVM by its PID. The cluster jar has no HttpFS server (``hadoop-hdfs-httpfs`` is not part of
``hadoop-client-minicluster``): the gateway is a separate process in front of it.
Only the standard library is used here, so ``make hdfs-jars`` can fetch before any virtual environment exists.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path
from typing import IO

if not __package__:  # run as a file (python3 tests/servers/hdfs/cluster.py fetch): put the repository on the path
    sys.path.insert(0, str(Path(__file__).resolve().parents[3]))

from tests.servers import common
from tests.servers.common import free_port as free_port

HERE = Path(__file__).resolve().parent
POM = HERE / "pom.xml"
MAIN = HERE / "MiniHdfs.java"
HADOOP_VERSION = re.search(r"<hadoop\.version>([^<]+)</hadoop\.version>", POM.read_text())[1]  # type: ignore[index]
JARS = common.REPO / ".cache" / "hdfs" / HADOOP_VERSION
CLASSES = JARS / "classes"
HTTPFS_POM = HERE / "httpfs-pom.xml"
HTTPFS_VERSION = re.search(r"<httpfs\.version>([^<]+)</httpfs\.version>", HTTPFS_POM.read_text())[1]  # type: ignore[index]
HTTPFS_JARS = common.REPO / ".cache" / "hdfs" / f"httpfs-{HTTPFS_VERSION}"
HEAP = os.environ.get("HDFS_TEST_HEAP", "-Xmx768m")
FETCH_COMMAND = "python3 tests/servers/hdfs/cluster.py fetch   (or: make hdfs-jars)"


class HdfsUnavailable(common.ServerUnavailable):
    """Java, Maven or the jars are missing, so no cluster can run here."""


def fetch() -> Path:
    """The folder of cluster jars (with the compiled main in ``classes/``), resolving and compiling first if
    needed; the HttpFS gateway's jars are resolved into ``HTTPFS_JARS`` on the way. Maven's and javac's output
    is shown only when they fail."""
    compiled = CLASSES / "MiniHdfs.class"
    fresh = compiled.exists() and compiled.stat().st_mtime >= MAIN.stat().st_mtime
    if fresh and (JARS / ".complete").exists() and (HTTPFS_JARS / ".complete").exists():
        return JARS
    if shutil.which("mvn") is None or shutil.which("javac") is None:
        raise HdfsUnavailable(
            "a JDK (javac) and mvn are needed to run a MiniDFSCluster (make system-deps installs them)"
        )
    common.maven_resolve(POM, JARS, HdfsUnavailable, f"the jars of {POM.name}")
    common.maven_resolve(HTTPFS_POM, HTTPFS_JARS, HdfsUnavailable, f"the jars of {HTTPFS_POM.name}")
    if not fresh:
        CLASSES.mkdir(exist_ok=True)
        result = subprocess.run(
            ["javac", "-nowarn", "-cp", f"{JARS}/*", "-d", str(CLASSES), str(MAIN)], capture_output=True, text=True,
            check=False,
        )  # fmt: skip
        if result.returncode != 0:
            raise HdfsUnavailable(f"javac could not compile {MAIN.name}:\n{result.stdout}\n{result.stderr}")
    return JARS


class HdfsCluster(common.ServerProcess):
    """One MiniDFSCluster in ``workdir``; its NameNode can be stopped and started again on the same ports."""

    name = "MiniHdfs"

    def __init__(self, workdir: Path, *, datanodes: int = 1, http_port: int | None = None) -> None:
        self.jars = fetch()
        self.workdir = workdir
        self.datanodes = datanodes
        self.rpc_port = free_port()
        self.http_port = http_port or free_port()
        self.superuser = ""
        self.log_path = workdir / "stderr.log"
        self.started_in = 0.0
        """Seconds the last ``start`` took (JVM start, format, NameNode and DataNodes up)."""
        self.namenode_up = False
        """False between ``stop_namenode`` and ``start_namenode``: ``ensure_namenode`` restarts it."""
        workdir.mkdir(parents=True, exist_ok=True)

    @property
    def http_address(self) -> str:
        """The NameNode's HTTP address (WebHDFS under ``/webhdfs/v1``)."""
        return f"127.0.0.1:{self.http_port}"

    @property
    def default_fs(self) -> str:
        return f"hdfs://127.0.0.1:{self.rpc_port}"

    def start(self, timeout: float = 120.0) -> None:
        assert not self.running, "already running"
        began = time.monotonic()
        command = ["java", HEAP, "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-cp", f"{self.jars}/*:{CLASSES}",
                   "MiniHdfs", str(self.workdir / "data"), str(self.rpc_port), str(self.http_port),
                   str(self.datanodes)]  # fmt: skip
        self._launch(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        line = self._answer(timeout, "READY")
        self.superuser = dict(part.split("=", 1) for part in line.split()[1:])["superuser"]
        self.started_in = time.monotonic() - began
        self.namenode_up = True

    def _answer(self, timeout: float, expected: str) -> str:
        """The JVM's next line on stdout, which must start with ``expected``."""
        process = self.process
        assert process is not None and process.stdout is not None
        deadline = time.monotonic() + timeout
        stdout: IO[str] = process.stdout
        while time.monotonic() < deadline:
            line = stdout.readline()
            if line.startswith(expected):
                return line.strip()
            if not line and process.poll() is not None:
                raise RuntimeError(f"MiniHdfs exited with {process.returncode}:\n{self.tail()}")
            if line.startswith("ERROR"):
                raise RuntimeError(f"MiniHdfs: {line.strip()}\n{self.tail()}")
        self.kill()
        raise RuntimeError(f"MiniHdfs gave no '{expected}' within {timeout:.0f} s:\n{self.tail()}")

    def _command(self, command: str, expected: str, timeout: float = 120.0) -> None:
        process = self.process
        assert process is not None and process.stdin is not None and process.poll() is None, "not running"
        process.stdin.write(command + "\n")
        process.stdin.flush()
        self._answer(timeout, expected)

    def stop_namenode(self) -> None:
        """Stop the NameNode (the DataNodes keep running): every WebHDFS request is refused until it restarts."""
        self.namenode_up = False
        self._command("stop-namenode", "OK namenode stopped")

    def start_namenode(self) -> None:
        """Start the NameNode again on the same ports; returns once the DataNodes reported and safe mode is off."""
        self._command("start-namenode", "OK namenode started")
        self.namenode_up = True

    def ensure_namenode(self) -> None:
        """Start the NameNode if a test stopped it and failed before starting it again, so that one failure
        does not turn every later test on the shared cluster into a refused connection."""
        if self.running and not self.namenode_up:
            self.start_namenode()

    def webhdfs(self, method: str, path: str, op: str, *, user: str | None = None, data: bytes | None = None,
                **params: str) -> object:  # fmt: skip
        """One WebHDFS call as ``user`` (default: the superuser), following the DataNode redirect; the JSON
        answer, or the raw bytes for ``OPEN``. Raises ``urllib.error.HTTPError`` on an error answer."""
        query = urllib.parse.urlencode({"op": op, "user.name": user or self.superuser, **params})
        url = f"http://{self.http_address}/webhdfs/v1{urllib.parse.quote(path)}?{query}"
        request = urllib.request.Request(url, method=method, data=None if data is None else b"")
        if data is not None:
            opener = urllib.request.build_opener(_NoRedirect())
            with opener.open(request, timeout=30) as answer:
                location = answer.headers["Location"]
            request = urllib.request.Request(location, method=method, data=data)
        with urllib.request.urlopen(request, timeout=30) as answer:
            body = answer.read()
        return body if op == "OPEN" else (json.loads(body) if body else None)

    def stop(self, timeout: float = 30.0) -> None:
        """Shut the cluster down cleanly (``quit`` on stdin), killing it if it does not exit in time."""
        process = self.process
        if process is None or process.poll() is not None:
            return
        try:
            assert process.stdin is not None
            process.stdin.write("quit\n")
            process.stdin.close()
            process.wait(timeout)
        except (OSError, subprocess.TimeoutExpired):
            self.kill()
        finally:
            if process.stdout is not None:
                process.stdout.close()


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """WebHDFS's first step answers 307 with the DataNode's address; the caller sends the data there itself."""

    def http_error_307(self, req, fp, code, msg, headers):  # type: ignore[no-untyped-def]
        return fp


def main(argv: list[str] | None = None) -> int:
    parser, run = common.command_line(
        __doc__, "resolve the cluster's and the HttpFS gateway's jars, compile the main (once)",
        "run a cluster in the foreground until Ctrl-C",
    )  # fmt: skip
    run.add_argument("--http-port", type=int, default=9870)
    run.add_argument("--datanodes", type=int, default=1)
    args = parser.parse_args(argv)
    if args.command == "fetch":
        return common.report_fetch(lambda: f"Hadoop {HADOOP_VERSION} MiniDFSCluster jars in {fetch()}, "
                                           f"HttpFS {HTTPFS_VERSION} in {HTTPFS_JARS}")  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="hdfs-") as folder:
        cluster = HdfsCluster(Path(folder), datanodes=args.datanodes, http_port=args.http_port)

        def started() -> None:
            cluster.start()
            print(f"HDFS {HADOOP_VERSION}: fs.defaultFS = {cluster.default_fs}, WebHDFS on http://{cluster.http_address}"
                  f" (started in {cluster.started_in:.1f} s); Ctrl-C stops it.")  # fmt: skip

        return common.serve([cluster], started)


if __name__ == "__main__":
    sys.exit(main())
