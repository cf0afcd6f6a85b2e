"""Configuration loading: the topologies and mistakes of tests/data/configs, reference.conf and the environment."""

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
from tests.paths import CONFIGS

# Every configuration in tests/data/configs: None where it loads, else a piece of the problem Divolte reports for
# the same mistake (its wording, which we keep).
EXPECTED: dict[str, str | None] = {
    "behind-proxy.conf": None,
    "confluent-id-missing.conf": (
        "Mappings used by sinks in Confluent-mode must have their 'confluent_id' attribute set. "
        "The following mappings are missing this: [orders]."
    ),
    "confluent-ids-differ.conf": (
        "Any sink can only use one confluent identifier. The following sinks have multiple mappings with "
        "different 'confluent_id' attributes: [events]."
    ),
    "confluent-one-id-missing.conf": (
        "Mappings used by sinks in Confluent-mode must have their 'confluent_id' attribute set. "
        "The following mappings are missing this: [returns]."
    ),
    "confluent-schema-file.conf": None,
    "confluent.conf": None,
    "deep-prefix.conf": None,
    "event-path-renamed.conf": None,
    "example.conf": None,
    "file-sync-every-record.conf": None,
    "gcs-jitter-both.conf": "Retry settings may specify a jitter duration or factor, but not both.",
    "gcs-jitter-factor.conf": None,
    "gcs-retries.conf": None,
    "idle-source.conf": None,
    "json-only.conf": None,
    "kafka-ids-without-confluent.conf": None,
    "many-to-many.conf": None,
    "name-collisions.conf": (
        "Source and sink names cannot collide (must be globally unique). The following names were both used "
        "as source and as sink: [zeta, alpha]."
    ),
    "one-source-one-sink.conf": None,
    "shared-sink-one-schema.conf": None,
    "shared-sink-two-schemas.conf": (
        "Any sink can only use one schema. The following sinks have multiple mappings with different "
        "schema's linked to them: [stream]."
    ),
    "shared-sink.conf": None,
    "shared-source.conf": None,
    "shutdown-timing.conf": None,
    "slow-responses.conf": None,
    "small-buffers.conf": None,
    "tracker-debugging.conf": None,
    "tracker-logging.conf": None,
    "tracker-no-auto-pageview.conf": None,
    "tracker-renamed.conf": None,
    "two-file-sinks.conf": None,
    "two-pipelines.conf": None,
    "two-prefixes.conf": None,
    "two-sinks-off.conf": None,
    "undefined-references.conf": (
        "The following sources and/or sinks were used in a mapping but never defined: [ghost-sink, ghost-source]."
    ),
}


@functools.cache
def _outcome(name: str) -> Settings | ConfigError:
    try:
        return load(CONFIGS / name, env={})
    except ConfigError as exc:
        return exc


def loaded(name: str) -> Settings:
    outcome = _outcome(name)
    assert isinstance(outcome, Settings), f"{name} was rejected: {outcome}"
    return outcome


def test_every_test_config_is_listed() -> None:
    assert sorted(p.name for p in CONFIGS.glob("*.conf")) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_config_loads_or_is_rejected_like_divolte(name: str) -> None:
    outcome = _outcome(name)
    expected = EXPECTED[name]
    if expected is None:
        assert isinstance(outcome, Settings), f"{name} was rejected: {outcome}"
    else:
        assert isinstance(outcome, ConfigError), f"{name} loaded but Divolte rejects it"
        assert any(expected in problem for problem in outcome.problems), outcome.problems


def test_undefined_sources_and_sinks_are_one_problem() -> None:
    outcome = _outcome("undefined-references.conf")
    assert isinstance(outcome, ConfigError)
    assert outcome.problems == [
        "divolte.mappings: The following sources and/or sinks were used in a mapping but never defined: "
        "[ghost-sink, ghost-source]. Define them under divolte.sources or divolte.sinks, or correct the "
        "mapping."
    ]


