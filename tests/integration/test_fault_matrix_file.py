"""The fault matrix for the file sink on real disk (see ``tests/integration/faults.py``)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from collector.app import FrontDoor
from collector.sinks import runner as runner_module
from tests.integration.faults import (
    FAULTS,
    WRITE_TIMEOUT,
    Cell,
    Fault,
    Outcome,
    avro_events,
    check,
    install_seam,
    report,
    run_matrix,
)

pytestmark = pytest.mark.integration

STAGES = ("open", "write", "sync", "publish", "close", "heartbeat")
SEAMS = {  # stage -> the FileSink method that fails, and whether it runs in a worker thread
    "open": ("_open_blocking", True),
    "write": ("write_batch", False),
    "sync": ("_sync_blocking", True),
    "publish": ("_publish_blocking", True),
    "close": ("_publish_blocking", True),  # armed when the sink starts closing
    "heartbeat": ("heartbeat", False),
}


def library_error() -> Exception:
    return ValueError("I/O operation on closed file.")  # what Python's io raises on a file closed under it


def config(cell: Cell) -> str:
    work, publish = cell.folder / "work", cell.folder / "publish"
    work.mkdir(exist_ok=True)
    publish.mkdir(exist_ok=True)
    roll = "1 hour" if cell.stage == "close" else "300 milliseconds"
    return f"""
divolte {{
  global {{
    hdfs {{ enabled = true, threads = 1 }}
    supervision.write_timeout = {int(WRITE_TIMEOUT * 1000)} milliseconds
  }}
  sources.browser.type = browser
  sinks.{cell.name} {{
    type = hdfs
    file_strategy {{
      working_dir = "{work}"
      publish_dir = "{publish}"
      roll_every = {roll}
      sync_file_after_records = 1
      sync_file_after_duration = 100 milliseconds
    }}
  }}
  mappings.m {{ sources = [browser], sinks = [{cell.name}] }}
}}
"""


async def published(cell: Cell) -> set[tuple[int, int]]:
    found: set[tuple[int, int]] = set()
    for path in sorted((cell.folder / "publish").glob("*.avro")):
        found |= avro_events(path.read_bytes())
    return found


def install(cell: Cell, app: FrontDoor) -> None:
    method, blocking = SEAMS[cell.stage]
    install_seam(cell, app.collector.topology.sinks[cell.name].sink, method, blocking=blocking)


@pytest.fixture(scope="module")
def file_matrix(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Outcome]]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(runner_module, "HEARTBEAT_SECONDS", 0.1)  # rolls and syncs by time come sooner
        cells = []
        for stage in STAGES:
            for kind in FAULTS:
                folder = tmp_path_factory.mktemp(f"file-{stage}-{kind}")
                cells.append(Cell("file", stage, Fault(kind, library_error), folder, config, published, install))
        outcomes = asyncio.run(run_matrix(cells))
    report("file", outcomes)
    yield outcomes


@pytest.mark.parametrize("fault", FAULTS)
@pytest.mark.parametrize("stage", STAGES)
def test_file_sink_survives(file_matrix: dict[str, Outcome], stage: str, fault: str) -> None:
    outcome = file_matrix[f"file/{stage}/{fault}"]
    assert check(outcome) == [], outcome
