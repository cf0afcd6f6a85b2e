"""S3 object keys (``prefix`` + ``key_pattern``), s3:// URLs, AWS profiles, and the s3 sink's configuration."""

from __future__ import annotations

from pathlib import Path

import pytest

from collector.config import load
from collector.config.settings import S3SinkSettings
from collector.errors import ConfigError
from collector.sinks.s3_store import check_key_pattern, object_key, parse_s3_url, profile_settings

NAME = "20240131093055-divolte-tracking-web-01-2.avro"


def test_default_key_is_hive_style_from_the_file_name() -> None:
    settings = S3SinkSettings(name="lake", bucket="b", prefix="clickstream/")
    key = object_key(settings.prefix, settings.key_pattern, NAME, "lake")
    assert key == f"clickstream/dt=2024-01-31/hour=09/{NAME}"
    assert object_key("", settings.key_pattern, NAME, "lake") == f"dt=2024-01-31/hour=09/{NAME}"


def test_every_placeholder() -> None:
    pattern = "{sink}/{year}/{month}/{day}/{hour}{minute}/{date}/{name}"
    assert object_key("p/", pattern, NAME, "lake") == f"p/lake/2024/01/31/0930/2024-01-31/{NAME}"


def test_key_of_a_name_that_is_not_the_collector_s_is_an_error() -> None:
    with pytest.raises(ValueError, match="not a collector file name"):
        object_key("", "{name}", "notes.txt", "lake")


@pytest.mark.parametrize(
    ("pattern", "message"),
    [
        ("dt={date}/{file}", r"unknown placeholder\(s\) \{file\}.*Allowed: \{name\}, \{date\}"),
        ("dt={date}/hour={hour}", "must contain {name}"),
        ("dt={date/{name}", "not a valid pattern"),
        ("/dt={date}/{name}", "must not start with '/'"),
    ],
)
def test_bad_key_patterns_are_refused_with_the_allowed_placeholders(pattern: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        check_key_pattern(pattern, "divolte.sinks.lake.key_pattern")


def test_s3_urls() -> None:
    assert parse_s3_url("s3://bucket/a/b.avro") == ("bucket", "a/b.avro")
    assert parse_s3_url("s3://bucket") == ("bucket", "")
    with pytest.raises(ValueError, match="no bucket"):
        parse_s3_url("s3:///key")
    with pytest.raises(ValueError, match="not an s3:// URL"):
        parse_s3_url("/tmp/x.avro")


def test_profile_credentials_and_region(tmp_path: Path) -> None:
    (tmp_path / "credentials").write_text(
        "[default]\naws_access_key_id = AKDEFAULT\naws_secret_access_key = s1\n"
        "[ci]\naws_access_key_id = AKCI\naws_secret_access_key = s2\naws_session_token = tok\n"
    )
    (tmp_path / "config").write_text("[default]\nregion = eu-west-1\n[profile ci]\nregion = eu-central-1\n")
    env = {"AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "credentials"), "AWS_CONFIG_FILE": str(tmp_path / "config")}
    assert profile_settings(env) == {"access_key_id": "AKDEFAULT", "secret_access_key": "s1", "region": "eu-west-1"}
    assert profile_settings({**env, "AWS_PROFILE": "ci"}) == {
        "access_key_id": "AKCI", "secret_access_key": "s2", "session_token": "tok", "region": "eu-central-1",
    }  # fmt: skip
    assert profile_settings({**env, "AWS_PROFILE": "missing"}) == {}
    assert profile_settings({"HOME": str(tmp_path / "nowhere")}) == {}


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "c.conf"
    path.write_text(text)
    return path


def test_s3_sink_settings(tmp_path: Path) -> None:
    settings = load(
        write(
            tmp_path,
            """divolte {
      sources.browser.type = browser
      sinks.lake {
        type = s3, bucket = clicks, prefix = "/raw/events/", region = eu-west-1, endpoint = "http://127.0.0.1:9000"
        key_pattern = "{date}/{name}"
        file_strategy { roll_every = 15 minutes, codec = zstandard, working_dir = /var/tmp }
        retry_settings { max_retry_delay = 10 seconds }
      }
      mappings.m { sources = [browser], sinks = [lake] }
    }""",
        )
    )
    lake = settings.sinks["lake"]
    assert isinstance(lake, S3SinkSettings)
    assert (lake.bucket, lake.prefix, lake.region, lake.endpoint) == ("clicks", "raw/events/", "eu-west-1",
                                                                       "http://127.0.0.1:9000")  # fmt: skip
    assert lake.key_pattern == "{date}/{name}"
    assert (lake.file_strategy.roll_every, lake.file_strategy.codec) == (900.0, "zstandard")
    assert (lake.retry_settings.initial_retry_delay, lake.retry_settings.max_retry_delay) == (1.0, 10.0)
    assert settings.global_.s3.enabled


def test_s3_sink_errors_name_the_keys(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load(
            write(
                tmp_path,
                """divolte {
          sources.browser.type = browser
          sinks.lake { type = s3, file_strategy { publish_dir = /tmp, codec = gzip } }
          sinks.files { type = hdfs, file_strategy.codec = ZSTD }
          mappings.m { sources = [browser], sinks = [lake, files] }
        }""",
            )
        )
    problems = "\n".join(caught.value.problems)
    assert "divolte.sinks.lake.bucket: missing" in problems
    assert 'divolte.sinks.lake.file_strategy.codec: "gzip" is not one of: null, deflate, snappy, zstandard' in problems
    assert "divolte.sinks.lake.file_strategy.publish_dir: unknown key" in problems
    assert 'divolte.sinks.files.file_strategy.codec: "ZSTD" is not one of: null, deflate, snappy, zstandard' in problems


def test_check_config_reports_the_s3_sink_s_problems_and_describes_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from collector.cli import main

    text = """divolte {
      sources.browser.type = browser
      sinks.lake { type = s3, bucket = b, key_pattern = "%s", file_strategy.working_dir = "%s" }
      mappings.m { sources = [browser], sinks = [lake] }
    }"""
    path = write(tmp_path, text % ("{date}/{file}", tmp_path / "missing"))
    assert main(["check-config", str(path)]) == 1
    err = capsys.readouterr().err
    assert "divolte.sinks.lake.key_pattern: unknown placeholder(s) {file}" in err
    path = write(tmp_path, text % ("{date}/{name}", tmp_path / "missing"))
    assert main(["check-config", str(path)]) == 1
    assert f"divolte.sinks.lake.file_strategy.working_dir: directory '{tmp_path / 'missing'}' does not exist" in (
        capsys.readouterr().err
    )
    path = write(tmp_path, text % ("{date}/{name}", tmp_path))
    assert main(["check-config", str(path)]) == 0
    assert "uploaded to s3://b/{date}/{name}" in capsys.readouterr().out
    assert (tmp_path / "lake" / "upload").is_dir()
