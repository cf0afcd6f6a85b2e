"""The command line: check-config's verdicts and messages, and where configuration is looked for."""

from __future__ import annotations

from pathlib import Path

import pytest

from collector.cli import find_config, main
from tests.paths import SHARED

CONFIGS = SHARED / "test-configs"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_check_config_accepts_a_valid_divolte_file(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "check-config", str(CONFIGS / "hdfs-flusher-test.conf"))
    assert code == 0
    assert "Configuration OK" in out
    assert "sync every 1 records or 1 s" in out


def test_check_config_reports_divolte_s_reason(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "check-config", str(CONFIGS / "source-sink-collisions.conf"))
    assert code == 1
    assert "Source and sink names cannot collide" in err
    assert "[foo, bar]" in err


def test_every_problem_is_reported_with_its_key(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    conf = tmp_path / "bad.conf"
    conf.write_text(
        'divolte.global.server { prot = 1, port = "abc" }\n'
        'divolte.sources.browser { type = browser, javascript.name = "tracker" }\n'
    )
    code, _, err = run(capsys, "check-config", str(conf))
    assert code == 1
    assert "Configuration errors (3)" in err
    assert "divolte.global.server.prot" in err
    assert "divolte.global.server.port" in err
    assert "Found: 'tracker'" in err


def test_json_sources_are_described(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "check-config", str(CONFIGS / "json-source.conf"))
    assert code == 0
    assert "Source 'test-json-source': JSON events POST http://127.0.0.1:8290/json-event?p=<party id>" in out


def test_missing_directories_and_files_are_named(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    conf = tmp_path / "dirs.conf"
    conf.write_text(
        "divolte.sources.browser.type = browser\n"
        f'divolte.sinks.files {{ type = hdfs, file_strategy {{ working_dir = "{tmp_path}/nope", '
        f'publish_dir = "{tmp_path}" }} }}\n'
        "divolte.mappings.m { sources = [browser], sinks = [files] }\n"
    )
    code, _, err = run(capsys, "check-config", str(conf))
    assert code == 1 and f"{tmp_path}/nope' does not exist" in err
    code, _, err = run(capsys, "check-config", str(tmp_path / "absent.conf"))
    assert code == 1 and "absent.conf' does not exist" in err


def test_config_is_found_like_divolte_s_launcher(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DIVOLTE_CONF_DIR", raising=False)
    assert find_config(None) is None  # the embedded default
    assert find_config("x.conf") == Path("x.conf")
    monkeypatch.setenv("DIVOLTE_CONF_DIR", str(tmp_path))
    assert find_config(None) is None  # the directory has no divolte-collector.conf
    (tmp_path / "divolte-collector.conf").write_text("")
    assert find_config(None) == tmp_path / "divolte-collector.conf"


def test_processes_option_is_checked_as_the_configuration_key(capsys: pytest.CaptureFixture[str]) -> None:
    for value in ("0", "-1", "x", "300"):
        code, _, err = run(capsys, "--processes", value, "--port", "1")
        assert code == 1, value
        assert "divolte.global.server.processes:" in err and "or auto" in err, err
