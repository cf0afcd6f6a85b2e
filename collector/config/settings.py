"""Typed, frozen settings: one dataclass per section of ``divolte-collector.conf``.

Field names are Divolte's snake_case keys, so ``divolte.global.server.port`` is
``settings.global_.server.port`` (``global`` is a Python keyword). Durations are float seconds. Every value
here has already been validated by ``collector.config.load``; code that receives a ``Settings`` never
re-checks it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

# --- global ------------------------------------------------------------------------------------------


MAX_URL_LENGTH = 1048576
"""Undertow's ``DEFAULT_MAX_HEADER_SIZE`` (1 MiB), which Divolte leaves as it is: Undertow closes a connection
whose request line and headers together exceed it, so no longer request target ever reached Divolte. Custom
events with large parameters make targets of tens of kilobytes that Divolte records."""


@dataclass(frozen=True, slots=True)
class ServerSettings:
    host: str | None = None
    """Bind address; None means loopback, as in Divolte."""
    port: int = 8290
    use_x_forwarded_for: bool = False
    serve_static_resources: bool = True
    debug_requests: bool = False
    shutdown_delay: float = 0.0
    shutdown_timeout: float = 120.0
    # Additions (not in Divolte): limits that keep hostile or broken clients from holding the server.
    max_url_length: int = 1048576
    """Longest request target (path and query) in bytes; longer requests get 414. The default and the most
    allowed are what Divolte's server accepts (``MAX_URL_LENGTH``)."""
    max_header_size: int = 65536
    """Most bytes of all request headers together; more gets 431."""
    max_headers: int = 100
    """Most request header lines; more gets 431."""
    request_header_timeout: float = 10.0
    """A connection must deliver a request's headers within this long of its first byte (or of opening)."""
    keep_alive_timeout: float = 30.0
    """How long an idle keep-alive connection is kept open between requests."""
    processes: int = 1
    """Worker processes serving this collector (``auto`` in the file: the usable cores); see
    ``collector.server.supervisor``. Divolte is one JVM that uses every core; one Python process uses one."""


@dataclass(frozen=True, slots=True)
class UserAgentParserSettings:
    type: Literal["non_updating", "online_updating", "caching_and_updating"] = "non_updating"
    cache_size: int = 1000


@dataclass(frozen=True, slots=True)
class MapperSettings:
    buffer_size: int = 1048576
    threads: int = 1
    duplicate_memory_size: int = 1000000
    user_agent_parser: UserAgentParserSettings = field(default_factory=UserAgentParserSettings)
    ip2geo_database: str | None = None


@dataclass(frozen=True, slots=True)
class SinkTypeSettings:
    """``divolte.global.<hdfs|gcs|s3>``: whether sinks of this type run, and their queue sizes."""

    enabled: bool = False
    threads: int = 1
    buffer_size: int = 1048576
    client: dict[str, str] | None = None
    """``hdfs.client`` properties (flattened); unused by local file sinks."""


@dataclass(frozen=True, slots=True)
class KafkaGlobalSettings:
    enabled: bool = False
    threads: int = 2
    buffer_size: int = 1048576
    producer: dict[str, str] = field(default_factory=dict)
    """Java producer properties, flattened with ``.`` and arrays joined with ``,`` as Divolte does."""
    # Additions (not in Divolte): the disk spool behind each Kafka sink's queue.
    spool_dir: str = "/tmp/divolte-spool"
    """Each Kafka sink spools under ``<spool_dir>/<sink name>``; one collector process per directory."""
    spool_max_bytes: int = 1024**3
    """Disk space per sink for records Kafka has not taken yet; 0 turns spooling off (Divolte's dropping)."""
    dead_letter_dir: str = ""
    """Records the brokers refuse for good go to ``<dead_letter_dir>/<sink name>``; empty (the default):
    ``<spool_dir>/<sink name>/dead-letter`` (``collector.sinks.deadletter``)."""
    dead_letter_max_bytes: int = 1024**3
    """Disk space per sink for dead letters; refused records that do not fit are lost (counted, logged)."""


@dataclass(frozen=True, slots=True)
class PubsubGlobalSettings:
    """``divolte.global.gcps``: Divolte's keys, and (additions) the disk spool behind each Pub/Sub sink's queue."""

    enabled: bool = False
    threads: int = 2
    buffer_size: int = 1048576
    project_id: str | None = None
    """None: ``GOOGLE_CLOUD_PROJECT`` / ``GCLOUD_PROJECT`` (read while building the settings)."""
    spool_dir: str = "/tmp/divolte-spool"
    """Each Pub/Sub sink spools under ``<spool_dir>/<sink name>``; one collector process per directory."""
    spool_max_bytes: int = 1024**3
    """Disk space per sink for records Pub/Sub has not taken yet; 0 turns spooling off (Divolte's dropping)."""


