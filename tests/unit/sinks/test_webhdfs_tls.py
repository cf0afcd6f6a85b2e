"""``swebhdfs://`` (and ``HTTPS_ONLY``) against a NameNode whose certificate a private CA signed: refused with the
verification error named, and trusted once ``SSL_CERT_FILE`` names that CA, as the README says.

The server is a small HTTPS server in a thread answering ``GETFILESTATUS`` as WebHDFS does; what is tested is
the client's TLS set-up, which a MiniDFSCluster with HTTPS would not test any better."""

from __future__ import annotations

import http.server
import json
import ssl
from collections.abc import Iterator
from pathlib import Path

import pytest

from collector.sinks.hdfs_config import hdfs_connection
from collector.sinks.webhdfs import WebHdfs, WebHdfsError
from tests.servers.common import serve_in_thread
from tests.servers.kafka.secured import Certificates, make_certificates

STATUS = {"FileStatus": {"type": "DIRECTORY", "pathSuffix": "", "permission": "755", "replication": 0}}


class _NameNode(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = json.dumps(STATUS).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def https_namenode(tmp_path: Path) -> Iterator[tuple[int, Certificates]]:
    certificates = make_certificates(tmp_path / "tls")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(certificates.broker)
    with serve_in_thread(_NameNode, tls=context) as port:
        yield port, certificates


async def _status(port: int) -> object:
    connection = hdfs_connection({"fs.defaultFS": f"swebhdfs://127.0.0.1:{port}"}, {"HADOOP_USER_NAME": "divolte"})
    client = WebHdfs(connection.namenodes, user=connection.user)
    try:
        return await client.status("/divolte")
    finally:
        await client.aclose()


async def test_a_certificate_from_an_unknown_ca_is_refused_naming_the_verification_failure(
    https_namenode: tuple[int, Certificates], monkeypatch: pytest.MonkeyPatch
) -> None:
    port, _ = https_namenode
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    with pytest.raises(WebHdfsError, match="CERTIFICATE_VERIFY_FAILED") as refused:
        await _status(port)
    assert refused.value.retriable and f"https://127.0.0.1:{port}" in str(refused.value)


async def test_ssl_cert_file_names_the_private_ca_that_signed_the_namenodes_certificate(
    https_namenode: tuple[int, Certificates], monkeypatch: pytest.MonkeyPatch
) -> None:
    port, certificates = https_namenode
    monkeypatch.setenv("SSL_CERT_FILE", str(certificates.ca))
    assert await _status(port) == STATUS["FileStatus"]


async def test_another_ca_in_ssl_cert_file_is_still_refused(
    https_namenode: tuple[int, Certificates], monkeypatch: pytest.MonkeyPatch
) -> None:
    port, certificates = https_namenode
    monkeypatch.setenv("SSL_CERT_FILE", str(certificates.other_ca))
    with pytest.raises(WebHdfsError, match="CERTIFICATE_VERIFY_FAILED"):
        await _status(port)
