"""A real S3-compatible server for the S3 sink's tests: ``moto_server`` on 127.0.0.1, a process of its own.

Objects are read back with boto3 (moto's own client), independent of the obstore code under test. moto
keeps its state in memory: a stopped and restarted server starts empty, which the outage test takes into
account. The server is stopped by its PID, never by name.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.s3.moto_server import ACCESS_KEY, SECRET_KEY, MotoServer


@pytest.fixture
def moto(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[MotoServer]:
    """A fresh S3 server; credentials for it in the environment (which collector processes inherit)."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", ACCESS_KEY)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    server = MotoServer(tmp_path / "moto.log")
    server.start()
    try:
        yield server
    finally:
        server.stop()
