"""The real collector as a separate process on 127.0.0.1, as a user runs it, and raw-socket requests to it."""

from __future__ import annotations

import signal
import socket
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from tests.servers.common import free_port as free_port


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


def stop(collector: RunningCollector) -> None:
    """Stop with SIGTERM, as an orchestrator does; the collector must exit cleanly."""
    code = collector.stop(signal.SIGTERM)
    assert code == 0, collector.log()
