"""The fault matrix for the GCS sink against a real Cloud Storage emulator, fake-gcs-server (see
``tests/integration/faults.py``).

Stages: the file layer the GCS sink builds its files with (open, write, sync, close: publishing into the upload
folder) and the upload itself; a cell's records count once they are objects in the bucket.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import aiohttp
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
from tests.servers.gcs.server import FakeGcsServer

pytestmark = pytest.mark.integration

STAGES = ("open", "write", "sync", "upload", "close", "heartbeat")
SEAMS = {
    "open": ("_open_blocking", True),
    "write": ("write_batch", False),
    "sync": ("_sync_blocking", True),
    "upload": ("_put", False),
    "close": ("_publish_blocking", True),  # armed when the sink starts closing
    "heartbeat": ("heartbeat", False),
}
BUCKET = "matrix"
SERVER: FakeGcsServer | None = None


def library_error(stage: str) -> Exception:
    if stage == "upload":
        return aiohttp.ClientConnectionError("injected by the fault matrix")
    return ValueError("I/O operation on closed file.")


def config(cell: Cell) -> str:
    roll = "1 hour" if cell.stage == "close" else "300 milliseconds"
    return f"""
divolte {{
  global.supervision.write_timeout = {int(WRITE_TIMEOUT * 1000)} milliseconds
  global.gcs.enabled = true
  sources.browser.type = browser
  sinks.{cell.name} {{
    type = gcs
    bucket = {BUCKET}
    local_dir = "{cell.folder / "local"}"
    file_strategy {{
      publish_dir = {cell.name}
      roll_every = {roll}
      sync_file_after_records = 1
      sync_file_after_duration = 100 milliseconds
    }}
    retry_settings {{ initial_retry_delay = 100 milliseconds, max_retry_delay = 500 milliseconds }}
  }}
  mappings.m {{ sources = [browser], sinks = [{cell.name}] }}
}}
"""


async def uploaded(cell: Cell) -> set[tuple[int, int]]:
    assert SERVER is not None
    objects = await asyncio.to_thread(SERVER.objects, BUCKET, f"{cell.name}/")
    found: set[tuple[int, int]] = set()
    for data in objects.values():
        found |= avro_events(data)
    return found


def install(cell: Cell, app: FrontDoor) -> None:
    method, blocking = SEAMS[cell.stage]
    install_seam(cell, app.collector.topology.sinks[cell.name].sink, method, blocking=blocking)


@pytest.fixture(scope="module")
def gcs_matrix(gcs_server: FakeGcsServer) -> Iterator[dict[str, Outcome]]:
    global SERVER
    SERVER = gcs_server
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("STORAGE_EMULATOR_HOST", gcs_server.endpoint)
        patch.delenv("GOOGLE_APPLICATION_CREDENTIALS", raising=False)
        patch.setattr(runner_module, "HEARTBEAT_SECONDS", 0.1)  # rolls and syncs by time come sooner
        gcs_server.create_bucket(BUCKET)
        cells = []
        for stage in STAGES:
            for kind in FAULTS:
                folder = gcs_server.workdir / f"gcs-{stage}-{kind}"
                folder.mkdir()
                fault = Fault(kind, lambda stage=stage: library_error(stage))  # type: ignore[misc]
                cells.append(Cell("gcs", stage, fault, folder, config, uploaded, install))
        outcomes = asyncio.run(run_matrix(cells))
    report("gcs", outcomes)
    yield outcomes


@pytest.mark.parametrize("fault", FAULTS)
@pytest.mark.parametrize("stage", STAGES)
def test_gcs_sink_survives(gcs_matrix: dict[str, Outcome], stage: str, fault: str) -> None:
    outcome = gcs_matrix[f"gcs/{stage}/{fault}"]
    assert check(outcome) == [], outcome
