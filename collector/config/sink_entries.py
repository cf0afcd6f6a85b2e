"""Build one ``divolte.sinks.<name>`` entry of each sink type, with Divolte's per-type defaults.

Additions to Divolte's keys: ``file_strategy.codec`` (file and S3 sinks) and the ``s3`` sink type.

The Google sinks' retry settings keep Divolte's quirks: Cloud Storage's ``jitter_delay`` defaults to one
second only when no ``jitter_factor`` is given (setting both is refused by ``rules``), and Pub/Sub's
``max_rpc_timeout`` defaults to whatever ``initial_rpc_timeout`` is.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Literal, cast

from collector.config.reader import Section
from collector.config.settings import (
    FileStrategySettings,
    GcpsSinkSettings,
    GcsSinkSettings,
    HdfsSinkSettings,
    KafkaSinkSettings,
    RetrySettings,
    S3SinkSettings,
    SinkSettings,
)

SINK_TYPES = ("hdfs", "gcs", "kafka", "gcps", "s3")
KAFKA_MODES = ("naked", "confluent")
CODECS = ("null", "deflate", "snappy", "zstandard")
Codec = Literal["null", "deflate", "snappy", "zstandard"]
LONG_MAX = 2**63 - 1


def default_sinks(path: str, problems: list[str]) -> dict[str, SinkSettings]:
    """The sinks Divolte configures when ``divolte.sinks`` is absent: its replication-1 hdfs sink feeds
    local files out of the box."""
    hdfs = replace(_hdfs("hdfs", Section(f"{path}.hdfs", {"replication": 1}, problems)), replication_configured=False)
    kafka = _kafka("kafka", Section(f"{path}.kafka", {}, problems))
    gcps = _gcps("gcps", Section(f"{path}.gcps", {}, problems))
    return {"hdfs": hdfs, "kafka": kafka, "gcps": gcps}


def sink(kind: str, name: str, section: Section) -> SinkSettings | None:
    """The sink of type ``kind`` (already checked to be one of ``SINK_TYPES``); None when unusable."""
    built: SinkSettings | None
    if kind == "hdfs":
        built = _hdfs(name, section)
    elif kind == "gcs":
        built = _gcs(name, section)
    elif kind == "kafka":
        built = _kafka(name, section)
    elif kind == "s3":
        built = _s3(name, section)
    else:
        built = _gcps(name, section)
    section.finish()
    return built


def _hdfs(name: str, section: Section) -> HdfsSinkSettings:
    d = HdfsSinkSettings(name=name)
    replication = section.optional_integer("replication", maximum=32767)
    return HdfsSinkSettings(
        name=name,
        replication=d.replication if replication is None else replication,
        replication_configured=replication is not None,
        file_strategy=_file_strategy(section.section("file_strategy")),
    )


def _gcs(name: str, section: Section) -> GcsSinkSettings | None:
    bucket = section.optional_string("bucket")
    file_strategy = _file_strategy(section.section("file_strategy"))
    retry_settings = _gcs_retry(section.section("retry_settings"))
    local_dir = section.string("local_dir", GcsSinkSettings(name=name, bucket="").local_dir)
    if bucket is None:
        section.problem("bucket", 'missing; name the Cloud Storage bucket, e.g. bucket = "my-clickstream"')
        return None
    return GcsSinkSettings(
        name=name, bucket=bucket, file_strategy=file_strategy, retry_settings=retry_settings, local_dir=local_dir
    )


def _s3(name: str, section: Section) -> S3SinkSettings | None:
    d = S3SinkSettings(name=name, bucket="")
    bucket = section.optional_string("bucket")
    prefix = section.string("prefix", d.prefix).strip("/")
    key_pattern = section.string("key_pattern", d.key_pattern)
    region = section.optional_string("region")
    endpoint = section.optional_string("endpoint")
    file_strategy = _file_strategy(section.section("file_strategy"), publish_dir=False)
    retry = section.section("retry_settings")
    retry_settings = RetrySettings(
        initial_retry_delay=retry.duration("initial_retry_delay", d.retry_settings.initial_retry_delay),
        retry_delay_multiplier=retry.number("retry_delay_multiplier", d.retry_settings.retry_delay_multiplier,
                                            minimum=1.0),
        max_retry_delay=retry.duration("max_retry_delay", d.retry_settings.max_retry_delay),
    )  # fmt: skip
    retry.finish()
    if not bucket:
        section.problem("bucket", 'missing; name the S3 bucket, e.g. bucket = "my-clickstream"')
        return None
    return S3SinkSettings(
        name=name,
        bucket=bucket,
        prefix=prefix + "/" if prefix else "",
        key_pattern=key_pattern,
        region=region,
        endpoint=endpoint,
        file_strategy=file_strategy,
        retry_settings=retry_settings,
    )


def _kafka(name: str, section: Section) -> KafkaSinkSettings:
    d = KafkaSinkSettings(name=name)
    topic = section.string("topic", d.topic)
    mode = section.choice("mode", d.mode, KAFKA_MODES)
    return KafkaSinkSettings(name=name, topic=topic, mode=cast(Literal["naked", "confluent"], mode))


def _gcps(name: str, section: Section) -> GcpsSinkSettings:
    d = GcpsSinkSettings(name=name)
    batching = section.section("batching_settings")
    batching_settings = {
        "element_count_threshold": float(batching.integer("element_count_threshold", 100, maximum=LONG_MAX)),
        "request_bytes_threshold": float(batching.integer("request_bytes_threshold", 1000, maximum=LONG_MAX)),
        "delay_threshold": batching.duration("delay_threshold", 0.001),
    }
    batching.finish()
    return GcpsSinkSettings(
        name=name,
        topic=section.string("topic", d.topic),
        retry_settings=_gcps_retry(section.section("retry_settings")),
        batching_settings=batching_settings,
    )


def _file_strategy(section: Section, *, publish_dir: bool = True) -> FileStrategySettings:
    """``file_strategy``; without ``publish_dir`` for S3 sinks, whose files are published to the bucket."""
    d = FileStrategySettings()
    result = FileStrategySettings(
        roll_every=section.duration("roll_every", d.roll_every),
        sync_file_after_records=section.integer("sync_file_after_records", d.sync_file_after_records),
        sync_file_after_duration=section.duration("sync_file_after_duration", d.sync_file_after_duration),
        working_dir=section.string("working_dir", d.working_dir),
        publish_dir=section.string("publish_dir", d.publish_dir) if publish_dir else d.publish_dir,
        codec=cast(Codec, section.choice("codec", d.codec, CODECS)),
    )
    section.finish()
    return result


def _gcs_retry(section: Section) -> RetrySettings:
    """Cloud Storage retries: Divolte's defaults (10 minutes in all, 1 s doubling up to 64 s, 1 s jitter)."""
    jitter_delay = section.optional_duration("jitter_delay")
    jitter_factor = section.optional_number("jitter_factor", maximum=1.0)
    result = RetrySettings(
        max_attempts=section.integer("max_attempts", 0, minimum=0),
        total_timeout=section.duration("total_timeout", 600.0),
        initial_retry_delay=section.duration("initial_retry_delay", 1.0),
        retry_delay_multiplier=section.number("retry_delay_multiplier", 2.0, minimum=1.0),
        max_retry_delay=section.duration("max_retry_delay", 64.0),
        jitter_delay=1.0 if jitter_delay is None and jitter_factor is None else jitter_delay,
        jitter_factor=jitter_factor,
    )
    section.finish()
    return result


def _gcps_retry(section: Section) -> RetrySettings:
    """Pub/Sub retries: Google's Pub/Sub defaults, except a 1-minute cap on the delay between attempts."""
    initial_rpc_timeout = section.duration("initial_rpc_timeout", 15.0)
    result = RetrySettings(
        max_attempts=section.integer("max_attempts", 0, minimum=0),
        total_timeout=section.duration("total_timeout", 10.0),
        initial_retry_delay=section.duration("initial_retry_delay", 0.005),
        retry_delay_multiplier=section.number("retry_delay_multiplier", 2.0, minimum=1.0),
        max_retry_delay=section.duration("max_retry_delay", 60.0),
        initial_rpc_timeout=initial_rpc_timeout,
        rpc_timeout_multiplier=section.number("rpc_timeout_multiplier", 2.0, minimum=1.0),
        max_rpc_timeout=section.duration("max_rpc_timeout", initial_rpc_timeout),
    )
    section.finish()
    return result
