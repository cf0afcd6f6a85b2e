"""The fault matrix for the S3 sink against a real S3 server, moto (see ``tests/integration/faults.py``).

Stages: the file layer the S3 sink builds its files with (open, write, sync, close: publishing into the upload
folder) and the upload itself; a cell's records count once they are objects in the bucket.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import obstore.exceptions
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
from tests.integration.s3.moto_server import ACCESS_KEY, REGION, SECRET_KEY, MotoServer

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
SERVER: MotoServer | None = None


def library_error(stage: str) -> Exception:
    if stage == "upload":
        return obstore.exceptions.GenericError("injected by the fault matrix")
    return ValueError("I/O operation on closed file.")


def config(cell: Cell) -> str:
    assert SERVER is not None
    (cell.folder / "work").mkdir(exist_ok=True)
    roll = "1 hour" if cell.stage == "close" else "300 milliseconds"
    return f"""
divolte {{
  global.supervision.write_timeout = {int(WRITE_TIMEOUT * 1000)} milliseconds
  sources.browser.type = browser
  sinks.{cell.name} {{
    type = s3
    bucket = {BUCKET}
    prefix = {cell.name}
    region = {REGION}
    endpoint = "{SERVER.endpoint}"
    file_strategy {{
      working_dir = "{cell.folder / "work"}"
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
def s3_matrix(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Outcome]]:
    global SERVER
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("AWS_ACCESS_KEY_ID", ACCESS_KEY)
        patch.setenv("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
        patch.delenv("AWS_PROFILE", raising=False)
        patch.delenv("AWS_ENDPOINT_URL", raising=False)
        patch.setattr(runner_module, "HEARTBEAT_SECONDS", 0.1)  # rolls and syncs by time come sooner
        SERVER = MotoServer(Path(tmp_path_factory.mktemp("moto")) / "moto.log")
        SERVER.start()
        try:
            SERVER.create_bucket(BUCKET)
            cells = []
            for stage in STAGES:
                for kind in FAULTS:
                    folder = tmp_path_factory.mktemp(f"s3-{stage}-{kind}")
                    fault = Fault(kind, lambda stage=stage: library_error(stage))  # type: ignore[misc]
                    cells.append(Cell("s3", stage, fault, folder, config, uploaded, install))
            outcomes = asyncio.run(run_matrix(cells))
        finally:
            SERVER.stop()
    report("s3", outcomes)
    yield outcomes


@pytest.mark.parametrize("fault", FAULTS)
@pytest.mark.parametrize("stage", STAGES)
def test_s3_sink_survives(s3_matrix: dict[str, Outcome], stage: str, fault: str) -> None:
    outcome = s3_matrix[f"s3/{stage}/{fault}"]
    assert check(outcome) == [], outcome