@dataclass(frozen=True, slots=True)
class PrivacySettings:
    """An addition: ``divolte.global.privacy`` (see ``collector.enrich.privacy``); everything off by default."""

    anonymise_ip: bool = False
    ip2geo_uses_full_ip: bool = True
    honour_gpc: bool = False
    honour_dnt: bool = False


@dataclass(frozen=True, slots=True)
class MetricsSettings:
    """An addition: ``divolte.global.metrics``, Prometheus metrics (Divolte has none)."""

    enabled: bool = True
    port: int = 0
    """0: serve ``/metrics`` on the collector's own port; else on this port (same bind address)."""


@dataclass(frozen=True, slots=True)
class SupervisionSettings:
    """An addition: ``divolte.global.supervision``, how long a sink may take or fail before it counts as down."""

    write_timeout: float = 60.0
    """A sink's write (or heartbeat, or close) that takes longer has failed: it is retried, records kept."""
    failing_after: float = 30.0
    """A sink failing this long turns ``/ready`` red and is logged as an error every minute (records kept)."""


@dataclass(frozen=True, slots=True)
class InspectorSettings:
    """An addition: ``divolte.global.inspector``, the live view of recent events (``collector.inspect``)."""

    enabled: bool = False
    max_events: int = 1000
    """Recent events kept in memory (a bounded ring: older ones fall out)."""
    allow_remote: bool = False
    """Serve the inspector to clients other than loopback (they must present ``token``)."""
    token: str | None = field(default=None, repr=False)
    """The secret remote clients present (``Authorization: Bearer …`` or ``?token=``); never logged."""


@dataclass(frozen=True, slots=True)
class GlobalSettings:
    server: ServerSettings = field(default_factory=ServerSettings)
    mapper: MapperSettings = field(default_factory=MapperSettings)
    hdfs: SinkTypeSettings = field(default_factory=lambda: SinkTypeSettings(enabled=True, threads=2))
    gcs: SinkTypeSettings = field(default_factory=SinkTypeSettings)
    kafka: KafkaGlobalSettings = field(default_factory=KafkaGlobalSettings)
    gcps: PubsubGlobalSettings = field(default_factory=PubsubGlobalSettings)
    s3: SinkTypeSettings = field(default_factory=lambda: SinkTypeSettings(enabled=True))
    """An addition: ``divolte.global.s3`` for S3 sinks (enabled by default: a sink is opt-in anyway)."""
    metrics: MetricsSettings = field(default_factory=MetricsSettings)
    privacy: PrivacySettings = field(default_factory=PrivacySettings)
    supervision: SupervisionSettings = field(default_factory=SupervisionSettings)
    inspector: InspectorSettings = field(default_factory=InspectorSettings)


# --- sources -----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class JavascriptSettings:
    name: str = "divolte.js"
    logging: bool = False
    debug: bool = False
    auto_page_view_event: bool = True
    event_timeout: float = 0.75
    # Additions (not in Divolte); defaults keep Divolte's behaviour except SameSite, which browsers
    # already assume to be Lax when it is missing.
    cookie_same_site: Literal["Lax", "Strict", "None", ""] = "Lax"
    cookie_secure: bool = False
    deliver_on_page_hide: bool = False
    spa_page_views: bool = False
    respect_privacy_signals: bool = False


@dataclass(frozen=True, slots=True)
class BrowserSourceSettings:
    name: str
    type: Literal["browser"] = "browser"
    prefix: str = "/"
    """Always ends with ``/`` (a missing one is appended, as Divolte does)."""
    event_suffix: str = "csc-event"
    party_cookie: str = "_dvp"
    party_timeout: float = 730 * 86400.0
    session_cookie: str = "_dvs"
    session_timeout: float = 1800.0
    cookie_domain: str | None = None
    http_response_delay: float = 0.0
    javascript: JavascriptSettings = field(default_factory=JavascriptSettings)


@dataclass(frozen=True, slots=True)
class JsonSourceSettings:
    name: str
    type: Literal["json"] = "json"
    event_path: str = "/"
    party_id_parameter: str = "p"
    maximum_body_size: int = 4096
    cors_allowed_origins: tuple[str, ...] = ()
    """An addition: origins whose pages may POST events from the browser (``"*"`` for any); empty: no CORS."""


SourceSettings = BrowserSourceSettings | JsonSourceSettings

