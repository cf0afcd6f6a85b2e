"""Topologies run for real: every source's events reach exactly its mappings' sinks.

Each topology in tests/data/configs (several sources, sinks and mappings; shared sources; shared sinks) is
wrapped in a file that includes it and points every file sink at its own temporary directories. One
event goes to every browser source; the published files of each sink must hold exactly the records the
mapping graph implies (a sink fed by two mappings of one source gets the event twice, as in Divolte).
"""

from __future__ import annotations

import signal
from pathlib import Path

import fastavro
import httpx
import pytest

from collector.config import load
from collector.config.settings import BrowserSourceSettings, HdfsSinkSettings
from tests.integration.collector_process import StartCollector
from tests.integration.events import BROWSER_HEADERS, checksum_case
from tests.paths import CONFIGS

pytestmark = pytest.mark.integration

TOPOLOGIES = [
    "many-to-many",
    "shared-sink",
    "shared-source",
    "two-pipelines",
    "one-source-one-sink",
    "two-prefixes",
    "idle-source",
    "two-file-sinks",
]
EVENT = checksum_case("sentinel")["query"]


def wrapped(name: str, tmp_path: Path) -> tuple[str, dict[str, int]]:
    """A configuration that includes the topology's with local sink directories, and the expected counts."""
    original = CONFIGS / f"{name}.conf"
    settings = load(original, env={})
    lines = [f'include file("{original}")', "divolte.global.hdfs.threads = 1"]
    for sink in settings.sinks.values():
        if isinstance(sink, HdfsSinkSettings):
            for kind in ("work", "publish"):
                (tmp_path / sink.name / kind).mkdir(parents=True)
            lines.append(  # "type" too: a sink that came from the section defaults needs it once the section exists
                f"divolte.sinks.{sink.name} {{ type = hdfs }}\n"
                f'divolte.sinks.{sink.name}.file_strategy {{ working_dir = "{tmp_path / sink.name / "work"}", '
                f'publish_dir = "{tmp_path / sink.name / "publish"}" }}'
            )
    expected = {s.name: 0 for s in settings.sinks.values() if isinstance(s, HdfsSinkSettings)}
    if settings.global_.hdfs.enabled:
        for mapping in settings.mappings.values():
            for sink_name in mapping.sinks:
                if sink_name in expected:
                    expected[sink_name] += len(mapping.sources)  # one event per source
    return "\n".join(lines) + "\n", expected


@pytest.mark.parametrize("name", TOPOLOGIES)
def test_topology(start_collector: StartCollector, tmp_path: Path, name: str) -> None:
    config, expected = wrapped(name, tmp_path)
    collector = start_collector(config)
    settings = load(CONFIGS / f"{name}.conf", env={})
    with httpx.Client(base_url=collector.base_url, headers=BROWSER_HEADERS) as client:
        for source in settings.sources.values():
            assert isinstance(source, BrowserSourceSettings)
            response = client.get(f"{source.prefix}{source.event_suffix}?{EVENT}")
            assert response.status_code == 200, (source.name, response.status_code)
            assert client.get(f"{source.prefix}{source.javascript.name}").status_code == 200
    assert collector.stop(signal.SIGTERM) == 0, collector.log()
    counts = {}
    for sink in expected:
        records: list[object] = []
        for path in (tmp_path / sink / "publish").glob("*.avro"):
            with open(path, "rb") as handle:
                records.extend(fastavro.reader(handle))
        counts[sink] = len(records)
    assert counts == expected
    # idle-source has no mappings and no sinks: its source must still answer (checked above).
    assert sum(counts.values()) > 0 or name == "idle-source"


def test_many_to_many_counts_by_hand(tmp_path: Path) -> None:
    """The graph arithmetic above, checked once by hand (as Divolte's ServerSinkSourceConfigurationTest does)."""
    _, expected = wrapped("many-to-many", tmp_path)
    assert expected == {"raw": 4, "sessions": 3, "audit": 4, "exports": 3}