def test_name_collisions_also_report_shared_paths() -> None:
    # Divolte reports only the name collision; the three browser sources also all sit at prefix '/'.
    outcome = _outcome("name-collisions.conf")
    assert isinstance(outcome, ConfigError)
    assert len(outcome.problems) == 2
    assert "serve the same paths ('/divolte.js', '/csc-event')" in outcome.problems[1]


# --- values from the test configurations ---------------------------------------------------------------


def test_deep_prefix_gets_its_trailing_slash() -> None:
    settings = loaded("deep-prefix.conf")
    source = settings.sources["shop"]
    assert isinstance(source, BrowserSourceSettings)
    assert source.prefix == "/shop/tracking/v2/"
    assert list(settings.sources) == ["shop"]
    # No sinks section: Divolte's default sinks stay, so the mapping's `hdfs` exists.
    assert list(settings.sinks) == ["hdfs", "kafka", "gcps"]
    assert settings.mappings["orders"].sinks == ("hdfs",)


def test_explicit_and_multiple_browser_sources() -> None:
    explicit = loaded("one-source-one-sink.conf").sources["site"]
    assert isinstance(explicit, BrowserSourceSettings) and explicit.prefix == "/collect/"
    multiple = loaded("two-prefixes.conf").sources
    assert [s.prefix for s in multiple.values() if isinstance(s, BrowserSourceSettings)] == ["/eu/", "/us/"]


def test_javascript_settings() -> None:
    def javascript(name: str) -> tuple[str, bool, bool, bool]:
        source = loaded(name).sources["browser"]
        assert isinstance(source, BrowserSourceSettings)
        js = source.javascript
        return js.name, js.logging, js.debug, js.auto_page_view_event

    assert javascript("tracker-renamed.conf") == ("track.js", False, False, True)
    assert javascript("tracker-logging.conf") == ("divolte.js", True, False, True)
    assert javascript("tracker-debugging.conf") == ("divolte.js", False, True, True)
    assert javascript("tracker-no-auto-pageview.conf") == ("divolte.js", False, False, False)


def test_browser_source_event_suffix_and_response_delay() -> None:
    suffix = loaded("event-path-renamed.conf").sources["browser"]
    assert isinstance(suffix, BrowserSourceSettings) and suffix.event_suffix == "hit"
    slow = loaded("slow-responses.conf").sources["browser"]
    assert isinstance(slow, BrowserSourceSettings)
    assert slow.http_response_delay == 12.0
    assert slow.javascript.auto_page_view_event is False
    assert (slow.party_timeout, slow.session_timeout, slow.javascript.event_timeout) == (63072000.0, 1800.0, 0.75)


def test_empty_sections_replace_the_defaults() -> None:
    settings = loaded("idle-source.conf")
    assert list(settings.sources) == ["idle"]
    assert settings.sinks == {}
    assert settings.mappings == {}


def test_file_sink_sync_settings() -> None:
    settings = loaded("file-sync-every-record.conf")
    hdfs = settings.global_.hdfs
    assert (hdfs.enabled, hdfs.buffer_size, hdfs.threads) == (True, 32, 1)
    assert settings.global_.kafka.enabled is False
    sink = settings.sinks["files"]
    assert isinstance(sink, HdfsSinkSettings)
    assert sink.replication == 3  # explicit hdfs sinks default to 3, the implicit one to 1
    assert sink.file_strategy.sync_file_after_records == 1
    assert sink.file_strategy.sync_file_after_duration == 2.0
    assert (sink.file_strategy.roll_every, sink.file_strategy.working_dir) == (3600.0, "/tmp")
    assert isinstance(settings.sinks["stream"], KafkaSinkSettings)
    assert settings.mappings["clicks"].sinks == ("files", "stream")


def test_json_source_with_default_mapping() -> None:
    settings = loaded("json-only.conf")
    source = settings.sources["app"]
    assert source == JsonSourceSettings(name="app", event_path="/app-events")
    mapping = settings.mappings["default"]
    assert (mapping.sources, mapping.sinks) == (("app",), ("hdfs", "kafka", "gcps"))


