"""``divolte.global.inspector``: off by default, its keys checked, and refused where it would be unsafe or wrong."""

from __future__ import annotations

from pathlib import Path

import pytest

from collector.cli import main
from collector.config.settings import InspectorSettings
from tests.unit.config.helpers import problems, settings

TOKEN = "0123456789abcdef0123"


def test_off_by_default(tmp_path: Path) -> None:
    assert settings(tmp_path, "divolte {}").global_.inspector == InspectorSettings()
    assert InspectorSettings().enabled is False and InspectorSettings().max_events == 1000


def test_every_key_is_read(tmp_path: Path) -> None:
    inspector = settings(tmp_path, f"""
        divolte.global.inspector {{ enabled = true, max_events = 50, allow_remote = true, token = "{TOKEN}" }}
    """).global_.inspector  # fmt: skip
    assert inspector == InspectorSettings(enabled=True, max_events=50, allow_remote=True, token=TOKEN)
    assert TOKEN not in repr(inspector)


def test_remote_access_without_a_token_is_refused_naming_the_key(tmp_path: Path) -> None:
    found = problems(tmp_path, "divolte.global.inspector { enabled = true, allow_remote = true }")
    assert len(found) == 1
    assert found[0].startswith("divolte.global.inspector.token: required when divolte.global.inspector.allow_remote")
    assert "openssl rand -hex 32" in found[0]


def test_a_short_token_is_refused(tmp_path: Path) -> None:
    found = problems(tmp_path, 'divolte.global.inspector { enabled = true, allow_remote = true, token = "secret" }')
    assert found == [
        "divolte.global.inspector.token: too short (6 characters); use at least 16, e.g. the output of "
        "`openssl rand -hex 32`."
    ]


def test_bad_values_and_unknown_keys_name_their_key(tmp_path: Path) -> None:
    found = problems(tmp_path, "divolte.global.inspector { enabled = maybe, max_events = 0, allow_remot = true }")
    assert any(p.startswith("divolte.global.inspector.enabled: expected a boolean") for p in found)
    assert any(p.startswith("divolte.global.inspector.max_events:") for p in found)
    assert any(p.startswith("divolte.global.inspector.allow_remot: unknown key") for p in found)
    too_many = problems(tmp_path, "divolte.global.inspector { enabled = true, max_events = 100001 }")
    assert (
        len(too_many) == 1
        and too_many[0].startswith("divolte.global.inspector.max_events:")
        and "100000" in too_many[0]
    )


def test_several_processes_are_refused_with_what_to_do(tmp_path: Path) -> None:
    found = problems(tmp_path, "divolte.global { inspector.enabled = true, server.processes = 3 }")
    assert len(found) == 1 and found[0].startswith("divolte.global.inspector.enabled: the inspector keeps")
    assert "processes = 3" in found[0] and "--processes 1" in found[0]
    assert settings(tmp_path, "divolte.global.server.processes = 3").global_.server.processes == 3  # off: fine


def test_the_inspect_flag_turns_it_on(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--inspect", "--processes", "2"]) == 1  # refused before anything starts
    err = capsys.readouterr().err
    assert "divolte.global.inspector.enabled: the inspector keeps recent events in one process's memory" in err


def test_the_token_may_come_from_the_environment(tmp_path: Path) -> None:
    text = "divolte.global.inspector { enabled = true, allow_remote = true, token = ${?DIVOLTE_INSPECTOR_TOKEN} }"
    assert settings(tmp_path, text, DIVOLTE_INSPECTOR_TOKEN=TOKEN).global_.inspector.token == TOKEN
    assert problems(tmp_path, text)[0].startswith("divolte.global.inspector.token: required")
