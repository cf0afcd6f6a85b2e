"""Turn the plain ``divolte`` tree into ``Settings``: every key typed, defaulted and checked on its own.

Cross-field rules (names that must exist, schemas per sink, ...) live in ``rules.py``; this module only
knows what each key may hold. Defaults for the sources, sinks and mappings sections apply only when a
section is entirely absent, as in Divolte's ``DivolteConfiguration``: writing any entry replaces them.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Literal, cast, get_args

from collector.config.reader import Section, describe
from collector.config.settings import (
    MAX_URL_LENGTH,
    BrowserSourceSettings,
    GlobalSettings,
    InspectorSettings,
    JavascriptSettings,
    JsonSourceSettings,
    KafkaGlobalSettings,
    MapperSettings,
    MappingSettings,
    MetricsSettings,
    PrivacySettings,
    PubsubGlobalSettings,
    ServerSettings,
    Settings,
    SinkSettings,
    SinkTypeSettings,
    SourceSettings,
    SupervisionSettings,
    UserAgentParserSettings,
)
from collector.config.sink_entries import LONG_MAX, SINK_TYPES, default_sinks, sink

SOURCE_TYPES = ("browser", "json")
UserAgentParserType = Literal["non_updating", "online_updating", "caching_and_updating"]
SameSite = Literal["Lax", "Strict", "None", ""]
GOOGLE_PROJECT_VARIABLES = ("GOOGLE_CLOUD_PROJECT", "GCLOUD_PROJECT")
"""Where a default Google Cloud project id is found when ``global.gcps.project_id`` is unset."""


def build(
    root: Mapping[str, object], *, origin: str, env: Mapping[str, str], problems: list[str]
) -> tuple[Settings, frozenset[str]]:
    """Settings from the resolved tree, plus the names of entries too broken to build (for ``rules``)."""
    body = root.get("divolte")
    if not isinstance(body, Mapping):
        problems.append(f"divolte: expected an object holding the configuration, found {describe(body)}")
        body = {}
    top = Section("divolte", body, problems)
    broken: set[str] = set()
    global_ = _global(top.section("global"), env)
    sources = _sources(top.entries("sources"), broken)
    sinks = _sinks(top.entries("sinks"), broken, problems)
    mappings = _mappings(top.entries("mappings"), sources, sinks)
    top.finish()
    settings = Settings(global_=global_, sources=sources, sinks=sinks, mappings=mappings, origin=origin)
    return settings, frozenset(broken)


# --- global --------------------------------------------------------------------------------------------


def _global(section: Section, env: Mapping[str, str]) -> GlobalSettings:
    defaults = GlobalSettings()
    result = GlobalSettings(
        server=_server(section.section("server")),
        mapper=_mapper(section.section("mapper")),
        hdfs=_sink_type(section.section("hdfs"), defaults.hdfs, extra="client"),
        gcs=_sink_type(section.section("gcs"), defaults.gcs),
        kafka=_kafka(section.section("kafka")),
        gcps=_gcps(section.section("gcps"), env),
        s3=_sink_type(section.section("s3"), defaults.s3),
        metrics=_metrics(section.section("metrics")),
        privacy=_privacy(section.section("privacy")),
        supervision=_supervision(section.section("supervision")),
        inspector=_inspector(section.section("inspector")),
    )
    section.finish()
    return result


def _privacy(section: Section) -> PrivacySettings:
    d = PrivacySettings()
    result = PrivacySettings(
        anonymise_ip=section.boolean("anonymise_ip", d.anonymise_ip),
        ip2geo_uses_full_ip=section.boolean("ip2geo_uses_full_ip", d.ip2geo_uses_full_ip),
        honour_gpc=section.boolean("honour_gpc", d.honour_gpc),
        honour_dnt=section.boolean("honour_dnt", d.honour_dnt),
    )
    section.finish()
    return result


def _supervision(section: Section) -> SupervisionSettings:
    d = SupervisionSettings()
    result = SupervisionSettings(
        write_timeout=section.duration("write_timeout", d.write_timeout),
        failing_after=section.duration("failing_after", d.failing_after),
    )
    section.finish()
    return result


MAX_INSPECTED_EVENTS = 100_000
"""More recent events than this is a typo: the ring lives in memory, a few KiB per event, and the page shows
at most ``collector.inspect.web.DEFAULT_LIMIT`` of them anyway."""


def _inspector(section: Section) -> InspectorSettings:
    d = InspectorSettings()
    result = InspectorSettings(
        enabled=section.boolean("enabled", d.enabled),
        max_events=section.integer("max_events", d.max_events, maximum=MAX_INSPECTED_EVENTS),
        allow_remote=section.boolean("allow_remote", d.allow_remote),
        token=section.optional_string("token") or None,
    )
    section.finish()
    return result


def _metrics(section: Section) -> MetricsSettings:
    d = MetricsSettings()
    result = MetricsSettings(
        enabled=section.boolean("enabled", d.enabled),
        port=section.integer("port", d.port, minimum=0, maximum=65535),
    )
    section.finish()
    return result


def _server(section: Section) -> ServerSettings:
    d = ServerSettings()
    result = ServerSettings(
        host=section.optional_string("host"),
        port=section.integer("port", d.port, minimum=1, maximum=65535),
        use_x_forwarded_for=section.boolean("use_x_forwarded_for", d.use_x_forwarded_for),
        serve_static_resources=section.boolean("serve_static_resources", d.serve_static_resources),
        debug_requests=section.boolean("debug_requests", d.debug_requests),
        shutdown_delay=section.duration("shutdown_delay", d.shutdown_delay),
        shutdown_timeout=section.duration("shutdown_timeout", d.shutdown_timeout),
        max_url_length=section.integer("max_url_length", d.max_url_length, minimum=256, maximum=MAX_URL_LENGTH),
        max_header_size=section.integer("max_header_size", d.max_header_size, minimum=1024),
        max_headers=section.integer("max_headers", d.max_headers, minimum=8),
        request_header_timeout=section.duration("request_header_timeout", d.request_header_timeout),
        keep_alive_timeout=section.duration("keep_alive_timeout", d.keep_alive_timeout),
        processes=_processes(section, d.processes),
    )
    section.finish()
    return result


MAX_PROCESSES = 256
"""More worker processes than this is a typo, not a machine (each one holds its own sinks and caches)."""


def _processes(section: Section, default: int) -> int:
    """``processes``: a count from 1 to ``MAX_PROCESSES``, or ``auto`` (the cores this process may use)."""
    value = section.data.get("processes")
    if isinstance(value, str) and value.strip().lower() == "auto":
        section.string("processes", "auto")  # read, so the key counts as known
        return usable_cores()
    before = len(section.problems)
    count = section.integer("processes", default, maximum=MAX_PROCESSES)
    if len(section.problems) > before:
        section.problems[-1] += "; or auto (one process per usable core)"
    return count


def usable_cores() -> int:
    """The cores this process may run on (its CPU affinity: taskset, cpusets), at most ``MAX_PROCESSES``.

    A container's CPU *quota* (``--cpus``, Kubernetes ``limits.cpu``) is not affinity: set ``processes`` to
    the quota there, or give the container whole cores (static CPU manager policy)."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return max(1, min(cores, MAX_PROCESSES))


