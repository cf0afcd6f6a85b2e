"""Compiles the configured sources, mappings and sinks into the routes events follow, once at start-up.

For each source: the mappings that read it, each with its map-and-encode step and the runners of its sinks. Sinks whose
type is disabled globally (``divolte.global.<type>.enabled = false``) are not built and mappings skip them,
as in Divolte. A sink type this collector does not implement yet is a start-up error, never a silent no-op.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import assert_never

from collector.avro.schemas import Schema, default_schema, load_schema
from collector.config.settings import (
    GcpsSinkSettings,
    GcsSinkSettings,
    HdfsSinkSettings,
    KafkaSinkSettings,
    MappingSettings,
    S3SinkSettings,
    Settings,
)
from collector.errors import ConfigError, MappingError
from collector.events import DivolteEvent
from collector.mapping.base import RecordMapping
from collector.mapping.default import DefaultMapping
from collector.mapping.groovy import load_any_mapping
from collector.mapping.vocabulary import Environment
from collector.sinks.deadletter import DeadLetters
from collector.sinks.file import FileSink
from collector.sinks.hdfs_config import hdfs_connection, is_remote
from collector.sinks.kafka import REFUSED_FOR_GOOD, KafkaConnection, KafkaSink
from collector.sinks.kafka_config import producer_options
from collector.sinks.runner import SinkRunner
from collector.sinks.s3 import S3Sink
from collector.sinks.spool import Spool


@dataclass(frozen=True, slots=True)
class MappingRoute:
    """One mapping as the processor runs it: map and encode once, offer the bytes to each sink."""

    name: str
    mapping: RecordMapping
    sinks: tuple[SinkRunner, ...]
    discard_corrupted: bool
    discard_duplicates: bool
    map_encoded: Callable[[DivolteEvent], bytes | None] = field(init=False)
    """``mapping.map_encoded``, looked up once here rather than once per event."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "map_encoded", self.mapping.map_encoded)  # frozen: set once, at construction


@dataclass(frozen=True, slots=True)
class Topology:
    routes: dict[str, tuple[MappingRoute, ...]]
    """Source name → the mappings that read it."""
    sinks: dict[str, SinkRunner]


def _build_mapping(settings: MappingSettings, environment: Environment) -> RecordMapping:
    """The built-in mapping, or the mapping file with its schema (Divolte ignores a schema without a script)."""
    if settings.mapping_script_file is None:
        return DefaultMapping(environment.user_agents)
    key = f"divolte.mappings.{settings.name}"
    try:
        schema = load_schema(settings.schema_file) if settings.schema_file else default_schema()
        return load_any_mapping(settings.mapping_script_file, schema, environment)
    except MappingError as exc:
        raise ConfigError(f"{key}: {exc}") from exc


def _enabled(settings: Settings, sink_type: str) -> bool:
    section = getattr(settings.global_, sink_type)
    return bool(section.enabled)


def kafka_confluent_id(settings: Settings, sink: KafkaSinkSettings) -> int | None:
    """The schema id framing the sink's messages in ``confluent`` mode; None in ``naked`` mode."""
    if sink.mode != "confluent":
        return None
    # the configuration rules checked that every mapping of the sink has the same id
    return next(
        m.confluent_id for m in settings.mappings.values() if sink.name in m.sinks and m.confluent_id is not None
    )


def _kafka_runner(
    settings: Settings, sink: KafkaSinkSettings, connection: KafkaConnection, schema: Schema
) -> SinkRunner:
    """A Kafka sink (sharing the process's one producer) behind a queue and, unless turned off, a spool, with a
    dead-letter folder for records the brokers refuse for good."""
    kafka = settings.global_.kafka
    confluent_id = kafka_confluent_id(settings, sink)
    spool = Spool(Path(kafka.spool_dir) / sink.name, kafka.spool_max_bytes) if kafka.spool_max_bytes > 0 else None
    kafka_sink = KafkaSink(sink.name, sink.topic, connection, confluent_id=confluent_id)
    dead_letter_dir = Path(kafka.dead_letter_dir) / sink.name if kafka.dead_letter_dir else None
    dead_letters = DeadLetters(
        sink.name, dead_letter_dir or Path(kafka.spool_dir) / sink.name / "dead-letter", schema.json,
        kafka.dead_letter_max_bytes, sorted(set(REFUSED_FOR_GOOD.values())),
    )  # fmt: skip
    return SinkRunner(
        kafka_sink, kafka.buffer_size * max(1, kafka.threads), spool, dead_letters, settings.global_.supervision
    )