def test_duplicate_memory_and_forwarded_for() -> None:
    settings = loaded("behind-proxy.conf")
    assert settings.global_.mapper.duplicate_memory_size == 3
    assert settings.global_.server.use_x_forwarded_for is True


def test_shutdown_timing_layers_two_includes() -> None:
    settings = loaded("shutdown-timing.conf")
    server = settings.global_.server
    assert (server.shutdown_delay, server.shutdown_timeout) == (1.5, 120.0)
    assert settings.global_.mapper.buffer_size == 32
    assert settings.global_.hdfs.enabled is False
    assert server.port == 8290


def test_gcs_retry_settings() -> None:
    sink = loaded("gcs-retries.conf").sinks["bucket"]
    assert isinstance(sink, GcsSinkSettings)
    assert sink.bucket == "gs://clicks/raw"
    retry = sink.retry_settings
    assert (retry.max_attempts, retry.total_timeout, retry.initial_retry_delay) == (7, 120.0, 15.0)
    assert (retry.retry_delay_multiplier, retry.max_retry_delay) == (1.5, 40.0)
    assert (retry.jitter_delay, retry.jitter_factor) == (0.25, None)
    factor = loaded("gcs-jitter-factor.conf").sinks["bucket"]
    assert isinstance(factor, GcsSinkSettings)
    assert (factor.retry_settings.jitter_delay, factor.retry_settings.jitter_factor) == (None, 0.2)
    assert sink.local_dir == "/tmp/divolte-gcs"  # ours: where files wait for upload


def test_gcs_local_dir(tmp_path: Path) -> None:
    path = tmp_path / "gcs.conf"
    path.write_text('divolte.sinks.g { type = gcs, bucket = clicks, local_dir = "/var/lib/divolte-gcs" }')
    sink = load(path).sinks["g"]
    assert isinstance(sink, GcsSinkSettings) and sink.local_dir == "/var/lib/divolte-gcs"


def test_confluent_ids_and_schema_files() -> None:
    settings = loaded("confluent.conf")
    sink = settings.sinks["events"]
    assert isinstance(sink, KafkaSinkSettings) and (sink.mode, sink.topic) == ("confluent", "divolte")
    assert settings.mappings["orders"].confluent_id == 4242
    registry = loaded("confluent-schema-file.conf").mappings["orders"]
    assert registry.schema_file == "schemas/Minimal.avsc"
    naked = loaded("kafka-ids-without-confluent.conf").mappings
    assert (naked["clicks"].confluent_id, naked["clicks"].schema_file) == (501, "clicks.avsc")
    assert (naked["views"].confluent_id, naked["views"].schema_file) == (502, None)


def test_many_to_many_mappings() -> None:
    mappings = loaded("many-to-many.conf").mappings
    assert list(mappings) == ["split", "enrich", "sessionize", "export"]
    assert mappings["export"].sources == ("north", "south", "west")
    assert mappings["export"].sinks == ("audit", "exports")


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


def test_environment_applies_when_reference_conf_is_included_twice() -> None:
    settings = load(CONFIGS / "small-buffers.conf", env={"DIVOLTE_PORT": "8999"})
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


def test_example_configuration() -> None:
    settings = load(CONFIGS / "example.conf", env={})
    sink = settings.sinks["warehouse"]
    assert isinstance(sink, HdfsSinkSettings)
    assert (sink.replication, sink.file_strategy.sync_file_after_duration, sink.file_strategy.publish_dir) == (
        3,
        60.0,
        "/tmp",
    )
    mapping = settings.mappings["clicks"]
    assert (mapping.schema_file, mapping.mapping_script_file) == ("/etc/divolte/Click.avsc", "click-mapping.groovy")
    assert (mapping.sources, mapping.sinks) == (("site",), ("warehouse",))
