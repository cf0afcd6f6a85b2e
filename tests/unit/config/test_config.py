"""Configuration loading against Divolte's own test configurations, its reference.conf and the environment."""

from __future__ import annotations

import functools
from pathlib import Path

import pytest

from collector.config import ConfigError, Settings, load
from collector.config.settings import (
    BrowserSourceSettings,
    GcpsSinkSettings,
    GcsSinkSettings,
    HdfsSinkSettings,
    JsonSourceSettings,
    KafkaSinkSettings,
)
from tests.paths import SHARED

TEST_CONFIGS = SHARED / "test-configs"

# Every test configuration Divolte ships: None where Divolte loads it, else a piece of the problem it reports.
EXPECTED: dict[str, str | None] = {
    "base-test-server.conf": None,
    "browser-source-custom-javascript-name.conf": None,
    "browser-source-explicit.conf": None,
    "browser-source-javascript-debugging.conf": None,
    "browser-source-javascript-logging.conf": None,
    "browser-source-long-prefix.conf": None,
    "browser-source-multiple.conf": None,
    "browser-source-unused.conf": None,
    "duplicates-test.conf": None,
    "gcs-both-jitter-invalid.conf": "Retry settings may specify a jitter duration or factor, but not both.",
    "gcs-jitter-factor.conf": None,
    "gcs-sink.conf": None,
    "hdfs-flusher-test.conf": None,
    "hdfs-sink-multiple.conf": None,
    "json-source.conf": None,
    "kafka-sink-confluent-partially-without-confluent-id.conf": (
        "Mappings used by sinks in Confluent-mode must have their 'confluent_id' attribute set. "
        "The following mappings are missing this: [test-2]."
    ),
    "kafka-sink-confluent-with-confluent-id-conflict.conf": (
        "Any sink can only use one confluent identifier. The following sinks have multiple mappings with "
        "different 'confluent_id' attributes: [kafka]."
    ),
    "kafka-sink-confluent-without-confluent-id.conf": (
        "Mappings used by sinks in Confluent-mode must have their 'confluent_id' attribute set. "
        "The following mappings are missing this: [test]."
    ),
    "kafka-sink-confluent.conf": None,
    "mapping-configuration-confluent-id.conf": None,
    "mapping-configuration-explicit.conf": None,
    "mapping-configuration-independent.conf": None,
    "mapping-configuration-interdependent.conf": None,
    "mapping-configuration-shared-sink.conf": None,
    "mapping-configuration-shared-source.conf": None,
    "missing-sources-sinks.conf": (
        "The following sources and/or sinks were used in a mapping but never defined: [missing-sink, missing-source]."
    ),
    "multiple-mappings-different-schema-shared-sink.conf": (
        "Any sink can only use one schema. The following sinks have multiple mappings with different "
        "schema's linked to them: [kafka]."
    ),
    "multiple-mappings-same-schema-shared-sink.conf": None,
    "reference-test-shutdown.conf": None,
    "reference-test.conf": None,
    "schema-registry-with-confluent.conf": None,
    "selenium-test-custom-event-suffix.conf": None,
    "selenium-test-custom-javascript-name.conf": None,
    "selenium-test-no-default-event-config.conf": None,
    "selenium-test-slow-server.conf": None,
    "source-sink-collisions.conf": (
        "Source and sink names cannot collide (must be globally unique). The following names were both used "
        "as source and as sink: [foo, bar]."
    ),
    "x-forwarded-for-test.conf": None,
}

needs_shared = pytest.mark.skipif(not TEST_CONFIGS.is_dir(), reason=f"shared data not found at {SHARED}")


@functools.cache
def _outcome(name: str) -> Settings | ConfigError:
    try:
        return load(TEST_CONFIGS / name, env={})
    except ConfigError as exc:
        return exc


def loaded(name: str) -> Settings:
    outcome = _outcome(name)
    assert isinstance(outcome, Settings), f"{name} was rejected: {outcome}"
    return outcome


@needs_shared
def test_every_shared_config_is_listed() -> None:
    assert sorted(p.name for p in TEST_CONFIGS.glob("*.conf")) == sorted(EXPECTED)


@needs_shared
@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_shared_config_loads_or_is_rejected_like_divolte(name: str) -> None:
    outcome = _outcome(name)
    expected = EXPECTED[name]
    if expected is None:
        assert isinstance(outcome, Settings), f"{name} was rejected: {outcome}"
    else:
        assert isinstance(outcome, ConfigError), f"{name} loaded but Divolte rejects it"
        assert any(expected in problem for problem in outcome.problems), outcome.problems


