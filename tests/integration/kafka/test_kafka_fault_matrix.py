"""The fault matrix for the Kafka sink against the real broker (see ``tests/integration/faults.py``).

Stages: connect (starting the producer), write (sending a partition's record batch and awaiting the broker's
acknowledgement: Kafka has no separate flush, and nothing rolls), close (stopping the producer) and the
runner's heartbeat. Every cell has its own topic, spool and producer; the broker is the session's.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator

import pytest
from aiokafka.errors import KafkaConnectionError
from confluent_kafka.admin import NewTopic

from collector.app import FrontDoor
from collector.sinks.kafka import KafkaSink
from tests.integration.faults import (
    EVENTS,
    FAULTS,
    WRITE_TIMEOUT,
    Cell,
    Fault,
    Outcome,
    check,
    install_seam,
    report,
    run_matrix,
)  # fmt: skip
from tests.integration.kafka.records import Broker, decode, event_number

pytestmark = pytest.mark.integration

STAGES = ("connect", "write", "close", "heartbeat")


def library_error() -> Exception:
    error: Exception = KafkaConnectionError("injected by the fault matrix")
    return error


def topic_of(cell: Cell) -> str:
    return (cell.folder / "topic").read_text()


def install(cell: Cell, app: FrontDoor) -> None:
    sink = app.collector.topology.sinks[cell.name].sink
    assert isinstance(sink, KafkaSink)
    if cell.stage == "connect":
        install_seam(cell, sink.connection, "_connect", blocking=False)
    elif cell.stage == "write":
        install_seam(cell, sink, "_send", blocking=False)
    elif cell.stage == "heartbeat":
        install_seam(cell, sink, "heartbeat", blocking=False)
    else:  # close: the producer's stop, wrapped once the producer exists (when the sink starts closing)
        close = sink.aclose

        async def aclose() -> None:
            producer = sink.connection._producer
            if producer is not None:
                install_seam(cell, producer, "stop", blocking=False)
            await close()

        sink.aclose = aclose  # type: ignore[method-assign]


@pytest.fixture(scope="module")
def kafka_matrix(kafka: Broker, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Outcome]]:
    cells = []
    for stage in STAGES:
        for kind in FAULTS:
            folder = tmp_path_factory.mktemp(f"kafka-{stage}-{kind}")
            cell = Cell("kafka", stage, Fault(kind, library_error), folder, config, arrived, install)
            (folder / "topic").write_text(f"{cell.name}-{uuid.uuid4().hex[:8]}")
            cells.append(cell)
    admin = kafka.admin()
    # One partition: a write's failure surfaces at once, not after the other partitions' acknowledgements.
    topics = [NewTopic(topic_of(cell), num_partitions=1, replication_factor=1) for cell in cells]
    for future in admin.create_topics(topics).values():
        future.result(60)
    global BROKER
    BROKER = kafka
    outcomes = asyncio.run(run_matrix(cells))
    report("kafka", outcomes)
    yield outcomes


BROKER: Broker | None = None


def config(cell: Cell) -> str:
    assert BROKER is not None
    return f"""
divolte {{
  global {{
    kafka {{
      enabled = true
      spool_dir = "{cell.folder / "spool"}"
      producer {{ bootstrap.servers = "{BROKER.bootstrap}", request.timeout.ms = 5000 }}
    }}
    hdfs.enabled = false
    supervision.write_timeout = {int(WRITE_TIMEOUT * 1000)} milliseconds
  }}
  sources.browser.type = browser
  sinks.{cell.name} {{ type = kafka, topic = "{topic_of(cell)}" }}
  mappings.m {{ sources = [browser], sinks = [{cell.name}] }}
}}
"""


async def arrived(cell: Cell) -> set[tuple[int, int]]:
    assert BROKER is not None
    records = await asyncio.to_thread(BROKER.consume, topic_of(cell), EVENTS, 3.0, 0.0)
    return {event_number(decode(record.value)) for record in records}


@pytest.mark.parametrize("fault", FAULTS)
@pytest.mark.parametrize("stage", STAGES)
def test_kafka_sink_survives(kafka_matrix: dict[str, Outcome], stage: str, fault: str) -> None:
    outcome = kafka_matrix[f"kafka/{stage}/{fault}"]
    assert check(outcome) == [], outcome
