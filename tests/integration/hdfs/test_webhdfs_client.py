"""The WebHDFS client's high availability against the real cluster: NameNodes tried in order, an unreachable one
and a standby skipped, the active one remembered; every failure named."""

from __future__ import annotations

import contextlib
import http.server
from collections.abc import Iterator
from typing import ClassVar

import pytest

from collector.sinks.webhdfs import WebHdfs, WebHdfsError
from tests.integration.hdfs.conftest import HdfsFolders
from tests.servers.common import serve_in_thread
from tests.servers.hdfs.cluster import free_port

pytestmark = pytest.mark.integration

STANDBY_ANSWER = (
    b'{"RemoteException":{"exception":"StandbyException","javaClassName":"org.apache.hadoop.ipc.StandbyException",'
    b'"message":"Operation category READ is not supported in state standby."}}'
)


class _Standby(http.server.BaseHTTPRequestHandler):
    """Answers every request as a standby NameNode's WebHDFS does (403 with a ``StandbyException``)."""

    requests: ClassVar[list[str]] = []

    def _answer(self) -> None:
        _Standby.requests.append(self.path)
        self.send_response(403)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(STANDBY_ANSWER)))
        self.end_headers()
        self.wfile.write(STANDBY_ANSWER)

    do_GET = do_PUT = do_POST = do_DELETE = _answer

    def log_message(self, format: str, *args: object) -> None:
        pass


class _Kerberized(http.server.BaseHTTPRequestHandler):
    """Answers as a NameNode with Kerberos on answers a request without credentials (401, SPNEGO asked)."""

    def do_GET(self) -> None:
        body = b"<html><body>Authentication required</body></html>"
        self.send_response(401)
        self.send_header("WWW-Authenticate", "Negotiate")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@contextlib.contextmanager
def _serving(handler: type[http.server.BaseHTTPRequestHandler]) -> Iterator[str]:
    with serve_in_thread(handler) as port:
        yield f"http://127.0.0.1:{port}"


@pytest.fixture
def standby() -> Iterator[str]:
    _Standby.requests = []
    with _serving(_Standby) as url:
        yield url


async def test_unreachable_and_standby_namenodes_are_skipped_and_the_active_one_remembered(
    hdfs_folders: HdfsFolders, standby: str
) -> None:
    down = f"http://127.0.0.1:{free_port()}"
    active = f"http://{hdfs_folders.cluster.http_address}"
    client = WebHdfs([down, standby, active], user=hdfs_folders.user)
    try:
        await client.create(f"{hdfs_folders.working}/f", b"data", replication=1)
        assert len(_Standby.requests) == 1
        assert await client.open(f"{hdfs_folders.working}/f") == b"data"
        assert len(_Standby.requests) == 1  # the active NameNode is asked first from then on
    finally:
        await client.aclose()


async def test_no_active_namenode_is_a_retriable_error_naming_each(standby: str) -> None:
    down = f"http://127.0.0.1:{free_port()}"
    client = WebHdfs([down, standby], user="divolte", timeout=2.0)
    try:
        with pytest.raises(WebHdfsError) as failed:
            await client.status("/x")
    finally:
        await client.aclose()
    assert failed.value.retriable
    message = str(failed.value)
    assert message.startswith(f"WebHDFS GETFILESTATUS /x: no NameNode answered as active ({down}: ConnectError")
    assert message.endswith(f"; {standby}: standby)")


async def test_a_permission_error_is_not_retriable_and_carries_no_stack_trace(hdfs_folders: HdfsFolders) -> None:
    client = WebHdfs([f"http://{hdfs_folders.cluster.http_address}"], user="mallory")
    try:
        with pytest.raises(WebHdfsError) as failed:
            await client.create(f"{hdfs_folders.working}/f", b"data")
    finally:
        await client.aclose()
    assert failed.value.exception == "AccessControlException"
    assert not failed.value.retriable
    assert str(failed.value).startswith(
        f"WebHDFS CREATE {hdfs_folders.working}/f: AccessControlException: Permission denied: user=mallory"
    )
    assert "\n" not in str(failed.value)


async def test_a_kerberos_cluster_without_a_token_says_what_to_configure() -> None:
    with _serving(_Kerberized) as url:
        client = WebHdfs([url], user="divolte")
        try:
            with pytest.raises(WebHdfsError) as failed:
                await client.status("/x")
        finally:
            await client.aclose()
    assert str(failed.value) == (
        "WebHDFS GETFILESTATUS /x: HTTP 401: authentication required: a Kerberos cluster needs a delegation token "
        "(webhdfs.delegation.token in divolte.global.hdfs.client, or WEBHDFS_DELEGATION_TOKEN)"
    )
    assert not failed.value.retriable
