"""/metrics scraped from the real server: every series the README lists is present and counts what happened."""

from __future__ import annotations

import signal
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.geodb import city_record as _city_record
from tests.geodb import write_db as _write_db
from tests.integration.conftest import StartCollector, free_port
from tests.integration.test_end_to_end import BROWSER_HEADERS, checksum_case, file_sink_config

pytestmark = pytest.mark.integration

SERIES = {
    "divolte_http_requests_total", "divolte_http_refused_total", "divolte_events_accepted_total",
    "divolte_events_processed_total", "divolte_events_corrupt_total", "divolte_events_duplicate_total",
    "divolte_events_discarded_total", "divolte_events_dropped_total", "divolte_queue_depth", "divolte_queue_capacity",
    "divolte_sink_records_written_total", "divolte_sink_retries_total", "divolte_sink_records_lost_total",
    "divolte_sink_healthy", "divolte_spool_bytes", "divolte_spool_records_total", "divolte_batch_duration_seconds",
    "divolte_sink_write_duration_seconds", "divolte_user_agent_cache_hits_total",
    "divolte_user_agent_cache_misses_total", "divolte_user_agent_cache_entries", "divolte_geoip_database_age_seconds",
    "divolte_ready", "process_resident_memory_bytes", "process_cpu_seconds_total",
}  # fmt: skip


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    out = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            out[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return out


def test_metrics_series_and_counts(start_collector: StartCollector, tmp_path: Path) -> None:
    database = tmp_path / "city.mmdb"
    _write_db(database, {"1.2.3.0/24": _city_record()})
    collector = start_collector(
        file_sink_config(tmp_path, f'mapper.ip2geo_database = "{database}"', mapping_extra="discard_corrupted = true")
    )
    with httpx.Client(base_url=collector.base_url, headers=BROWSER_HEADERS) as client:
        for _ in range(3):
            assert client.get(f"/csc-event?{checksum_case('sentinel')['query']}").status_code == 200
        assert client.get(f"/csc-event?{checksum_case('bad')['query']}").status_code == 200  # corrupt: discarded
        assert client.get("/csc-event?p=nonsense").status_code == 200  # incomplete: dropped
        assert client.post("/csc-event").status_code == 405
        assert client.get("/divolte.js").status_code == 200
        assert client.get("/nowhere").status_code == 404
        assert httpx.get(f"{collector.base_url}/csc-event?{'x' * 20000}").status_code == 414  # by the protocol
        text = client.get("/metrics").text
    missing = {name for name in SERIES if f"\n{name}" not in "\n" + text}
    assert not missing, missing
    values = samples(text)
    assert values[("divolte_http_requests_total", (("endpoint", "/csc-event"), ("status", "200")))] == 5
    assert values[("divolte_http_requests_total", (("endpoint", "/csc-event"), ("status", "405")))] == 1
    assert values[("divolte_http_requests_total", (("endpoint", "/divolte.js"), ("status", "200")))] == 1
    assert values[("divolte_http_requests_total", (("endpoint", "other"), ("status", "404")))] == 1
    assert values[("divolte_http_refused_total", (("reason", "url_too_long"),))] == 1
    assert values[("divolte_http_refused_total", (("reason", "header_timeout"),))] == 0
    assert values[("divolte_events_accepted_total", ())] == 5
    assert values[("divolte_events_processed_total", ())] == 4
    assert values[("divolte_events_duplicate_total", ())] == 2  # the same event three times: two repeats
    assert values[("divolte_events_corrupt_total", ())] == 1
    assert values[("divolte_events_discarded_total", (("mapping", "test"),))] == 1
    assert values[("divolte_events_dropped_total", (("reason", "invalid_party_id"),))] == 1
    assert values[("divolte_queue_capacity", (("queue", "intake"),))] > 0
    assert values[("divolte_ready", ())] == 1
    assert values[("divolte_user_agent_cache_misses_total", ())] == 1
    assert values[("divolte_geoip_database_age_seconds", ())] >= 0
    assert collector.stop(signal.SIGTERM) == 0


def test_metrics_on_their_own_port_or_off(start_collector: StartCollector, tmp_path: Path) -> None:
    port = free_port()
    collector = start_collector(file_sink_config(tmp_path, f"metrics.port = {port}"))
    assert httpx.get(f"{collector.base_url}/metrics").status_code == 404
    assert "divolte_events_accepted_total" in httpx.get(f"http://127.0.0.1:{port}/metrics").text
    assert collector.stop(signal.SIGTERM) == 0
    (tmp_path / "off").mkdir()
    off = start_collector(file_sink_config(tmp_path / "off", "metrics.enabled = false"))
    assert httpx.get(f"{off.base_url}/metrics").status_code == 404
    assert off.stop(signal.SIGTERM) == 0
