"""``divolte-collector cat``: JSON lines, counts, .partial files, reader schemas, and files that are not Avro."""

from __future__ import annotations

import base64
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from collector.avro.container import ContainerWriter
from collector.avro.encode import RecordEncoder
from collector.avro.schemas import parse_schema_text
from collector.cli import main
from collector.tools.cat import cat
from tests.paths import REPO

SCHEMA_TEXT = """{"type": "record", "name": "R", "namespace": "t", "fields": [
  {"name": "n", "type": "int"}, {"name": "p", "type": ["null", "string"], "default": null},
  {"name": "raw", "type": "bytes"}, {"name": "ts", "type": {"type": "long", "logicalType": "timestamp-millis"}}]}"""
SCHEMA = parse_schema_text(SCHEMA_TEXT, "test")
ENCODER = RecordEncoder(SCHEMA)


def record(n: int) -> dict[str, object]:
    return {"n": n, "p": None if n % 2 else f"p{n}", "raw": bytes([n, 255]), "ts": 1_700_000_000_000 + n}


def write_file(path: Path, blocks: list[range], codec: str = "null", torn: bytes = b"") -> Path:
    with open(path, "wb") as handle:
        writer = ContainerWriter(handle, SCHEMA.json, codec)
        for numbers in blocks:
            writer.write_block([ENCODER.encode(record(n)) for n in numbers])
        handle.write(torn)
    return path


def run(*args: str, **kwargs: object) -> tuple[int, str, str]:
    out, err = io.BytesIO(), io.StringIO()
    status = cat(list(args), out=out, err=err, **kwargs)  # type: ignore[arg-type]
    return status, out.getvalue().decode(), err.getvalue()


@pytest.mark.parametrize("codec", ["null", "deflate", "snappy", "zstandard"])
def test_records_as_json_lines(tmp_path: Path, codec: str) -> None:
    path = write_file(tmp_path / "a.avro", [range(3), range(3, 5)], codec)
    status, out, err = run(str(path))
    assert (status, err) == (0, "")
    lines = [json.loads(line) for line in out.splitlines()]
    assert [line["n"] for line in lines] == [0, 1, 2, 3, 4]
    raw = base64.b64encode(b"\x00\xff").decode()
    assert lines[0] == {"n": 0, "p": "p0", "raw": raw, "ts": "2023-11-14T22:13:20+00:00"}
    assert lines[1]["p"] is None  # unions are written as their value


def test_count_one_and_several_files(tmp_path: Path) -> None:
    a = write_file(tmp_path / "a.avro", [range(3), range(3, 5)], "snappy")
    b = write_file(tmp_path / "b.avro", [range(7)])
    assert run(str(a), count=True) == (0, "5\n", "")
    assert run(str(a), str(b), count=True) == (0, f"5 {a}\n7 {b}\n12 total\n", "")


def test_partial_file_is_read_up_to_its_last_complete_block(tmp_path: Path) -> None:
    partial = write_file(tmp_path / "x.avro.partial", [range(4), range(4, 6)], "zstandard", torn=b"\x10\x80\x01abc")
    status, out, err = run(str(partial))
    assert (status, err) == (0, "")
    assert len(out.splitlines()) == 6
    assert run(str(partial), count=True) == (0, "6\n", "")
    cut = write_file(tmp_path / "cut.avro", [range(2)], torn=b"\x02")  # not .partial: said on stderr
    status, out, err = run(str(cut))
    assert (status, len(out.splitlines())) == (0, 2)
    assert "last 1 bytes are not a complete block" in err


def test_not_avro_and_missing_files_are_named_and_the_others_still_printed(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("hello")
    (tmp_path / "empty.avro").write_bytes(b"")
    good = write_file(tmp_path / "good.avro", [range(2)])
    status, out, err = run(str(tmp_path / "notes.txt"), str(tmp_path / "empty.avro"), str(tmp_path / "nope.avro"),
                           str(good))  # fmt: skip
    assert status == 1
    assert len(out.splitlines()) == 2
    assert f"{tmp_path / 'notes.txt'}: not an Avro container file (it starts with b'hell'" in err
    assert f"{tmp_path / 'empty.avro'}: not an Avro container file (an empty file)" in err
    assert f"{tmp_path / 'nope.avro'}: No such file or directory" in err


def test_reader_schema_resolution(tmp_path: Path) -> None:
    path = write_file(tmp_path / "a.avro", [range(2)])
    reader = tmp_path / "reader.avsc"
    reader.write_text(json.dumps({"type": "record", "name": "R", "namespace": "t", "fields": [
        {"name": "n", "type": "long"},  # promoted from int
        {"name": "added", "type": "string", "default": "dflt"},
    ]}))  # fmt: skip
    status, out, err = run(str(path), schema=str(reader))
    assert (status, err) == (0, "")
    assert [json.loads(line) for line in out.splitlines()] == [{"n": 0, "added": "dflt"}, {"n": 1, "added": "dflt"}]
    incompatible = tmp_path / "bad.avsc"
    incompatible.write_text(json.dumps({"type": "record", "name": "R", "namespace": "t",
                                        "fields": [{"name": "x", "type": "int"}]}))  # fmt: skip
    status, out, err = run(str(path), schema=str(incompatible))
    assert status == 1 and out == ""
    assert "cannot read records" in err
    status, _, err = run(str(path), schema=str(tmp_path / "missing.avsc"))
    assert status == 1 and "--schema" in err


def test_cli_subcommand(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write_file(tmp_path / "a.avro", [range(3)], "deflate")
    result = subprocess.run([sys.executable, "-m", "collector.cli", "cat", "--count", str(path)],
                            capture_output=True, cwd=REPO, timeout=60, check=False)  # fmt: skip
    assert (result.returncode, result.stdout) == (0, b"3\n"), result.stderr
    (tmp_path / "empty").mkdir()
    result = subprocess.run([sys.executable, "-m", "collector.cli", "cat", str(path), str(tmp_path / "empty")],
                            capture_output=True, cwd=REPO, timeout=60, check=False)  # fmt: skip
    assert result.returncode == 1
    assert len(result.stdout.splitlines()) == 3
    assert b"empty: no .avro files in this folder" in result.stderr
    result = subprocess.run([sys.executable, "-m", "collector.cli", "cat", "--count", str(tmp_path)],
                            capture_output=True, cwd=REPO, timeout=60, check=False)  # fmt: skip
    assert (result.returncode, result.stdout) == (0, f"3 {path}\n3 total\n".encode()), result.stderr
    with pytest.raises(SystemExit):
        main(["cat"])  # at least one file
    assert "FILE" in capsys.readouterr().err
