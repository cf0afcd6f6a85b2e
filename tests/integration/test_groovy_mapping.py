"""A Divolte ``mapping.groovy`` in a real collector: events over HTTP in, records of the custom schema out."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import urllib.parse
from pathlib import Path

import httpx
import pytest

from collector.protocol.base36 import to_base36
from collector.protocol.checksum import canonical_string, murmur3_32_signed
from collector.protocol.query import decode_query
from tests.integration.collector_process import StartCollector
from tests.integration.events import BROWSER_HEADERS
from tests.integration.file_sink import file_sink_config, read_published
from tests.paths import REPO
from tests.vectors import load_vectors

pytestmark = pytest.mark.integration

SHOP = "\n".join(
    [
        f'schema_file = "{REPO / "schemas" / "ShopEvent.avsc"}"',
        f'mapping_script_file = "{REPO / "mappings" / "shop.groovy"}"',
    ]
)


def signed_query(**params: str) -> str:
    """The vectors' base event with these parameters, and the checksum divolte.js would send (not corrupt)."""
    decoded = decode_query(load_vectors()["mapping"]["base_query"][1:].encode())
    decoded.update({key: [value] for key, value in params.items()})
    decoded["x"] = [to_base36(murmur3_32_signed(canonical_string(decoded).encode()))]
    return urllib.parse.urlencode({key: values[0] for key, values in decoded.items()})


def test_a_groovy_mapping_fills_its_schema(start_collector: StartCollector, tmp_path: Path) -> None:
    collector = start_collector(file_sink_config(tmp_path, mapping_extra=SHOP))
    with httpx.Client(base_url=collector.base_url) as client:
        page = "https://shop.example.com/shoes/p-123.html?q=running+shoes&utm_source=news"
        headers = {**BROWSER_HEADERS, "Cookie": "ab_experiment=checkout-v2"}
        query = signed_query(l=page, t="addToBasket", u="(ssku!A-1!jprice!12.5!)")
        assert client.get(f"/csc-event?{query}", headers=headers).status_code == 200
        assert client.get(f"/csc-event?{query}&x=tampered", headers=headers).status_code == 200  # corrupt
    assert collector.stop(signal.SIGTERM) == 0, collector.log()

    records = read_published(tmp_path, "com.example.clickstream.ShopEvent")
    basket, tampered = records
    assert (basket["host"], basket["path"], basket["searchTerm"]) == ("shop.example.com", "/shoes/p-123.html",
                                                                      "running shoes")  # fmt: skip
    assert (basket["category"], basket["productId"], basket["utmSource"]) == ("shoes", "p-123", "news")
    assert (basket["eventType"], basket["sku"], basket["price"]) == ("addToBasket", "A-1", 12.5)
    assert basket["experiment"] == "checkout-v2" and basket["language"] == "en-GB"
    assert basket["browser"] == "Chrome" and basket["suspicious"] is False
    assert tampered["suspicious"] is True  # `when corrupt().or(duplicate()) apply { map true onto 'suspicious' }`


def test_a_broken_groovy_mapping_stops_start_up(tmp_path: Path) -> None:
    broken = tmp_path / "broken.groovy"
    broken.write_text("mapping {\n    def u = parse location() to uri\n    map u.path() onto 'path'\n"
                      "    map u.host() && u.path() onto 'host'\n}\n")  # fmt: skip
    config = tmp_path / "c.conf"
    config.write_text(file_sink_config(tmp_path, mapping_extra=f'mapping_script_file = "{broken}"'))
    result = subprocess.run(
        [sys.executable, "-m", "collector.cli", "--config", str(config)],
        capture_output=True, text=True, timeout=60, cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(REPO)},
    )  # fmt: skip
    assert result.returncode == 1
    assert f"divolte.mappings.test: {broken}:4:18: the operator `&&` is not supported in a mapping" in result.stderr
