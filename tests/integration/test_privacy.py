"""Privacy options end to end: anonymised addresses in records, GeoIP on the full address, opt-out signals."""

from __future__ import annotations

import json
import signal
from pathlib import Path
from typing import cast

import fastavro
import httpx
import pytest

from tests.geodb import city_record as _city_record
from tests.geodb import write_db as _write_db
from tests.integration.collector_process import StartCollector
from tests.integration.events import BROWSER_HEADERS, checksum_case

pytestmark = pytest.mark.integration

SCHEMA = {"type": "record", "name": "Private", "fields": [
    {"name": "remoteHost", "type": "string"},
    {"name": "country", "type": ["null", "string"], "default": None},
    {"name": "eventType", "type": ["null", "string"], "default": None},
]}  # fmt: skip
MAPPING = """
map_(remoteHost()).onto('remoteHost')
map_(ip2geo().countryCode()).onto('country')
map_(eventType()).onto('eventType')
"""


def run(start_collector: StartCollector, tmp_path: Path, privacy: str) -> list[dict[str, object]]:
    for name in ("work", "publish"):
        (tmp_path / name).mkdir()
    (tmp_path / "schema.avsc").write_text(json.dumps(SCHEMA))
    (tmp_path / "mapping.py").write_text(MAPPING)
    _write_db(tmp_path / "geo.mmdb", {"1.2.3.4/32": _city_record(), "2001:db8::1/128": _city_record()})
    collector = start_collector(f"""
divolte {{
  global {{
    server.use_x_forwarded_for = true
    mapper.ip2geo_database = "{tmp_path / "geo.mmdb"}"
    hdfs.threads = 1
    privacy {{ {privacy} }}
  }}
  sources.browser.type = browser
  sinks.files.type = hdfs
  sinks.files.file_strategy {{ working_dir = "{tmp_path / "work"}", publish_dir = "{tmp_path / "publish"}" }}
  mappings.m {{
    sources = [browser], sinks = [files]
    schema_file = "{tmp_path / "schema.avsc"}", mapping_script_file = "{tmp_path / "mapping.py"}"
  }}
}}
""")
    query = checksum_case("sentinel")["query"]
    with httpx.Client(base_url=collector.base_url, headers=BROWSER_HEADERS) as client:
        for forwarded, extra in [("1.2.3.4", {}), ("2001:db8::1", {}), ("1.2.3.4", {"Sec-GPC": "1"}),
                                 ("1.2.3.4", {"DNT": "1"})]:  # fmt: skip
            assert client.get(f"/csc-event?{query}", headers={"X-Forwarded-For": forwarded, **extra}).status_code == 200
    assert collector.stop(signal.SIGTERM) == 0, collector.log()
    records: list[dict[str, object]] = []
    for path in (tmp_path / "publish").glob("*.avro"):
        with open(path, "rb") as handle:
            records.extend(cast(dict[str, object], record) for record in fastavro.reader(handle))
    return records


def test_anonymised_addresses_with_geo_on_the_full_address(start_collector: StartCollector, tmp_path: Path) -> None:
    records = run(start_collector, tmp_path, "anonymise_ip = true, honour_gpc = true")
    assert [(r["remoteHost"], r["country"]) for r in records] == [
        ("1.2.3.0", "NL"), ("2001:db8:0:0:0:0:0:0", "NL"), ("1.2.3.0", "NL"),  # the GPC event is gone; DNT kept
    ]  # fmt: skip


def test_geo_on_the_anonymised_address_and_dnt(start_collector: StartCollector, tmp_path: Path) -> None:
    records = run(start_collector, tmp_path, "anonymise_ip = true, ip2geo_uses_full_ip = false, honour_dnt = true")
    assert [(r["remoteHost"], r["country"]) for r in records] == [
        ("1.2.3.0", None), ("2001:db8:0:0:0:0:0:0", None), ("1.2.3.0", None),  # the DNT event is gone; GPC kept
    ]  # fmt: skip


def test_off_by_default(start_collector: StartCollector, tmp_path: Path) -> None:
    records = run(start_collector, tmp_path, "")
    assert [r["remoteHost"] for r in records] == ["1.2.3.4", "2001:db8:0:0:0:0:0:1", "1.2.3.4", "1.2.3.4"]
