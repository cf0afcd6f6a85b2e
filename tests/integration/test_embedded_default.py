"""`make run`'s path: the embedded default (no configuration file), a real browser, a published record."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
from pathlib import Path
from typing import Any, cast

import fastavro
import httpx
import pytest

from tests.integration.collector_process import StartCollector

pytestmark = pytest.mark.integration

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def chromium_or_skip() -> str:
    if CHROMIUM is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is not installed; make system-deps installs it with apt")
        pytest.skip("chromium is not installed (apt-get install chromium)")
    return CHROMIUM


def load_page(url: str, profile: Path) -> None:
    """Load a page in headless Chromium and let its scripts run (virtual time: no fixed sleep)."""
    flags = [
        "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        f"--user-data-dir={profile}", "--virtual-time-budget=5000", "--dump-dom",
    ]  # fmt: skip
    subprocess.run([chromium_or_skip(), *flags, url], check=True, capture_output=True, timeout=60)


def test_embedded_default_records_a_browser_page_view(start_collector: StartCollector, tmp_path: Path) -> None:
    chromium_or_skip()
    collector = start_collector(None)  # no --config: the embedded default, files under ./data
    assert "Demo page" in collector.log() and "data/published" in collector.log()
    load_page(f"{collector.base_url}/", tmp_path / "profile")
    load_page(f"{collector.base_url}/", tmp_path / "profile")  # a reload: same browser profile, same party
    with httpx.Client(base_url=collector.base_url) as client:
        assert client.get("/ping").text == "pong"
    assert collector.stop(signal.SIGTERM) == 0, collector.log()

    published = sorted((tmp_path / "data" / "published").glob("*.avro"))
    assert published, collector.log()
    records: list[dict[str, Any]] = []
    for path in published:
        with open(path, "rb") as handle:
            records.extend(cast(dict[str, Any], record) for record in fastavro.reader(handle))
    page_views = [r for r in records if r["eventType"] == "pageView"]
    assert len(page_views) == 2, records
    first, second = sorted(page_views, key=lambda r: r["timestamp"])
    assert first["firstInSession"] is True and second["firstInSession"] is False
    assert first["partyId"] == second["partyId"] and first["sessionId"] == second["sessionId"]
    assert first["pageViewId"] != second["pageViewId"]
    assert first["location"] == f"{collector.base_url}/"
    assert first["detectedCorruption"] is False and first["detectedDuplicate"] is False
    assert first["userAgentString"] and "Chrome" in first["userAgentString"]
    assert first["remoteHost"] == "127.0.0.1"
    assert not list((tmp_path / "data" / "inflight").iterdir())
