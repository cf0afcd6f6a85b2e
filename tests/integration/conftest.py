"""Fixtures that run the real collector as a separate process on 127.0.0.1, as a user would."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.paths import REPO


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def status_line(port: int, request: bytes, *, half_close: bool = False, timeout: float = 10.0) -> bytes:
    """Send raw bytes (no client-side validation) and return the response's status line (b"" if none came)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(request)
        if half_close:
            sock.shutdown(socket.SHUT_WR)
        data = b""
        while b"\r\n" not in data:
            chunk = sock.recv(4096)
            if not chunk:
                break
            data += chunk
    return data.split(b"\r\n", 1)[0]


@dataclass
class RunningCollector:
    process: subprocess.Popen[bytes]
    port: int
    workdir: Path
    log_path: Path

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30.0) -> int:
        """Signal the process and wait for it to exit; returns its exit code."""
        if self.process.poll() is None:
            self.process.send_signal(sig)
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise AssertionError(f"collector did not stop within {timeout} s:\n{self.log()}") from None


StartCollector = Callable[..., RunningCollector]


@pytest.fixture
def start_collector(tmp_path: Path) -> Iterator[StartCollector]:
    """Start ``divolte-collector`` with a configuration text (None: embedded default) in ``tmp_path``."""
    started: list[RunningCollector] = []

    def start(config: str | None = None, *, args: list[str] | None = None, wait: bool = True) -> RunningCollector:
        port = free_port()
        command = [sys.executable, "-m", "collector.cli", "--port", str(port)]
        if config is not None:
            path = tmp_path / f"collector-{len(started)}.conf"
            path.write_text(config)
            command += ["--config", str(path)]
        command += args or []
        log_path = tmp_path / f"collector-{len(started)}.log"
        env = {**os.environ, "PYTHONPATH": str(REPO)}
        env.pop("DIVOLTE_CONF_DIR", None)
        with open(log_path, "wb") as log_file:
            process = subprocess.Popen(command, cwd=tmp_path, stdout=log_file, stderr=subprocess.STDOUT, env=env)
        running = RunningCollector(process, port, tmp_path, log_path)
        started.append(running)
        if wait:
            deadline = time.monotonic() + 30
            while True:
                if process.poll() is not None:
                    raise AssertionError(f"collector exited with {process.returncode}:\n{running.log()}")
                try:
                    if httpx.get(f"{running.base_url}/ping", timeout=1).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline:
                    raise AssertionError(f"collector did not answer /ping within 30 s:\n{running.log()}")
                time.sleep(0.05)
        return running

    yield start
    for running in started:
        if running.process.poll() is None:
            running.process.kill()
            running.process.wait()
    for running in started:  # no task of a real collector process died silently either
        assert "exception was never retrieved" not in running.log(), running.log()
