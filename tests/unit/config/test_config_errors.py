"""Configuration problems: each names its key and what to do, and all of them are reported together."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from collector.config.settings import BrowserSourceSettings, KafkaSinkSettings, SinkTypeSettings
from tests.unit.config.helpers import problems, settings

# --- unknown keys --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "key", "allowed"),
    [
        ("divolte.global.server.prot = 1", "divolte.global.server.prot", "host, port, use_x_forwarded_for"),
        ("divolte.globl = {}", "divolte.globl", "global, sources, sinks, mappings"),
        ("divolte.global.mapper.user_agent_parser.kind = x", "divolte.global.mapper.user_agent_parser.kind",
         "type, cache_size"),
        ("divolte.global.kafka.producers = {}", "divolte.global.kafka.producers", "producer"),
        ("divolte.global.gcs.client = {}", "divolte.global.gcs.client", "enabled, threads, buffer_size"),
        ("divolte.sources.b { type = browser, prefx = /x }", "divolte.sources.b.prefx", "prefix, event_suffix"),
        ("divolte.sources.b { type = browser, javascript.nam = x.js }", "divolte.sources.b.javascript.nam",
         "name, logging"),
        ("divolte.sources.j { type = json, prefix = /x }", "divolte.sources.j.prefix", "event_path"),
        ("divolte.sinks.h { type = hdfs, file_strategy.roll = 1s }", "divolte.sinks.h.file_strategy.roll",
         "roll_every"),
        ("divolte.sinks.k { type = kafka, replication = 2 }", "divolte.sinks.k.replication", "topic, mode"),
        ('divolte.sinks.g { type = gcs, bucket = b, retry_settings.jitter = 1 }',
         "divolte.sinks.g.retry_settings.jitter", "jitter_delay, jitter_factor"),
        ("divolte.sinks.p { type = gcps, retry_settings.jitter_factor = 0.1 }",
         "divolte.sinks.p.retry_settings.jitter_factor", "initial_rpc_timeout"),
        ("divolte.sinks.p { type = gcps, batching_settings.count = 1 }",
         "divolte.sinks.p.batching_settings.count", "element_count_threshold"),
        ("divolte.mappings.m { sources = [browser], sinks = [hdfs], schema = x }", "divolte.mappings.m.schema",
         "schema_file, mapping_script_file, confluent_id"),
    ],
)  # fmt: skip
def test_unknown_key_names_its_path_and_the_allowed_keys(tmp_path: Path, text: str, key: str, allowed: str) -> None:
    found = [p for p in problems(tmp_path, text) if p.startswith(f"{key}: unknown key")]
    assert len(found) == 1, problems(tmp_path, text)
    assert allowed in found[0]


def test_keys_outside_divolte_are_ignored(tmp_path: Path) -> None:
    assert settings(tmp_path, "other.app.setting = 1").global_.server.port == 8290


# --- wrong types and ranges ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ('divolte.global.server.port = "abc"', 'divolte.global.server.port: expected an integer, found "abc"'),
        ("divolte.global.server.port = 70000", "divolte.global.server.port: must be between 1 and 65535, found 70000"),
        ("divolte.global.server.port = 0", "divolte.global.server.port: must be between 1 and 65535, found 0"),
        ("divolte.global.server.port = 80.5", "divolte.global.server.port: expected an integer, found 80.5"),
        ("divolte.global.server.debug_requests = maybe",
         'divolte.global.server.debug_requests: expected a boolean (true or false), found "maybe"'),
        ("divolte.global.mapper.threads = 0", "divolte.global.mapper.threads: must be between 1 and 2147483647"),
        ("divolte.global.mapper.buffer_size = -1", "divolte.global.mapper.buffer_size: must be between 1"),
        ("divolte.global.server.host = [a, b]", "divolte.global.server.host: expected a string, found a list"),
        ("divolte.global.server = 5", "divolte.global.server: expected an object ({ ... }), found 5"),
        ("divolte.global.kafka.producer = x", 'divolte.global.kafka.producer: expected an object of properties'),
        ("divolte.global.kafka.producer.acks = null",
         "divolte.global.kafka.producer.acks: null is not allowed in properties"),
        ("divolte.sources = [a]", "divolte.sources: expected an object of named entries, found a list"),
        ("divolte.sources.b = browser", 'divolte.sources.b: expected an object, found "browser"'),
        ("divolte.mappings.m { sources = browser, sinks = [hdfs] }",
         'divolte.mappings.m.sources: expected a list of sources names, found "browser"'),
        ("divolte.sinks.g { type = gcs, bucket = b, retry_settings.jitter_factor = 2 }",
         "divolte.sinks.g.retry_settings.jitter_factor: must be between 0 and 1, found 2"),
        ("divolte.sinks.k { type = kafka, topic = 1 hour }",
         "divolte.sinks.k.topic: expected a string, found a duration (3600 seconds); put the value in quotes"),
    ],
)  # fmt: skip
def test_wrong_type_names_key_found_and_expected(tmp_path: Path, text: str, problem: str) -> None:
    found = problems(tmp_path, text)
    assert any(p.startswith(problem) for p in found), found


def test_scalars_are_coerced_like_jackson(tmp_path: Path) -> None:
    loaded = settings(
        tmp_path,
        """
        divolte.global.server { port = "8080", debug_requests = "TRUE" }
        divolte.sinks.k { type = kafka, topic = 42 }
        divolte.global.mapper.user_agent_parser.type = CACHING_AND_UPDATING
        """,
    )
    assert (loaded.global_.server.port, loaded.global_.server.debug_requests) == (8080, True)
    assert loaded.sinks["k"] == KafkaSinkSettings(name="k", topic="42")
    assert loaded.global_.mapper.user_agent_parser.type == "caching_and_updating"


# --- durations -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ('"30 seconds"', 30.0),
        ("30 seconds", 30.0),
        ('"1 second"', 1.0),
        ('"750 milliseconds"', 0.75),
        ('"750ms"', 0.75),
        ('"1 milli"', 0.001),
        ('"5"', 0.005),
        ('"1.5 h"', 5400.0),
        ('"2 minutes"', 120.0),
        ('"1 day"', 86400.0),
        ('"100 us"', 0.0001),
        ('"250000 nanos"', 0.00025),
    ],
)
def test_duration_grammar(tmp_path: Path, value: str, seconds: float) -> None:
    loaded = settings(tmp_path, f"divolte.global.server.shutdown_delay = {value}")
    assert loaded.global_.server.shutdown_delay == pytest.approx(seconds)


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("5", "a bare number is not accepted, add a unit"),
        ("5.5", "a bare number is not accepted, add a unit"),
        ('"5 fortnights"', "Could not parse time unit 'fortnights' (try ns, us, ms, s, m, h, d)"),
        ('"5 Seconds"', "Could not parse time unit 'Seconds'"),
        ('"5 sec"', "Could not parse time unit 'sec'"),
        ('"seconds"', "No number in duration value 'seconds'"),
        ('"1.2.3 s"', "Could not parse duration number '1.2.3'"),
        ('"-1 s"', 'must not be negative, found "-1 s"'),
        ("true", "expected a duration"),
    ],
)
def test_bad_durations(tmp_path: Path, value: str, problem: str) -> None:
    found = problems(tmp_path, f"divolte.global.server.shutdown_delay = {value}")
    assert len(found) == 1
    assert found[0].startswith("divolte.global.server.shutdown_delay: ")
    assert problem in found[0]


# --- enums ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("divolte.global.mapper.user_agent_parser.type = bogus",
         'divolte.global.mapper.user_agent_parser.type: "bogus" is not one of: non_updating, online_updating, '
         "caching_and_updating"),
        ("divolte.sinks.s.type = blob", 'divolte.sinks.s.type: "blob" is not one of: hdfs, gcs, kafka, gcps, s3'),
        ("divolte.sinks.s.type = HDFS", 'divolte.sinks.s.type: "HDFS" is not one of: hdfs, gcs, kafka, gcps, s3'),
        ("divolte.sinks.s.topic = x", "divolte.sinks.s.type: missing; set the type of this entry to one of: hdfs, "
         "gcs, kafka, gcps, s3"),
        ("divolte.sinks.k { type = kafka, mode = avro }",
         'divolte.sinks.k.mode: "avro" is not one of: naked, confluent'),
        ("divolte.sources.s.type = mobile", 'divolte.sources.s.type: "mobile" is not one of: browser, json'),
        ("divolte.sources.s.prefix = /x", "divolte.sources.s.type: missing; set the type of this entry to one of: "
         "browser, json"),
    ],
)  # fmt: skip
def test_enum_values_list_what_is_allowed(tmp_path: Path, text: str, problem: str) -> None:
    assert problem in problems(tmp_path, text)


def test_broken_entry_is_not_also_reported_as_undefined(tmp_path: Path) -> None:
    found = problems(tmp_path, "divolte.sinks.s.type = blob\ndivolte.mappings.m { sources = [browser], sinks = [s] }")
    assert found == ['divolte.sinks.s.type: "blob" is not one of: hdfs, gcs, kafka, gcps, s3']


# --- properties, prefixes, names -----------------------------------------------------------------------


def test_properties_are_flattened(tmp_path: Path) -> None:
    loaded = settings(
        tmp_path,
        """
        divolte.global.hdfs.client { fs.defaultFS = "file:///", dfs { replication = 2, enabled = true } }
        divolte.global.kafka.producer { bootstrap.servers = [a, "b:1"], linger.ms = 5 }
        """,
    )
    assert loaded.global_.hdfs == SinkTypeSettings(
        enabled=True,
        threads=2,
        client={"fs.defaultFS": "file:///", "dfs.replication": "2", "dfs.enabled": "true"},
    )
    assert loaded.global_.kafka.producer["bootstrap.servers"] == "a,b:1"
    assert loaded.global_.kafka.producer["linger.ms"] == "5"


def test_prefix_gets_a_trailing_slash_once(tmp_path: Path) -> None:
    loaded = settings(
        tmp_path,
        """
        divolte.sources { a { type = browser, prefix = /a }, b { type = browser, prefix = "/b/" } }
        """,
    )
    prefixes = [s.prefix for s in loaded.sources.values() if isinstance(s, BrowserSourceSettings)]
    assert prefixes == ["/a/", "/b/"]


@pytest.mark.parametrize("name", ["404.exe", "divolte", "a/b.js", "x.js.map", ".js"])
def test_javascript_name_pattern_uses_divoltes_message(tmp_path: Path, name: str) -> None:
    found = problems(tmp_path, f'divolte.sources.browser {{ type = browser, javascript.name = "{name}" }}')
    assert found == [
        f"Property 'divolte.sources.browser.javascript.name' must match \"^[A-Za-z0-9_-]+\\.js$\". Found: '{name}'."
    ]


def test_source_paths(tmp_path: Path) -> None:
    found = problems(
        tmp_path,
        """
        divolte.sources {
          a { type = browser, prefix = /same }
          b { type = browser, prefix = /same/ }
          j { type = json, event_path = json }
          k { type = json, event_path = /same/csc-event }
        }
        """,
    )
    assert found == [
        "divolte.sources.j.event_path: must start with '/', found 'json'",
        "divolte.sources: the sources [a, b] serve the same paths ('/same/divolte.js'); give each browser source "
        "its own prefix, and each JSON source its own event_path",
        "divolte.sources: the sources [a, b, k] serve the same paths ('/same/csc-event'); give each browser "
        "source its own prefix, and each JSON source its own event_path",
    ]


def test_browser_sources_with_distinct_prefixes_and_a_json_source(tmp_path: Path) -> None:
    loaded = settings(
        tmp_path,
        "divolte.sources { a { type = browser }, b { type = browser, prefix = /b }, j { type = json } }",
    )
    assert list(loaded.sources) == ["a", "b", "j"]


# --- required keys and cross-field rules ---------------------------------------------------------------


def test_required_mapping_keys_and_bucket(tmp_path: Path) -> None:
    found = problems(tmp_path, "divolte.mappings.m {}\ndivolte.sinks.g.type = gcs")
    assert found == [
        'divolte.sinks.g.bucket: missing; name the Cloud Storage bucket, e.g. bucket = "my-clickstream"',
        "divolte.mappings.m.sources: missing; list the sources by name, e.g. sources = [source-name]",
        "divolte.mappings.m.sinks: missing; list the sinks by name, e.g. sinks = [sink-name]",
    ]


def test_pubsub_needs_a_project(tmp_path: Path) -> None:
    text = "divolte.global.gcps.enabled = true"
    assert problems(tmp_path, text) == [
        "divolte.global.gcps.project_id: A configured or default Google Cloud project id must be available if "
        "Pub/Sub support is enabled. Set project_id, or the GOOGLE_CLOUD_PROJECT environment variable."
    ]
    assert settings(tmp_path, text, GOOGLE_CLOUD_PROJECT="from-env").global_.gcps.project_id == "from-env"
    configured = settings(tmp_path, text + "\ndivolte.global.gcps.project_id = mine", GOOGLE_CLOUD_PROJECT="x")
    assert configured.global_.gcps.project_id == "mine"


def test_explicit_sinks_replace_the_defaults(tmp_path: Path) -> None:
    loaded = settings(tmp_path, "divolte.sinks.files.type = hdfs")
    assert list(loaded.sinks) == ["files"]
    assert loaded.mappings["default"].sinks == ("files",)


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    found = problems(
        tmp_path,
        """
        divolte {
          global.server { port = abc, prot = 1, shutdown_delay = 10 }
          sources.browser { type = browser, javascript.name = bad }
          sinks.kafka { type = kafka, mode = confluent }
          mappings.m { sources = [browser, nowhere], sinks = [kafka] }
        }
        """,
    )
    assert len(found) == 6, found
    assert [p.split(":")[0] for p in found[:3]] == [
        "divolte.global.server.port",
        "divolte.global.server.shutdown_delay",
        "divolte.global.server.prot",
    ]
    assert "never defined: [nowhere]" in found[3]
    assert "The following mappings are missing this: [m]" in found[4]
    assert found[5].startswith("Property 'divolte.sources.browser.javascript.name' must match")


# --- processes -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "found"),
    [("0", "must be between 1 and 256, found 0"), ("-2", "must be between 1 and 256, found -2"),
     ("257", "must be between 1 and 256, found 257"), ("many", 'expected an integer, found "many"'),
     ("1.5", "expected an integer, found 1.5")],
)  # fmt: skip
def test_processes_must_be_a_count_or_auto(tmp_path: Path, value: str, found: str) -> None:
    assert problems(tmp_path, f"divolte.global.server.processes = {value}") == [
        f"divolte.global.server.processes: {found}; or auto (one process per usable core)"
    ]


def test_processes_auto_is_the_usable_cores_and_the_environment_overrides(tmp_path: Path) -> None:
    assert settings(tmp_path, "divolte.global.server.processes = auto").global_.server.processes == len(
        os.sched_getaffinity(0)
    )
    assert settings(tmp_path, "").global_.server.processes == 1
    assert settings(tmp_path, "", DIVOLTE_PROCESSES="3").global_.server.processes == 3
    assert settings(tmp_path, "", DIVOLTE_PROCESSES="AUTO").global_.server.processes == len(os.sched_getaffinity(0))
    assert problems(tmp_path, "", DIVOLTE_PROCESSES="0")[0].startswith("divolte.global.server.processes: must be")
