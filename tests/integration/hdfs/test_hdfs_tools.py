"""``divolte-collector cat hdfs://… / webhdfs://…`` and ``check-config --connect`` against the real cluster."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from collector.avro.container import block, header
from collector.avro.encode import RecordEncoder
from collector.avro.schemas import parse_schema_text
from collector.cli import main
from tests.integration.hdfs.conftest import HdfsFolders
from tests.servers.hdfs.cluster import free_port

pytestmark = pytest.mark.integration

SCHEMA = parse_schema_text('{"type": "record", "name": "R", "fields": [{"name": "n", "type": "int"}]}', "test")
ENCODER = RecordEncoder(SCHEMA)


def avro_file(numbers: range) -> bytes:
    marker = b"m" * 16
    return header(SCHEMA.json, marker) + block([ENCODER.encode({"n": n}) for n in numbers], marker)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def config(folders: HdfsFolders, tmp_path: Path, working: str | None = None) -> Path:
    cluster = folders.cluster
    path = tmp_path / "collector.conf"
    path.write_text(f"""
divolte.global.hdfs.client {{
  fs.defaultFS = "{cluster.default_fs}"
  dfs.namenode.http-address = "{cluster.http_address}"
  hadoop.user.name = divolte
}}
divolte.sources.browser.type = browser
divolte.sinks.hdfs {{
  type = hdfs
  file_strategy {{ working_dir = "{working or folders.working}", publish_dir = "{folders.published}" }}
}}
divolte.mappings.m {{ sources = [browser], sinks = [hdfs] }}
""")
    return path


def test_cat_reads_files_and_folders_over_webhdfs(
    hdfs_folders: HdfsFolders, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("HADOOP_USER_NAME", raising=False)
    cluster = hdfs_folders.cluster
    for name, numbers in (("b.avro", range(2, 4)), ("a.avro", range(2))):
        cluster.webhdfs("PUT", f"{hdfs_folders.published}/{name}", "CREATE", data=avro_file(numbers))
    code, out, err = run(capsys, "cat", f"webhdfs://{cluster.http_address}{hdfs_folders.published}/a.avro")
    assert (code, err) == (0, "")
    assert [json.loads(line) for line in out.splitlines()] == [{"n": 0}, {"n": 1}]
    # hdfs:// with the collector's client settings (the NameNode's HTTP address comes from them)
    folder = f"hdfs://127.0.0.1:{cluster.rpc_port}{hdfs_folders.published}"
    code, out, err = run(capsys, "cat", "--config", str(config(hdfs_folders, tmp_path)), folder)
    assert (code, err) == (0, "")
    assert [json.loads(line)["n"] for line in out.splitlines()] == [0, 1, 2, 3]
    code, out, _ = run(capsys, "cat", "--count", f"webhdfs://{cluster.http_address}{hdfs_folders.published}/")
    assert out.splitlines()[-1] == "4 total"
    code, _, err = run(capsys, "cat", f"webhdfs://{cluster.http_address}{hdfs_folders.root}/missing.avro")
    assert code == 1
    assert (
        err
        == f"Error: webhdfs://{cluster.http_address}{hdfs_folders.root}/missing.avro: no such file or folder on HDFS\n"
    )


def test_check_config_connect_reaches_hdfs_and_checks_the_directories(
    hdfs_folders: HdfsFolders, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("HADOOP_USER_NAME", raising=False)
    code, out, err = run(capsys, "check-config", "--connect", str(config(hdfs_folders, tmp_path)))
    assert (code, err) == (0, "")
    assert (
        f"Sink 'hdfs': HDFS answers (WebHDFS at http://{hdfs_folders.cluster.http_address} as user divolte); "
        f"{hdfs_folders.working} and {hdfs_folders.published} are writable directories"
    ) in out
    missing = f"{hdfs_folders.root}/missing"
    code, out, err = run(capsys, "check-config", "--connect", str(config(hdfs_folders, tmp_path, working=missing)))
    assert code == 1
    assert err.startswith(
        f"Connection check failed:\n  - divolte.sinks.hdfs.file_strategy.working_dir: directory '{missing}' does not "
        "exist on HDFS"
    )
    # Without --connect the configuration alone is checked: HDFS is not contacted.
    code, out, err = run(capsys, "check-config", str(config(hdfs_folders, tmp_path, working=missing)))
    assert code == 0


def test_check_config_connect_finds_the_active_namenode_of_a_nameservice(
    hdfs_folders: HdfsFolders, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("HADOOP_USER_NAME", raising=False)
    down = f"127.0.0.1:{free_port()}"
    path = tmp_path / "ha.conf"
    path.write_text(f"""
divolte.global.hdfs.client {{
  fs.defaultFS = "hdfs://lake"
  dfs.nameservices = lake
  dfs.ha.namenodes.lake = "nn1,nn2"
  dfs.namenode.http-address.lake.nn1 = "{down}"
  dfs.namenode.http-address.lake.nn2 = "{hdfs_folders.cluster.http_address}"
  hadoop.user.name = divolte
}}
divolte.sources.browser.type = browser
divolte.sinks.hdfs {{
  type = hdfs
  file_strategy {{ working_dir = "hdfs://lake{hdfs_folders.working}", publish_dir = "{hdfs_folders.published}" }}
}}
divolte.mappings.m {{ sources = [browser], sinks = [hdfs] }}
""")
    code, out, err = run(capsys, "check-config", "--connect", str(path))
    assert (code, err) == (0, "")
    assert (
        f"Sink 'hdfs': HDFS answers (WebHDFS at http://{down}, http://{hdfs_folders.cluster.http_address} as user "
        f"divolte); {hdfs_folders.working} and {hdfs_folders.published} are writable directories"
    ) in out
