"""``divolte-collector replay``: send a Kafka sink's dead-letter files to its topic again, once what refused
them is fixed (e.g. the topic's ``max.message.bytes`` raised).

Each dead-letter file (``collector.sinks.deadletter``) names its sink; the sink's topic and mode and the
producer settings come from the collector's configuration (``--config``, as for ``serve``). Records are sent
through the collector's own Kafka sink, in file order, with their original key (the party id) and timestamp.
A file whose records all arrived is renamed to ``<name>.replayed`` (it no longer counts against the folder's
limit; delete it when you like). Records refused again are written to a new dead-letter file with the new
reason, and the old file is renamed likewise, so a second replay never sends a record twice. While Kafka
cannot be reached, replay retries for ``--timeout`` seconds, then leaves the file as it was.

Exit status 1 when any file was not replayed completely.
"""

from __future__ import annotations

import asyncio
import io
import sys
import time
from pathlib import Path
from typing import IO, Any

import fastavro
import orjson

from collector.config.settings import KafkaSinkSettings, Settings
from collector.errors import RecordsRejected, SinkError
from collector.events import EncodedRecord
from collector.pipeline.topology import kafka_confluent_id
from collector.sinks.deadletter import META_RECORDS, META_SINK, DeadLetters
from collector.sinks.kafka import KafkaConnection, KafkaSink
from collector.sinks.kafka_config import producer_options

RETRY_SECONDS = 1.0


class ReplayError(Exception):
    """A file that cannot be replayed; the message names it and says why."""


def read_dead_letters(path: Path) -> tuple[str, str, list[EncodedRecord]]:
    """(sink name, writer schema JSON, records as the sink had them) of one dead-letter file."""
    try:
        reader = fastavro.reader(io.BytesIO(path.read_bytes()))
        metadata = reader.metadata
        values: list[Any] = list(reader)
    except (OSError, ValueError, EOFError) as exc:
        raise ReplayError(f"{path}: not a readable Avro file: {exc}") from exc
    if META_SINK not in metadata or META_RECORDS not in metadata:
        raise ReplayError(f"{path}: not a dead-letter file (no {META_SINK} / {META_RECORDS} metadata)")
    keys = orjson.loads(metadata[META_RECORDS])
    if len(keys) != len(values):
        raise ReplayError(f"{path}: {len(values)} records but {len(keys)} keys in {META_RECORDS}")
    schema = reader.writer_schema
    records = []
    for key, value in zip(keys, values, strict=True):
        payload = io.BytesIO()
        fastavro.schemaless_writer(payload, schema, value)  # Avro's binary encoding is canonical: the same bytes
        records.append(EncodedRecord(key["party_id"], int(key["timestamp"]), payload.getvalue()))
    return metadata[META_SINK], metadata["avro.schema"], records


async def _deliver(sink: KafkaSink, records: list[EncodedRecord], timeout: float) -> RecordsRejected | None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            await sink.write_batch(records)
            return None
        except RecordsRejected as rejected:
            return rejected
        except SinkError as exc:
            if not exc.retriable or time.monotonic() >= deadline:
                raise ReplayError(f"not delivered: {exc}") from exc
            await asyncio.sleep(RETRY_SECONDS)


async def replay_file(
    path: Path, settings: Settings, connection: KafkaConnection, timeout: float, out: IO[str]
) -> None:
    name, schema_json, records = read_dead_letters(path)
    sink_settings = settings.sinks.get(name)
    if not isinstance(sink_settings, KafkaSinkSettings):
        raise ReplayError(f"{path}: the configuration has no Kafka sink '{name}'")
    sink = KafkaSink(name, sink_settings.topic, connection, confluent_id=kafka_confluent_id(settings, sink_settings))
    await sink.start()
    try:
        rejected = await _deliver(sink, records, timeout)
    except ReplayError as exc:
        raise ReplayError(f"{path}: {exc}") from exc
    finally:
        await sink.aclose()
    delivered = len(records) - (len(rejected.records) if rejected else 0)
    if rejected is not None:
        kept = DeadLetters(name, path.parent, schema_json, sys.maxsize).store(rejected)
        if kept is None:
            raise ReplayError(f"{path}: {len(rejected.records)} records refused again and not kept ({rejected})")
        print(f"{path}: {len(rejected.records)} records refused again, kept in {kept}: {rejected}", file=out)
    path.rename(path.with_name(path.name + ".replayed"))
    print(f"{path}: {delivered} records sent to topic '{sink_settings.topic}'", file=out)


async def replay(files: list[str], settings: Settings, timeout: float, out: IO[str], err: IO[str]) -> int:
    connection = KafkaConnection(producer_options(settings.global_.kafka.producer))
    connection.acquire()  # one producer for every file
    status = 0
    try:
        for file in files:
            try:
                await replay_file(Path(file), settings, connection, timeout, out)
            except ReplayError as exc:
                print(f"Error: {exc}", file=err)
                status = 1
    finally:
        await connection.release("replay")
    return status
