"""A real HDFS for the HDFS sink's tests: one MiniDFSCluster per test session (``tests/servers/hdfs``), and an
HttpFS gateway in front of it (``tests/servers/hdfs/httpfs.py``), started for the session by the first test that
asks for ``httpfs_gateway``.

Every test works in a folder of its own on the shared cluster. Files are read back through WebHDFS with
``urllib`` (``HdfsCluster.webhdfs``) and Apache Avro, independent of the httpx client under test. Without Java,
Maven or the jars the tests fail, naming the command that fetches them. The cluster's and the gateway's start-up
times are written to the terminal summary (``-rA`` not needed: plain lines at the end).
"""

from __future__ import annotations

import io
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import cast

import avro.datafile
import avro.io
import pytest

from tests.servers.hdfs.cluster import FETCH_COMMAND, HTTPFS_VERSION, HdfsCluster, HdfsUnavailable, fetch
from tests.servers.hdfs.httpfs import HttpFsGateway

STARTED_IN: list[str] = []
"""Lines for the terminal summary: what started, in how many seconds."""


@pytest.fixture(scope="session")
def hdfs_cluster() -> Iterator[HdfsCluster]:
    try:
        fetch()
    except HdfsUnavailable as exc:
        pytest.fail(f"{exc}\nFetch the MiniDFSCluster first: {FETCH_COMMAND}", pytrace=False)
    with tempfile.TemporaryDirectory(prefix="hdfs-") as folder:
        cluster = HdfsCluster(Path(folder))
        cluster.start()
        STARTED_IN.append(f"HDFS MiniDFSCluster started in {cluster.started_in:.1f} s (once for the session)")
        try:
            yield cluster
        finally:
            cluster.stop()


@pytest.fixture(scope="session")
def httpfs_gateway(hdfs_cluster: HdfsCluster) -> Iterator[HttpFsGateway]:
    """A real HttpFS gateway in front of the session's cluster, in a JVM of its own."""
    with tempfile.TemporaryDirectory(prefix="httpfs-") as folder:
        try:
            gateway = HttpFsGateway(Path(folder), hdfs_cluster.default_fs)
        except HdfsUnavailable as exc:
            pytest.fail(str(exc), pytrace=False)
        gateway.start()
        STARTED_IN.append(
            f"HttpFS {HTTPFS_VERSION} gateway started in {gateway.started_in:.1f} s (once for the session)"
        )
        try:
            yield gateway
        finally:
            gateway.stop()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    for line in STARTED_IN:
        terminalreporter.write_line(line)


@dataclass
class HdfsFolders:
    """A test's own ``working`` and ``published`` folders on the cluster, owned by ``user``."""

    cluster: HdfsCluster
    root: str
    user: str

    @property
    def working(self) -> str:
        return f"{self.root}/inflight"

    @property
    def published(self) -> str:
        return f"{self.root}/published"

    def names(self, folder: str) -> list[str]:
        answer = self.cluster.webhdfs("GET", folder, "LISTSTATUS")
        return sorted(entry["pathSuffix"] for entry in answer["FileStatuses"]["FileStatus"])  # type: ignore[index]

    def status(self, path: str) -> dict[str, object]:
        return self.cluster.webhdfs("GET", path, "GETFILESTATUS")["FileStatus"]  # type: ignore[index,no-any-return]

    def read(self, path: str) -> bytes:
        return self.cluster.webhdfs("GET", path, "OPEN")  # type: ignore[return-value]

    def records(self, path: str) -> list[dict[str, object]]:
        """A file's records, read with Apache Avro (not the fastavro the collector uses)."""
        with avro.datafile.DataFileReader(io.BytesIO(self.read(path)), avro.io.DatumReader()) as reader:
            return [cast(dict[str, object], row) for row in reader]

    def published_records(self) -> list[dict[str, object]]:
        return [r for name in self.names(self.published) for r in self.records(f"{self.published}/{name}")]

    def chmod(self, path: str, permission: str) -> None:
        self.cluster.webhdfs("PUT", path, "SETPERMISSION", permission=permission)


@pytest.fixture
def hdfs_folders(hdfs_cluster: HdfsCluster) -> Iterator[HdfsFolders]:
    """``/t-<random>/inflight`` and ``/t-<random>/published``, owned by user ``divolte``. A NameNode the test
    stopped and left stopped (it failed between stop and start) is started again afterwards."""
    root = f"/t-{uuid.uuid4().hex[:10]}"
    for folder in (root, f"{root}/inflight", f"{root}/published"):
        hdfs_cluster.webhdfs("PUT", folder, "MKDIRS")
        hdfs_cluster.webhdfs("PUT", folder, "SETOWNER", owner="divolte")
    try:
        yield HdfsFolders(hdfs_cluster, root, "divolte")
    finally:
        hdfs_cluster.ensure_namenode()
