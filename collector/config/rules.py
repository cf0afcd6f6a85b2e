"""Rules that span several settings, one named function each, run after every key was read on its own.

Each rule returns the problems it finds (an empty list when the rule holds). Wording follows Divolte's
constraint messages (``config/constraint/*.java``) where Divolte has the rule, with the key path in front
and what to do after it. Name lists are written like Java's ``Set.toString()``: ``[foo, bar]``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Iterable

from collector.config.settings import (
    BrowserSourceSettings,
    GcsSinkSettings,
    HdfsSinkSettings,
    KafkaSinkSettings,
    Settings,
)
from collector.errors import ConfigError
from collector.sinks.hdfs_config import hdfs_connection, hdfs_path, is_remote

JAVASCRIPT_NAME = re.compile(r"^[A-Za-z0-9_-]+\.js$")


def _names(names: Iterable[str]) -> str:
    return "[" + ", ".join(names) + "]"


def mapping_references_exist(settings: Settings, *, unusable: Collection[str] = ()) -> list[str]:
    """Every source and sink a mapping names is defined (``unusable`` entries were defined but broken)."""
    defined = set(settings.sources) | set(settings.sinks) | set(unusable)
    used = {name for mapping in settings.mappings.values() for name in (*mapping.sources, *mapping.sinks)}
    missing = sorted(used - defined)
    if not missing:
        return []
    return [
        "divolte.mappings: The following sources and/or sinks were used in a mapping but never defined: "
        f"{_names(missing)}. Define them under divolte.sources or divolte.sinks, or correct the mapping."
    ]


def source_and_sink_names_distinct(settings: Settings) -> list[str]:
    """No name is both a source and a sink."""
    colliding = [name for name in settings.sources if name in settings.sinks]
    if not colliding:
        return []
    return [
        "divolte: Source and sink names cannot collide (must be globally unique). The following names were "
        f"both used as source and as sink: {_names(colliding)}. Rename the source or the sink."
    ]


def one_schema_per_sink(settings: Settings) -> list[str]:
    """All mappings that feed one sink use the same schema (no ``schema_file`` means the built-in one)."""
    schemas: dict[str, set[str]] = {}
    for mapping in settings.mappings.values():
        for sink in mapping.sinks:
            schemas.setdefault(sink, set()).add(mapping.schema_file or "<default>")
    mixed = [sink for sink, files in schemas.items() if len(files) > 1]
    if not mixed:
        return []
    return [
        "divolte.mappings: Any sink can only use one schema. The following sinks have multiple mappings with "
        f"different schema's linked to them: {_names(mixed)}. Give those mappings the same schema_file, "
        "or send them to separate sinks."
    ]


def _confluent_sinks(settings: Settings) -> set[str]:
    return {
        name
        for name, sink in settings.sinks.items()
        if isinstance(sink, KafkaSinkSettings) and sink.mode == "confluent"
    }


def confluent_mappings_have_ids(settings: Settings) -> list[str]:
    """Every mapping that feeds a Kafka sink in ``confluent`` mode has a ``confluent_id``."""
    confluent = _confluent_sinks(settings)
    lacking = [
        name
        for name, mapping in settings.mappings.items()
        if mapping.confluent_id is None and confluent.intersection(mapping.sinks)
    ]
    if not lacking:
        return []
    return [
        "divolte.mappings: Mappings used by sinks in Confluent-mode must have their 'confluent_id' attribute "
        f"set. The following mappings are missing this: {_names(lacking)}. Set confluent_id to the schema's "
        "id in the schema registry."
    ]


def one_confluent_id_per_sink(settings: Settings) -> list[str]:
    """All mappings that feed one Confluent-mode Kafka sink use the same ``confluent_id``."""
    confluent = _confluent_sinks(settings)
    ids: dict[str, set[int]] = {}
    for mapping in settings.mappings.values():
        for sink in mapping.sinks:
            if sink in confluent and mapping.confluent_id is not None:
                ids.setdefault(sink, set()).add(mapping.confluent_id)
    mixed = [sink for sink, found in ids.items() if len(found) > 1]
    if not mixed:
        return []
    return [
        "divolte.mappings: Any sink can only use one confluent identifier. The following sinks have multiple "
        f"mappings with different 'confluent_id' attributes: {_names(mixed)}. Give those mappings one "
        "confluent_id, or send them to separate sinks."
    ]


def pubsub_has_project_id(settings: Settings) -> list[str]:
    """Pub/Sub, when enabled, knows its Google Cloud project."""
    gcps = settings.global_.gcps
    if not gcps.enabled or gcps.project_id:
        return []
    return [
        "divolte.global.gcps.project_id: A configured or default Google Cloud project id must be available "
        "if Pub/Sub support is enabled. Set project_id, or the GOOGLE_CLOUD_PROJECT environment variable."
    ]


def gcs_jitter_is_delay_or_factor(settings: Settings) -> list[str]:
    """Cloud Storage retry settings give a jitter delay or a jitter factor, not both."""
    return [
        f"divolte.sinks.{name}.retry_settings: Retry settings may specify a jitter duration or factor, but "
        "not both. Remove jitter_delay or jitter_factor."
        for name, sink in settings.sinks.items()
        if isinstance(sink, GcsSinkSettings)
        and sink.retry_settings.jitter_delay is not None
        and sink.retry_settings.jitter_factor is not None
    ]


def hdfs_client_reaches_hdfs(settings: Settings) -> list[str]:
    """A remote ``global.hdfs.client`` (``fs.defaultFS = hdfs://…``) maps onto WebHDFS addresses and supported auth,
    and the hdfs sinks' directories are paths on it (``collector.sinks.hdfs_config``)."""
    client = settings.global_.hdfs.client or {}
    sinks = [sink for sink in settings.sinks.values() if isinstance(sink, HdfsSinkSettings)]
    if not (settings.global_.hdfs.enabled and sinks and is_remote(client)):
        return []
    try:
        connection = hdfs_connection(client)
    except ConfigError as exc:
        return exc.problems
    problems = []
    for sink in sinks:
        for key in ("working_dir", "publish_dir"):
            try:
                value = getattr(sink.file_strategy, key)
                hdfs_path(value, f"divolte.sinks.{sink.name}.file_strategy.{key}", connection)
            except ConfigError as exc:
                problems.extend(exc.problems)
    return problems


def javascript_names_are_valid(settings: Settings) -> list[str]:
    """Each browser source's script name is a plain ``*.js`` file name (it becomes a URL path)."""
    return [
        f"Property 'divolte.sources.{name}.javascript.name' must match \"{JAVASCRIPT_NAME.pattern}\". "
        f"Found: '{source.javascript.name}'."
        for name, source in settings.sources.items()
        if isinstance(source, BrowserSourceSettings) and not JAVASCRIPT_NAME.match(source.javascript.name)
    ]


def source_paths_are_absolute(settings: Settings) -> list[str]:
    """Browser prefixes and JSON event paths start with ``/``, or no request could ever reach them."""
    problems = []
    for name, source in settings.sources.items():
        key, path = (
            ("prefix", source.prefix)
            if isinstance(source, BrowserSourceSettings)
            else ("event_path", source.event_path)
        )
        if not path.startswith("/"):
            problems.append(f"divolte.sources.{name}.{key}: must start with '/', found '{path}'")
    return problems


def source_paths_distinct(settings: Settings) -> list[str]:
    """No two sources serve the same path (browser sources sharing a prefix would shadow each other)."""
    owners: dict[str, list[str]] = {}
    for name, source in settings.sources.items():
        if isinstance(source, BrowserSourceSettings):
            paths = [source.prefix + source.javascript.name, source.prefix + source.event_suffix]
        else:
            paths = [source.event_path]
        for path in dict.fromkeys(paths):
            owners.setdefault(path, []).append(name)
    shared: dict[tuple[str, ...], list[str]] = {}
    for path, names in owners.items():
        if len(names) > 1:
            shared.setdefault(tuple(names), []).append(f"'{path}'")
    return [
        f"divolte.sources: the sources {_names(names)} serve the same paths ({', '.join(paths)}); give each "
        "browser source its own prefix, and each JSON source its own event_path"
        for names, paths in shared.items()
    ]


MIN_INSPECTOR_TOKEN = 16
"""Shortest ``inspector.token`` accepted: the token guards personal data on a public port."""


def inspector_is_guarded(settings: Settings) -> list[str]:
    """A remote-reachable inspector has a token too long to guess; and it runs in one process."""
    inspector = settings.global_.inspector
    if not inspector.enabled:
        return []
    key = "divolte.global.inspector"
    problems = []
    if inspector.allow_remote and not inspector.token:
        problems.append(
            f"{key}.token: required when {key}.allow_remote = true (remote clients must present it). Set a "
            "long random secret, e.g. the output of `openssl rand -hex 32`, or set allow_remote = false."
        )
    elif inspector.token is not None and len(inspector.token) < MIN_INSPECTOR_TOKEN:
        problems.append(f"{key}.token: too short ({len(inspector.token)} characters); use at least "
                        f"{MIN_INSPECTOR_TOKEN}, e.g. the output of `openssl rand -hex 32`.")  # fmt: skip
    processes = settings.global_.server.processes
    if processes > 1:
        problems.append(
            f"{key}.enabled: the inspector keeps recent events in one process's memory, and "
            f"divolte.global.server.processes = {processes} would spread them over {processes} processes "
            "(each page would show a random share). Inspect with processes = 1 (--processes 1), or turn the "
            "inspector off."
        )
    return problems


RULES: tuple[Callable[[Settings], list[str]], ...] = (
    source_and_sink_names_distinct,
    one_schema_per_sink,
    confluent_mappings_have_ids,
    one_confluent_id_per_sink,
    pubsub_has_project_id,
    gcs_jitter_is_delay_or_factor,
    hdfs_client_reaches_hdfs,
    javascript_names_are_valid,
    source_paths_are_absolute,
    source_paths_distinct,
    inspector_is_guarded,
)


def check(settings: Settings, *, unusable: Collection[str] = ()) -> list[str]:
    """Every problem every rule finds, in a stable order."""
    problems = mapping_references_exist(settings, unusable=unusable)
    for rule in RULES:
        problems.extend(rule(settings))
    return problems
