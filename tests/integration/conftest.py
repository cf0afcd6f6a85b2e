"""Fixtures that run the real collector as a separate process on 127.0.0.1, as a user would."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.integration.collector_process import RunningCollector, StartCollector, free_port
from tests.paths import REPO


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