def _mapper(section: Section) -> MapperSettings:
    d = MapperSettings()
    parser = section.section("user_agent_parser")
    user_agent_parser = UserAgentParserSettings(
        type=cast(
            UserAgentParserType,
            parser.choice("type", d.user_agent_parser.type, get_args(UserAgentParserType), ignore_case=True),
        ),
        cache_size=parser.integer("cache_size", d.user_agent_parser.cache_size, minimum=0),
    )
    parser.finish()
    result = MapperSettings(
        buffer_size=section.integer("buffer_size", d.buffer_size),
        threads=section.integer("threads", d.threads),
        duplicate_memory_size=section.integer("duplicate_memory_size", d.duplicate_memory_size),
        user_agent_parser=user_agent_parser,
        ip2geo_database=section.optional_string("ip2geo_database"),
    )
    section.finish()
    return result


def _sink_type(section: Section, d: SinkTypeSettings, *, extra: str = "") -> SinkTypeSettings:
    enabled = section.boolean("enabled", d.enabled)
    threads = section.integer("threads", d.threads)
    buffer_size = section.integer("buffer_size", d.buffer_size)
    client = section.properties("client") if extra == "client" else None
    section.finish()
    return SinkTypeSettings(enabled=enabled, threads=threads, buffer_size=buffer_size, client=client)


def _gcps(section: Section, env: Mapping[str, str]) -> PubsubGlobalSettings:
    d = PubsubGlobalSettings()
    project_id = section.optional_string("project_id")
    if project_id is None:
        project_id = next((env[name] for name in GOOGLE_PROJECT_VARIABLES if env.get(name)), None)
    result = PubsubGlobalSettings(
        enabled=section.boolean("enabled", d.enabled),
        threads=section.integer("threads", d.threads),
        buffer_size=section.integer("buffer_size", d.buffer_size),
        project_id=project_id,
        spool_dir=section.string("spool_dir", d.spool_dir),
        spool_max_bytes=section.integer("spool_max_bytes", d.spool_max_bytes, minimum=0, maximum=LONG_MAX),
    )
    section.finish()
    return result


def _kafka(section: Section) -> KafkaGlobalSettings:
    d = KafkaGlobalSettings()
    result = KafkaGlobalSettings(
        enabled=section.boolean("enabled", d.enabled),
        threads=section.integer("threads", d.threads),
        buffer_size=section.integer("buffer_size", d.buffer_size),
        producer=section.properties("producer") or {},
        spool_dir=section.string("spool_dir", d.spool_dir),
        spool_max_bytes=section.integer("spool_max_bytes", d.spool_max_bytes, minimum=0, maximum=LONG_MAX),
        dead_letter_dir=section.string("dead_letter_dir", d.dead_letter_dir),
        dead_letter_max_bytes=section.integer(
            "dead_letter_max_bytes", d.dead_letter_max_bytes, minimum=0, maximum=LONG_MAX
        ),
    )
    section.finish()
    return result


