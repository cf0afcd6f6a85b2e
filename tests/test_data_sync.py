"""tests/data/sync.py: the copies of Divolte's test data are checked against a source folder, and refreshed."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from tests.data import sync
from tests.paths import DATA


def divolte_folder(root: Path) -> Path:
    """A source folder laid out as Divolte's, made from our own copies (so it matches them)."""
    for name, ours in {**sync.COPIED, **sync.CHECKED_ONLY}.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(ours, root / name)
    return root


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(DATA / "sync.py"), *args], capture_output=True, text=True, check=False)


def test_our_copies_match_a_source_made_from_them(tmp_path: Path) -> None:
    result = run(str(divolte_folder(tmp_path)))
    assert result.returncode == 0, result.stderr
    assert "tests/data matches" in result.stdout


def test_a_changed_or_missing_source_file_is_named(tmp_path: Path) -> None:
    source = divolte_folder(tmp_path)
    (source / "test-fixtures" / "mincode-samples.json").write_text("[]")
    (source / "DefaultEventRecord.avsc").unlink()
    result = run(str(source))
    assert result.returncode == 1
    assert "tests/data/fixtures/mincode-samples.json: differs from" in result.stderr
    assert "DefaultEventRecord.avsc: missing from the source folder" in result.stderr
    assert run(str(tmp_path / "absent")).returncode == 2


def test_refresh_copies_only_what_changed(tmp_path: Path) -> None:
    source = divolte_folder(tmp_path / "divolte")
    ours = {name: tmp_path / "ours" / Path(name).name for name in sync.COPIED}
    for name, path in ours.items():
        path.parent.mkdir(exist_ok=True)
        shutil.copyfile(source / name, path)
    (source / "test-vectors.json").write_text('{"changed": true}')
    ours["test-fixtures/TestRecord.avsc"].unlink()
    assert sorted(sync.refresh(source, ours)) == sorted(
        [str(ours["test-vectors.json"]), str(ours["test-fixtures/TestRecord.avsc"])]
    )
    assert sync.differences(source, ours) == []
    assert ours["test-vectors.json"].read_text() == '{"changed": true}'
