"""A real Cloud Storage emulator for the GCS sink's tests: ``fake-gcs-server`` (``tests/servers/gcs``) on 127.0.0.1.

One server serves the whole session (each test makes buckets of its own); the outage test starts one of its
own, since it stops it. ``STORAGE_EMULATOR_HOST`` points the collector at it, in this process and in the
collector processes the tests start (they inherit the environment). Objects are read back through the JSON
API with plain HTTP and decoded with Apache Avro, independent of the client library under test.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.servers.gcs.server import FakeGcsServer

_buckets = itertools.count(1)


@pytest.fixture(scope="session")
def gcs_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FakeGcsServer]:
    server = FakeGcsServer(tmp_path_factory.mktemp("fake-gcs"))
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def gcs(gcs_server: FakeGcsServer, monkeypatch: pytest.MonkeyPatch) -> FakeGcsServer:
    """The session's server, with the environment pointing at it and no Google credentials."""
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", gcs_server.endpoint)
    monkeypatch.delenv("GOOGLE_APPLICATION_CREDENTIALS", raising=False)
    return gcs_server


@pytest.fixture
def bucket(gcs: FakeGcsServer) -> str:
    """A new, empty bucket on the session's server."""
    name = f"clickstream-{next(_buckets)}"
    gcs.create_bucket(name)
    return name


def outage_server(folder: Path, monkeypatch: pytest.MonkeyPatch) -> FakeGcsServer:
    """A server of the test's own (it is stopped mid-test), with the environment pointing at it."""
    server = FakeGcsServer(folder)
    server.start()
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", server.endpoint)
    monkeypatch.delenv("GOOGLE_APPLICATION_CREDENTIALS", raising=False)
    return server