def _hdfs_runner(settings: Settings, sink: HdfsSinkSettings, schema: Schema) -> SinkRunner:
    """A file sink on HDFS (WebHDFS) behind a queue and, unless turned off, a spool: the collector's spool folder
    (``divolte.global.kafka.spool_dir``/``spool_max_bytes``, per sink name) keeps records through an outage."""
    from collector.sinks.hdfs import HdfsSink  # httpx is imported only by collectors that write to HDFS
    from collector.sinks.webhdfs import WebHdfs

    hdfs, kafka = settings.global_.hdfs, settings.global_.kafka
    connection = hdfs_connection(hdfs.client or {})
    client = WebHdfs(connection.namenodes, user=connection.user, delegation=connection.delegation)
    spool = Spool(Path(kafka.spool_dir) / sink.name, kafka.spool_max_bytes) if kafka.spool_max_bytes > 0 else None
    hdfs_sink = HdfsSink(sink.name, sink.file_strategy, schema, hdfs.threads, client, connection,
                         replication=sink.replication, spool=spool,
                         ledger=Path(kafka.spool_dir) / f"{sink.name}.hdfs-leftovers.json")  # fmt: skip
    return SinkRunner(hdfs_sink, hdfs.buffer_size * max(1, hdfs.threads), spool, limits=settings.global_.supervision)


def build_topology(settings: Settings, environment: Environment) -> Topology:
    mappings: dict[str, RecordMapping] = {}
    problems: list[str] = []
    for name, mapping_settings in settings.mappings.items():
        try:
            mappings[name] = _build_mapping(mapping_settings, environment)
        except ConfigError as exc:
            problems.extend(exc.problems)
    if problems:
        raise ConfigError(problems)

    sink_schemas: dict[str, Schema] = {}
    for name, mapping_settings in settings.mappings.items():
        for sink_name in mapping_settings.sinks:
            sink_schemas.setdefault(sink_name, mappings[name].schema)

    runners: dict[str, SinkRunner] = {}
    limits = settings.global_.supervision
    kafka_connection: KafkaConnection | None = None
    for sink_name, schema in sink_schemas.items():
        sink_settings = settings.sinks[sink_name]
        if not _enabled(settings, sink_settings.type):
            continue
        if isinstance(sink_settings, HdfsSinkSettings) and is_remote(settings.global_.hdfs.client):
            try:
                runners[sink_name] = _hdfs_runner(settings, sink_settings, schema)
            except ConfigError as exc:
                problems.extend(p for p in exc.problems if p not in problems)
        elif isinstance(sink_settings, HdfsSinkSettings):
            hdfs = settings.global_.hdfs
            try:
                sink = FileSink(
                    sink_name, sink_settings.file_strategy, schema, hdfs.threads, write_timeout=limits.write_timeout
                )
            except ConfigError as exc:
                problems.extend(exc.problems)
                continue
            runners[sink_name] = SinkRunner(sink, hdfs.buffer_size * max(1, hdfs.threads), limits=limits)
        elif isinstance(sink_settings, S3SinkSettings):
            s3 = settings.global_.s3
            try:
                s3_sink = S3Sink(sink_settings, schema, s3.threads, write_timeout=limits.write_timeout)
            except ConfigError as exc:
                problems.extend(exc.problems)
                continue
            runners[sink_name] = SinkRunner(s3_sink, s3.buffer_size * max(1, s3.threads), limits=limits)
        elif isinstance(sink_settings, GcsSinkSettings):
            from collector.sinks.gcs import GcsSink  # aiohttp and gcloud-aio load only when a sink needs them

            gcs = settings.global_.gcs
            try:
                gcs_sink = GcsSink(sink_settings, schema, gcs.threads, write_timeout=limits.write_timeout)
            except ConfigError as exc:
                problems.extend(p for p in exc.problems if p not in problems)  # a bad credentials file: once
                continue
            runners[sink_name] = SinkRunner(gcs_sink, gcs.buffer_size * max(1, gcs.threads), limits=limits)
        elif isinstance(sink_settings, KafkaSinkSettings):
            try:
                producer = settings.global_.kafka.producer
                kafka_connection = kafka_connection or KafkaConnection(
                    producer_options(producer), write_timeout=limits.write_timeout
                )
            except ConfigError as exc:  # reported once, however many Kafka sinks there are
                problems.extend(p for p in exc.problems if p not in problems)
                continue
            runners[sink_name] = _kafka_runner(settings, sink_settings, kafka_connection, schema)
        elif isinstance(sink_settings, GcpsSinkSettings):
            from collector.sinks.pubsub import pubsub_runner  # Google's libraries load only when a sink needs them

            try:
                runners[sink_name] = pubsub_runner(settings, sink_settings, schema.json)
            except ConfigError as exc:  # unusable credentials: reported once, however many Pub/Sub sinks
                problems.extend(p for p in exc.problems if p not in problems)
        else:  # every sink type Divolte has is built above; a new settings class must get its branch
            assert_never(sink_settings)
    if problems:
        raise ConfigError(problems)

    routes: dict[str, list[MappingRoute]] = {name: [] for name in settings.sources}
    for name, mapping_settings in settings.mappings.items():
        mapping = mappings[name]
        route = MappingRoute(
            name=name,
            mapping=mapping,
            sinks=tuple(runners[s] for s in mapping_settings.sinks if s in runners),
            discard_corrupted=mapping_settings.discard_corrupted,
            discard_duplicates=mapping_settings.discard_duplicates,
        )
        for source in mapping_settings.sources:
            routes[source].append(route)
    return Topology({k: tuple(v) for k, v in routes.items()}, runners)