# --- sources -------------------------------------------------------------------------------------------


def _sources(entries: dict[str, Section] | None, broken: set[str]) -> dict[str, SourceSettings]:
    if entries is None:
        return {"browser": BrowserSourceSettings(name="browser")}
    sources: dict[str, SourceSettings] = {}
    for name, section in entries.items():
        kind = _entry_type(section, SOURCE_TYPES)
        source = _browser(name, section) if kind == "browser" else _json(name, section) if kind else None
        if source is None:
            broken.add(name)
        else:
            sources[name] = source
    return sources


def _entry_type(section: Section, allowed: tuple[str, ...]) -> str:
    """The entry's ``type``, or "" after reporting it missing or unknown."""
    if section.data.get("type") is None:
        section.problem("type", f"missing; set the type of this entry to one of: {', '.join(allowed)}")
        return ""
    return section.choice("type", "", allowed)


def _browser(name: str, section: Section) -> BrowserSourceSettings:
    d = BrowserSourceSettings(name=name)
    prefix = section.string("prefix", d.prefix)
    result = BrowserSourceSettings(
        name=name,
        prefix=prefix if prefix.endswith("/") else prefix + "/",
        event_suffix=section.string("event_suffix", d.event_suffix),
        party_cookie=section.string("party_cookie", d.party_cookie),
        party_timeout=section.duration("party_timeout", d.party_timeout),
        session_cookie=section.string("session_cookie", d.session_cookie),
        session_timeout=section.duration("session_timeout", d.session_timeout),
        cookie_domain=section.optional_string("cookie_domain"),
        http_response_delay=section.duration("http_response_delay", d.http_response_delay),
        javascript=_javascript(section.section("javascript"), d.javascript),
    )
    section.finish()
    return result


def _javascript(section: Section, d: JavascriptSettings) -> JavascriptSettings:
    same_site = section.choice("cookie_same_site", d.cookie_same_site, get_args(SameSite), ignore_case=True)
    result = JavascriptSettings(
        name=section.string("name", d.name),
        logging=section.boolean("logging", d.logging),
        debug=section.boolean("debug", d.debug),
        auto_page_view_event=section.boolean("auto_page_view_event", d.auto_page_view_event),
        event_timeout=section.duration("event_timeout", d.event_timeout),
        cookie_same_site=cast(SameSite, same_site),
        cookie_secure=section.boolean("cookie_secure", d.cookie_secure),
        deliver_on_page_hide=section.boolean("deliver_on_page_hide", d.deliver_on_page_hide),
        spa_page_views=section.boolean("spa_page_views", d.spa_page_views),
        respect_privacy_signals=section.boolean("respect_privacy_signals", d.respect_privacy_signals),
    )
    section.finish()
    return result


def _json(name: str, section: Section) -> JsonSourceSettings:
    d = JsonSourceSettings(name=name)
    result = JsonSourceSettings(
        name=name,
        event_path=section.string("event_path", d.event_path),
        party_id_parameter=section.string("party_id_parameter", d.party_id_parameter),
        maximum_body_size=section.integer("maximum_body_size", d.maximum_body_size),
        cors_allowed_origins=section.string_list("cors_allowed_origins"),
    )
    section.finish()
    return result


# --- sinks ---------------------------------------------------------------------------------------------


def _sinks(entries: dict[str, Section] | None, broken: set[str], problems: list[str]) -> dict[str, SinkSettings]:
    if entries is None:
        return default_sinks("divolte.sinks", problems)
    sinks: dict[str, SinkSettings] = {}
    for name, section in entries.items():
        kind = _entry_type(section, SINK_TYPES)
        built = sink(kind, name, section) if kind else None
        if built is None:
            broken.add(name)
        else:
            sinks[name] = built
    return sinks


# --- mappings ------------------------------------------------------------------------------------------


def _mappings(
    entries: dict[str, Section] | None, sources: Mapping[str, object], sinks: Mapping[str, object]
) -> dict[str, MappingSettings]:
    if entries is None:
        return {"default": MappingSettings(name="default", sources=tuple(sources), sinks=tuple(sinks))}
    mappings: dict[str, MappingSettings] = {}
    for name, section in entries.items():
        d = MappingSettings(name=name, sources=(), sinks=())
        mappings[name] = MappingSettings(
            name=name,
            sources=section.names("sources", "sources"),
            sinks=section.names("sinks", "sinks"),
            schema_file=section.optional_string("schema_file"),
            mapping_script_file=section.optional_string("mapping_script_file"),
            confluent_id=section.optional_integer("confluent_id", minimum=0),
            discard_corrupted=section.boolean("discard_corrupted", d.discard_corrupted),
            discard_duplicates=section.boolean("discard_duplicates", d.discard_duplicates),
        )
        section.finish()
    return mappings