@needs_shared
def test_missing_sources_and_sinks_is_one_problem() -> None:
    outcome = _outcome("missing-sources-sinks.conf")
    assert isinstance(outcome, ConfigError)
    assert outcome.problems == [
        "divolte.mappings: The following sources and/or sinks were used in a mapping but never defined: "
        "[missing-sink, missing-source]. Define them under divolte.sources or divolte.sinks, or correct the "
        "mapping."
    ]


@needs_shared
def test_source_sink_collisions_also_reports_shared_paths() -> None:
    # Divolte reports only the name collision; the three browser sources also all sit at prefix '/'.
    outcome = _outcome("source-sink-collisions.conf")
    assert isinstance(outcome, ConfigError)
    assert len(outcome.problems) == 2
    assert "serve the same paths ('/divolte.js', '/csc-event')" in outcome.problems[1]


# --- values from the shared configurations -------------------------------------------------------------


@needs_shared
def test_long_prefix_gets_its_trailing_slash() -> None:
    settings = loaded("browser-source-long-prefix.conf")
    source = settings.sources["test-browser-source"]
    assert isinstance(source, BrowserSourceSettings)
    assert source.prefix == "/a/multi/component/prefix/"
    assert list(settings.sources) == ["test-browser-source"]
    # No sinks section: Divolte's default sinks stay, so the mapping's `hdfs` exists.
    assert list(settings.sinks) == ["hdfs", "kafka", "gcps"]
    assert settings.mappings["test"].sinks == ("hdfs",)


@needs_shared
def test_explicit_and_multiple_browser_sources() -> None:
    explicit = loaded("browser-source-explicit.conf").sources["test-browser-source"]
    assert isinstance(explicit, BrowserSourceSettings) and explicit.prefix == "/a-prefix/"
    multiple = loaded("browser-source-multiple.conf").sources
    assert [s.prefix for s in multiple.values() if isinstance(s, BrowserSourceSettings)] == ["/path1/", "/path2/"]


@needs_shared
def test_javascript_settings() -> None:
    def javascript(name: str) -> tuple[str, bool, bool, bool]:
        source = loaded(name).sources["browser"]
        assert isinstance(source, BrowserSourceSettings)
        js = source.javascript
        return js.name, js.logging, js.debug, js.auto_page_view_event

    assert javascript("browser-source-custom-javascript-name.conf") == ("dvt.js", False, False, True)
    assert javascript("selenium-test-custom-javascript-name.conf") == ("dvt.js", False, False, True)
    assert javascript("browser-source-javascript-logging.conf") == ("divolte.js", True, False, True)
    assert javascript("browser-source-javascript-debugging.conf") == ("divolte.js", False, True, True)
    assert javascript("selenium-test-no-default-event-config.conf") == ("divolte.js", False, False, False)


@needs_shared
def test_browser_source_event_suffix_and_response_delay() -> None:
    suffix = loaded("selenium-test-custom-event-suffix.conf").sources["browser"]
    assert isinstance(suffix, BrowserSourceSettings) and suffix.event_suffix == "web-event"
    slow = loaded("selenium-test-slow-server.conf").sources["browser"]
    assert isinstance(slow, BrowserSourceSettings)
    assert slow.http_response_delay == 15.0
    assert slow.javascript.auto_page_view_event is False
    assert (slow.party_timeout, slow.session_timeout, slow.javascript.event_timeout) == (63072000.0, 1800.0, 0.75)


@needs_shared
def test_empty_sections_replace_the_defaults() -> None:
    settings = loaded("browser-source-unused.conf")
    assert list(settings.sources) == ["unused-source"]
    assert settings.sinks == {}
    assert settings.mappings == {}


@needs_shared
def test_hdfs_flusher_settings() -> None:
    settings = loaded("hdfs-flusher-test.conf")
    hdfs = settings.global_.hdfs
    assert (hdfs.enabled, hdfs.buffer_size, hdfs.threads) == (True, 16, 1)
    assert settings.global_.kafka.enabled is False
    sink = settings.sinks["hdfs"]
    assert isinstance(sink, HdfsSinkSettings)
    assert sink.replication == 3  # explicit hdfs sinks default to 3, the implicit one to 1
    assert sink.file_strategy.sync_file_after_records == 1
    assert sink.file_strategy.sync_file_after_duration == 1.0
    assert (sink.file_strategy.roll_every, sink.file_strategy.working_dir) == (3600.0, "/tmp")
    assert isinstance(settings.sinks["kafka"], KafkaSinkSettings)
    assert settings.mappings["test"].sinks == ("hdfs", "kafka")


@needs_shared
def test_json_source_with_default_mapping() -> None:
    settings = loaded("json-source.conf")
    source = settings.sources["test-json-source"]
    assert source == JsonSourceSettings(name="test-json-source", event_path="/json-event")
    mapping = settings.mappings["default"]
    assert (mapping.sources, mapping.sinks) == (("test-json-source",), ("hdfs", "kafka", "gcps"))


