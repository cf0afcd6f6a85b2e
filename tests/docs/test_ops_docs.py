"""The operations docs stay true: the dashboard queries only series the collector exports; manifests parse."""

from __future__ import annotations

import json
import re
from pathlib import Path

import yaml
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from collector import metrics as metrics_module
from collector.app import Collector
from collector.config import load
from collector.metrics import CollectorMetrics, registry_for
from tests.geodb import city_record as _city_record
from tests.geodb import write_db as _write_db
from tests.paths import REPO


def exported_series(tmp_path: Path) -> set[str]:
    """Every series family a collector exports (with a GeoIP database, so that its age is exported too)."""
    database = tmp_path / "city.mmdb"
    _write_db(database, {"1.2.3.0/24": _city_record()})
    settings = load(None, env={}, overrides={"divolte.global.mapper.ip2geo_database": str(database)})
    names = set()
    for family in CollectorMetrics(Collector(settings)).collect():
        names.add(family.name + ("_total" if family.type == "counter" else ""))
    for family in text_string_to_metric_families(generate_latest(registry_for(Collector(settings))).decode()):
        names.add(family.name if family.type != "counter" else family.name + "_total")  # process_* series
    return names


def test_dashboard_queries_exported_series(tmp_path: Path) -> None:
    dashboard = json.loads((REPO / "docs" / "grafana-dashboard.json").read_text())
    queried = {
        re.sub(r"_(bucket|sum|count)$", "", name)
        for panel in dashboard["panels"]
        for target in panel["targets"]
        for name in re.findall(r"\b(divolte_\w+|process_\w+)", target["expr"])
    }
    exported = exported_series(tmp_path)
    assert queried, "no queries found"
    assert queried <= exported, queried - exported


def test_kubernetes_manifests_parse_and_probe_the_right_paths() -> None:
    documents = list(yaml.safe_load_all((REPO / "docs" / "kubernetes.yaml").read_text()))
    kinds = [d["kind"] for d in documents]
    assert kinds == ["ConfigMap", "Deployment", "Service", "PodDisruptionBudget"]
    container = documents[1]["spec"]["template"]["spec"]["containers"][0]
    assert container["readinessProbe"]["httpGet"]["path"] == "/ready"
    assert container["livenessProbe"]["httpGet"]["path"] == "/ping"
    assert "divolte-collector.conf" in documents[0]["data"]
    # one worker process per core of the CPU limit (a quota: processes = auto would see the node's cores)
    processes = next(e for e in container["env"] if e["name"] == "DIVOLTE_PROCESSES")
    assert processes["valueFrom"]["resourceFieldRef"] == {"resource": "limits.cpu", "divisor": "1"}
    assert container["resources"]["limits"]["cpu"] == container["resources"]["requests"]["cpu"]


def test_every_exported_series_is_listed_in_the_metrics_docstring(tmp_path: Path) -> None:
    """``collector/metrics.py``'s docstring is the list operators read; a new series must be added there."""
    documented = set(re.findall(r"\b([a-z][a-z0-9_]+)", metrics_module.__doc__ or ""))
    exported = {name.removeprefix("divolte_") for name in exported_series(tmp_path) if name.startswith("divolte_")}
    assert {"sink_records_dead_lettered_total", "task_failures_total", "sink_failing_seconds"} <= exported
    assert exported <= documented, exported - documented
