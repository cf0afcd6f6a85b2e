"""Configuration that cannot work is refused at start-up with its key and the fix; settings accepted without
effect say so once; the supervision settings are read and checked."""

from __future__ import annotations

import importlib.util
import logging
from pathlib import Path

import pytest

from collector.app import build_app
from collector.config import ConfigError, load
from tests.unit.config.helpers import problems, write

KAFKA_GSSAPI = """
divolte.global.kafka { enabled = true, producer { bootstrap.servers = "127.0.0.1:9", security.protocol = SASL_PLAINTEXT,
                                                  sasl.mechanism = GSSAPI, sasl.kerberos.service.name = kafka } }
divolte.global.kafka.spool_dir = "{spool}"
divolte.sources.browser.type = browser
divolte.sinks.k.type = kafka
divolte.mappings.m { sources = [browser], sinks = [k] }
"""


def folders(path: Path) -> str:
    return f'working_dir = "{path}", publish_dir = "{path}"'


def test_gssapi_without_its_library_is_refused_naming_the_extra(tmp_path: Path) -> None:
    settings = load(write(tmp_path, KAFKA_GSSAPI.replace("{spool}", str(tmp_path / "spool"))), env={})
    if importlib.util.find_spec("gssapi") is not None:  # the extra is installed: the mechanism is usable
        build_app(settings)
        return
    with pytest.raises(ConfigError) as refused:
        build_app(settings)
    (problem,) = refused.value.problems
    assert problem.startswith("divolte.global.kafka.producer.sasl.mechanism: GSSAPI needs the Python package 'gssapi'")
    assert "pip install 'divolte-collector-py[kerberos]'" in problem


def test_a_file_system_other_than_hdfs_is_refused_rather_than_writing_local_folders(tmp_path: Path) -> None:
    found = problems(
        tmp_path,
        f"""
        divolte.global.hdfs.client.fs.defaultFS = "s3a://bucket"
        divolte.sources.browser.type = browser
        divolte.sinks.files {{ type = hdfs, file_strategy {{ {folders(tmp_path)} }} }}
        divolte.mappings.m {{ sources = [browser], sinks = [files] }}
        """,
    )
    assert found == [
        "divolte.global.hdfs.client.fs.defaultFS: 's3a://bucket' uses the 's3a:' scheme; hdfs sinks write to HDFS "
        "(hdfs://, webhdfs://, swebhdfs://) or to local directories (file: or no fs.defaultFS). For object storage "
        "use an s3 sink."
    ]


def test_an_hdfs_file_system_is_taken_with_directories_on_it(tmp_path: Path) -> None:
    config = """
    divolte.global.hdfs.client.fs.defaultFS = "hdfs://namenode:8020"
    divolte.sources.browser.type = browser
    divolte.sinks.files {{ type = hdfs, file_strategy {{ working_dir = "{working}", publish_dir = /published }} }}
    divolte.mappings.m {{ sources = [browser], sinks = [files] }}
    """
    load(write(tmp_path, config.format(working="hdfs://namenode:8020/inflight")), env={})
    found = problems(tmp_path, config.format(working="hdfs://elsewhere:8020/inflight"))
    assert found == [
        "divolte.sinks.files.file_strategy.working_dir: 'hdfs://elsewhere:8020/inflight' is not on the file system "
        "of divolte.global.hdfs.client.fs.defaultFS (namenode:8020); use a plain absolute path, or a URI with the "
        "same scheme and authority."
    ]


def test_a_local_default_fs_and_a_disabled_hdfs_are_fine(tmp_path: Path) -> None:
    load(write(tmp_path, 'divolte.global.hdfs.client.fs.defaultFS = "file:///"'), env={})
    load(write(tmp_path, 'divolte.global.hdfs { enabled = false, client.fs.defaultFS = "hdfs://nn:8020" }'), env={})


def test_replication_warns_once_that_it_has_no_effect(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    text = f"""
    divolte.sources.browser.type = browser
    divolte.sinks.a {{ type = hdfs, replication = 2, file_strategy {{ {folders(tmp_path)} }} }}
    divolte.sinks.b {{ type = hdfs, replication = 3, file_strategy {{ {folders(tmp_path)} }} }}
    divolte.sinks.c {{ type = hdfs, file_strategy {{ {folders(tmp_path)} }} }}
    divolte.mappings.m {{ sources = [browser], sinks = [a, b, c] }}
    """
    with caplog.at_level(logging.WARNING, logger="collector.app"):
        build_app(load(write(tmp_path, text), env={}))
    lines = [r.getMessage() for r in caplog.records if "replication" in r.getMessage()]
    assert len(lines) == 1, lines
    assert lines[0].startswith("divolte.sinks.a.replication = 2, divolte.sinks.b.replication = 3: no effect")
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="collector.app"):
        build_app(load(None, env={}))  # Divolte's implicit replication-1 sink: nothing the user wrote
    assert not [r for r in caplog.records if "replication" in r.getMessage()]


def test_supervision_settings(tmp_path: Path) -> None:
    default = load(None, env={}).global_.supervision
    assert (default.write_timeout, default.failing_after) == (60.0, 30.0)
    text = "divolte.global.supervision { write_timeout = 5 seconds, failing_after = 2 minutes }"
    read = load(write(tmp_path, text), env={}).global_.supervision
    assert (read.write_timeout, read.failing_after) == (5.0, 120.0)
    (problem,) = problems(tmp_path, "divolte.global.supervision.failing_after = 30")
    assert problem.startswith("divolte.global.supervision.failing_after: expected a duration")