@needs_shared
def test_duplicate_memory_and_forwarded_for() -> None:
    assert loaded("duplicates-test.conf").global_.mapper.duplicate_memory_size == 2
    assert loaded("x-forwarded-for-test.conf").global_.server.use_x_forwarded_for is True


@needs_shared
def test_reference_test_shutdown_layers_two_includes() -> None:
    settings = loaded("reference-test-shutdown.conf")
    server = settings.global_.server
    assert (server.shutdown_delay, server.shutdown_timeout) == (2.2, 180.0)
    assert settings.global_.mapper.buffer_size == 16
    assert settings.global_.hdfs.enabled is False
    assert server.port == 8290


@needs_shared
def test_gcs_retry_settings() -> None:
    sink = loaded("gcs-sink.conf").sinks["gcs"]
    assert isinstance(sink, GcsSinkSettings)
    assert sink.bucket == "gs://bucket/folder"
    retry = sink.retry_settings
    assert (retry.max_attempts, retry.total_timeout, retry.initial_retry_delay) == (9, 138.0, 19.0)
    assert (retry.retry_delay_multiplier, retry.max_retry_delay) == (2.2, 25.0)
    assert (retry.jitter_delay, retry.jitter_factor) == (1.925, None)
    factor = loaded("gcs-jitter-factor.conf").sinks["gcs"]
    assert isinstance(factor, GcsSinkSettings)
    assert (factor.retry_settings.jitter_delay, factor.retry_settings.jitter_factor) == (None, 0.1)


@needs_shared
def test_confluent_ids_and_schema_files() -> None:
    settings = loaded("kafka-sink-confluent.conf")
    sink = settings.sinks["kafka"]
    assert isinstance(sink, KafkaSinkSettings) and (sink.mode, sink.topic) == ("confluent", "divolte")
    assert settings.mappings["test"].confluent_id == 12345
    registry = loaded("schema-registry-with-confluent.conf").mappings["test"]
    assert registry.schema_file == "src/test/resources/MinimalRecord.avsc"
    naked = loaded("mapping-configuration-confluent-id.conf").mappings
    assert (naked["test-1"].confluent_id, naked["test-1"].schema_file) == (123, "foobar.avsc")
    assert (naked["test-2"].confluent_id, naked["test-2"].schema_file) == (321, None)


@needs_shared
def test_interdependent_mappings() -> None:
    mappings = loaded("mapping-configuration-interdependent.conf").mappings
    assert list(mappings) == ["mapping-1", "mapping-2", "mapping-3", "mapping-4"]
    assert mappings["mapping-4"].sources == ("source-1", "source-4")
    assert mappings["mapping-4"].sinks == ("sink-3", "sink-4")


# --- the embedded default and the environment ----------------------------------------------------------


def test_embedded_default_is_reference_conf() -> None:
    settings = load(None, env={})
    assert settings.origin == "<embedded default>"
    server = settings.global_.server
    assert (server.host, server.port, server.shutdown_delay, server.shutdown_timeout) == (None, 8290, 0.0, 120.0)
    assert (server.use_x_forwarded_for, server.serve_static_resources, server.debug_requests) == (
        False,
        True,
        False,
    )
    mapper = settings.global_.mapper
    assert (mapper.buffer_size, mapper.threads, mapper.duplicate_memory_size) == (1048576, 1, 1000000)
    assert (mapper.user_agent_parser.type, mapper.user_agent_parser.cache_size) == ("non_updating", 1000)
    g = settings.global_
    assert (g.hdfs.enabled, g.hdfs.threads, g.hdfs.client) == (True, 2, None)
    assert (g.gcs.enabled, g.gcs.threads, g.kafka.enabled, g.kafka.threads) == (False, 1, False, 2)
    assert (g.gcps.enabled, g.gcps.threads, g.gcps.project_id) == (False, 2, None)
    assert g.kafka.producer == {
        "bootstrap.servers": "localhost:9092",
        "client.id": "divolte.collector",
        "acks": "1",
        "retries": "0",
        "compression.type": "lz4",
        "max.in.flight.requests.per.connection": "1",
    }
    assert settings.sources == {"browser": BrowserSourceSettings(name="browser")}
    hdfs, kafka, gcps = settings.sinks.values()
    assert isinstance(hdfs, HdfsSinkSettings) and hdfs.replication == 1
    assert kafka == KafkaSinkSettings(name="kafka")
    assert isinstance(gcps, GcpsSinkSettings)
    assert (gcps.retry_settings.total_timeout, gcps.retry_settings.max_rpc_timeout) == (10.0, 15.0)
    assert gcps.batching_settings == {
        "element_count_threshold": 100.0,
        "request_bytes_threshold": 1000.0,
        "delay_threshold": 0.001,
    }
    default = settings.mappings["default"]
    assert (default.sources, default.sinks, default.schema_file) == (("browser",), ("hdfs", "kafka", "gcps"), None)