# --- sinks -------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FileStrategySettings:
    roll_every: float = 3600.0
    sync_file_after_records: int = 1000
    sync_file_after_duration: float = 30.0
    working_dir: str = "/tmp"
    publish_dir: str = "/tmp"
    codec: Literal["null", "deflate", "snappy", "zstandard"] = "null"
    """An addition: the Avro container codec (Divolte always writes ``null``)."""


@dataclass(frozen=True, slots=True)
class RetrySettings:
    """``gcs``/``gcps`` ``retry_settings``: parsed and validated for compatibility.

    The Pub/Sub sink retries each publish request by them (``collector.sinks.pubsub.publish_with_retry``).
    The gcs (and s3) sinks use the delays and jitter between failed uploads (``collector.sinks.uploads``).
    """

    max_attempts: int = 0
    total_timeout: float = 600.0
    initial_retry_delay: float = 1.0
    retry_delay_multiplier: float = 2.0
    max_retry_delay: float = 64.0
    jitter_delay: float | None = None
    jitter_factor: float | None = None
    initial_rpc_timeout: float | None = None
    rpc_timeout_multiplier: float | None = None
    max_rpc_timeout: float | None = None


@dataclass(frozen=True, slots=True)
class HdfsSinkSettings:
    name: str
    type: Literal["hdfs"] = "hdfs"
    replication: int = 3
    replication_configured: bool = False
    """Whether the configuration set ``replication`` (it has no effect on local files: a warning says so)."""
    file_strategy: FileStrategySettings = field(default_factory=FileStrategySettings)


@dataclass(frozen=True, slots=True)
class GcsSinkSettings:
    name: str
    bucket: str
    type: Literal["gcs"] = "gcs"
    file_strategy: FileStrategySettings = field(default_factory=FileStrategySettings)
    retry_settings: RetrySettings = field(default_factory=RetrySettings)
    local_dir: str = "/tmp/divolte-gcs"
    """An addition: files are built and wait for upload in ``<local_dir>/<sink name>/`` (``working_dir`` and
    ``publish_dir`` stay object prefixes in the bucket, as in Divolte)."""


@dataclass(frozen=True, slots=True)
class KafkaSinkSettings:
    name: str
    type: Literal["kafka"] = "kafka"
    topic: str = "divolte"
    mode: Literal["naked", "confluent"] = "naked"


@dataclass(frozen=True, slots=True)
class GcpsSinkSettings:
    name: str
    type: Literal["gcps"] = "gcps"
    topic: str = "divolte"
    retry_settings: RetrySettings = field(default_factory=RetrySettings)
    batching_settings: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class S3SinkSettings:
    """An addition: Avro container files built locally as by the file sink, uploaded to S3 when complete.

    ``file_strategy.publish_dir`` is unused (the bucket is where files are published); local files live in
    ``<working_dir>/<sink name>/``.
    """

    name: str
    bucket: str
    type: Literal["s3"] = "s3"
    prefix: str = ""
    """Prepended to every key (a trailing ``/`` is added when missing)."""
    key_pattern: str = "dt={date}/hour={hour}/{name}"
    region: str | None = None
    """None: ``AWS_REGION``/``AWS_DEFAULT_REGION``, the profile's region, else ``us-east-1``."""
    endpoint: str | None = None
    """An S3-compatible endpoint (MinIO, ...); None: AWS (or ``AWS_ENDPOINT_URL``)."""
    file_strategy: FileStrategySettings = field(default_factory=FileStrategySettings)
    retry_settings: RetrySettings = field(
        default_factory=lambda: RetrySettings(initial_retry_delay=1.0, retry_delay_multiplier=2.0, max_retry_delay=60.0)
    )
    """Backoff between failed uploads (``initial_retry_delay``, ``retry_delay_multiplier``,
    ``max_retry_delay``); uploads are retried for as long as it takes."""


SinkSettings = HdfsSinkSettings | GcsSinkSettings | KafkaSinkSettings | GcpsSinkSettings | S3SinkSettings

# --- mappings ----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MappingSettings:
    name: str
    sources: tuple[str, ...]
    sinks: tuple[str, ...]
    schema_file: str | None = None
    mapping_script_file: str | None = None
    confluent_id: int | None = None
    discard_corrupted: bool = False
    discard_duplicates: bool = False


@dataclass(frozen=True, slots=True)
class Settings:
    """The whole configuration, after defaults, environment overrides and validation."""

    global_: GlobalSettings
    sources: dict[str, SourceSettings]
    sinks: dict[str, SinkSettings]
    mappings: dict[str, MappingSettings]
    origin: str = "<embedded default>"
    """Where the configuration came from (a file path), for messages."""