def test_environment_overrides_from_reference_conf() -> None:
    env = {
        "DIVOLTE_PORT": "9999",
        "DIVOLTE_KAFKA_BROKER_LIST": "k1:9092,k2:9092",
        "DIVOLTE_KAFKA_CLIENT_ID": "me",
        "DIVOLTE_HOST": "0.0.0.0",  # only commented out in reference.conf: no effect
    }
    settings = load(None, env=env)
    assert settings.global_.server.port == 9999
    assert settings.global_.server.host is None
    assert settings.global_.kafka.producer["bootstrap.servers"] == "k1:9092,k2:9092"
    assert settings.global_.kafka.producer["client.id"] == "me"


def test_environment_is_injected_not_read_behind_the_callers_back(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DIVOLTE_PORT", "1234")
    assert load(None, env={}).global_.server.port == 8290
    assert load(None).global_.server.port == 1234


@needs_shared
def test_environment_applies_when_reference_conf_is_included_twice() -> None:
    settings = load(TEST_CONFIGS / "reference-test.conf", env={"DIVOLTE_PORT": "8999"})
    assert settings.global_.server.port == 8999
    assert settings.global_.kafka.producer["bootstrap.servers"] == "localhost:9092"


def test_users_copy_of_the_optional_override_idiom(tmp_path: Path) -> None:
    conf = write(
        tmp_path,
        """
        include classpath("reference.conf")
        divolte.global.server {
          port = 9000
          port = ${?DIVOLTE_PORT}  // like reference.conf
          host = "${?NOT_A_SUBSTITUTION}"
        }
        """,
    )
    assert load(conf, env={}).global_.server.port == 9000
    settings = load(conf, env={"DIVOLTE_PORT": "9001"})
    assert (settings.global_.server.port, settings.global_.server.host) == (9001, "${?NOT_A_SUBSTITUTION}")


def test_environment_port_must_be_a_number() -> None:
    with pytest.raises(ConfigError) as caught:
        load(None, env={"DIVOLTE_PORT": "http"})
    assert caught.value.problems == ['divolte.global.server.port: expected an integer, found "http"']


def test_substitution_of_a_configuration_path(tmp_path: Path) -> None:
    conf = write(
        tmp_path,
        """
        base { port = 7000 }
        divolte.global.server.port = ${base.port}
        divolte.global.mapper.threads = ${?base.port}
        """,
    )
    settings = load(conf, env={"base.port": "1"})
    assert (settings.global_.server.port, settings.global_.mapper.threads) == (7000, 7000)


def test_overrides_win_over_file_and_environment(tmp_path: Path) -> None:
    conf = write(tmp_path, "divolte.global.server.port = 9000\n")
    settings = load(
        conf,
        env={"DIVOLTE_PORT": "9001"},
        overrides={
            "divolte.global.server.port": "9002",
            "divolte.global.kafka.producer.acks": "all",
            "divolte.global.server.shutdown_delay": "5 seconds",
            "divolte.global.mapper.threads": 4,
        },
    )
    assert settings.global_.server.port == 9002
    assert settings.global_.server.shutdown_delay == 5.0
    assert settings.global_.mapper.threads == 4
    assert settings.global_.kafka.producer["acks"] == "all"
    assert settings.global_.kafka.producer["retries"] == "0"


def test_bad_overrides() -> None:
    with pytest.raises(ConfigError) as caught:
        load(None, env={}, overrides={"divolte..port": 1, "divolte.global.mapper.threads": object()})
    assert len(caught.value.problems) == 2
    assert "not a dotted key" in caught.value.problems[0]


def write(folder: Path, text: str, name: str = "divolte-collector.conf") -> Path:
    path = folder / name
    path.write_text("\n".join(line.strip() for line in text.splitlines()) + "\n", encoding="utf-8")
    return path


@needs_shared
def test_example_configuration() -> None:
    settings = load(SHARED / "example-divolte-collector.conf", env={})
    sink = settings.sinks["my_sink"]
    assert isinstance(sink, HdfsSinkSettings)
    assert (sink.replication, sink.file_strategy.sync_file_after_duration, sink.file_strategy.publish_dir) == (
        3,
        30.0,
        "/tmp",
    )
    mapping = settings.mappings["my_mapping"]
    assert (mapping.schema_file, mapping.mapping_script_file) == ("/some/dir/MySchema.avsc", "schema-mapping.groovy")
    assert (mapping.sources, mapping.sinks) == (("my_source",), ("my_sink",))
