"""The file sink's protocol (SPEC §9.3): naming, sync by count and time, roll, discard, publish, failures."""

from __future__ import annotations

import os
import re
from pathlib import Path

import fastavro
import pytest

from collector.avro.encode import RecordEncoder
from collector.avro.schemas import parse_schema_text
from collector.config.settings import FileStrategySettings
from collector.errors import ConfigError, SinkError
from collector.events import EncodedRecord
from collector.sinks import file as file_module
from collector.sinks.file import FileSink

SCHEMA = parse_schema_text(
    '{"type": "record", "name": "R", "fields": [{"name": "n", "type": "int"}, {"name": "p", "type": "string"}]}',
    "test",
)
ENCODER = RecordEncoder(SCHEMA)


def records(start: int, count: int, party: str = "0:a:b") -> list[EncodedRecord]:
    return [EncodedRecord(party, 0, ENCODER.encode({"n": i, "p": party})) for i in range(start, start + count)]


def make_sink(tmp_path: Path, shards: int = 1, **strategy: float) -> FileSink:
    (tmp_path / "work").mkdir(exist_ok=True)
    (tmp_path / "pub").mkdir(exist_ok=True)
    settings = FileStrategySettings(working_dir=str(tmp_path / "work"), publish_dir=str(tmp_path / "pub"), **strategy)  # type: ignore[arg-type]
    return FileSink("files", settings, SCHEMA, shards, hostname="testhost")


def read(path: Path) -> list[int]:
    with open(path, "rb") as handle:
        return [r["n"] for r in fastavro.reader(handle)]


def blocks(path: Path) -> int:
    with open(path, "rb") as handle:
        return sum(1 for _ in fastavro.block_reader(handle))


async def test_sync_after_records_writes_one_block_per_sync(tmp_path: Path) -> None:
    sink = make_sink(tmp_path, sync_file_after_records=3)
    await sink.start()
    await sink.write_batch(records(0, 2))
    partials = list((tmp_path / "work").iterdir())
    assert partials == []  # nothing synced yet: the file opens with its first block
    await sink.write_batch(records(2, 5))
    (partial,) = (tmp_path / "work").iterdir()
    assert re.fullmatch(r"\d{14}-divolte-tracking-testhost-\d+\.avro\.partial", partial.name)
    assert read(partial) == list(range(7))
    await sink.aclose()
    (published,) = (tmp_path / "pub").iterdir()
    assert published.name == partial.name.removesuffix(".partial")
    assert read(published) == list(range(7))
    assert list((tmp_path / "work").iterdir()) == []


async def test_sync_after_duration_without_traffic(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    clock = [1000.0]
    monkeypatch.setattr(file_module.time, "monotonic", lambda: clock[0])
    sink = make_sink(tmp_path, sync_file_after_records=1000, sync_file_after_duration=30.0)
    await sink.write_batch(records(0, 1))
    await sink.heartbeat()  # the first record opens the file and is synced on the first heartbeat
    (partial,) = (tmp_path / "work").iterdir()
    await sink.write_batch(records(1, 2))
    clock[0] += 29
    await sink.heartbeat()
    assert read(partial) == [0]
    clock[0] += 2
    await sink.heartbeat()
    assert read(partial) == [0, 1, 2]
    assert blocks(partial) == 2
    await sink.aclose()


async def test_roll_publishes_and_unsynced_records_are_not_lost(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = [1000.0]
    monkeypatch.setattr(file_module.time, "monotonic", lambda: clock[0])
    sink = make_sink(tmp_path, sync_file_after_records=2, sync_file_after_duration=7200.0, roll_every=3600.0)
    await sink.write_batch(records(0, 2))  # synced
    await sink.write_batch(records(2, 1))  # pending
    clock[0] += 3601
    await sink.heartbeat()
    (first,) = (tmp_path / "pub").iterdir()
    assert read(first) == [0, 1, 2]  # Divolte would have dropped record 2 here
    await sink.write_batch(records(3, 2))
    await sink.aclose()
    assert len(list((tmp_path / "pub").iterdir())) == len(sink.published) == 2
    assert read(sink.published[1]) == [3, 4]


async def test_empty_files_are_never_published(tmp_path: Path) -> None:
    sink = make_sink(tmp_path)
    await sink.heartbeat()
    await sink.aclose()
    assert list((tmp_path / "pub").iterdir()) == []
    assert list((tmp_path / "work").iterdir()) == []


async def test_parties_stay_in_one_shard(tmp_path: Path) -> None:
    sink = make_sink(tmp_path, shards=2, sync_file_after_records=1)
    parties = [f"0:x:party{i}" for i in range(20)]
    for party in parties:
        await sink.write_batch(records(0, 3, party))
    await sink.aclose()
    files = sorted((tmp_path / "pub").iterdir())
    assert len(files) == 2
    owners: dict[str, set[str]] = {}
    for path in files:
        with open(path, "rb") as handle:
            for record in fastavro.reader(handle):
                owners.setdefault(record["p"], set()).add(path.name)
    assert set(owners) == set(parties)
    assert all(len(names) == 1 for names in owners.values())


async def test_write_failure_keeps_records_and_recovers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    sink = make_sink(tmp_path, sync_file_after_records=2)
    await sink.write_batch(records(0, 2))
    real_fsync = os.fsync
    failing = [True]

    def flaky_fsync(fd: int) -> None:
        if failing[0]:
            raise OSError(28, "No space left on device")
        real_fsync(fd)

    monkeypatch.setattr(file_module.os, "fsync", flaky_fsync)
    await sink.write_batch(records(2, 2))  # accepted, but the sync fails: kept in memory
    with pytest.raises(SinkError) as raised:
        await sink.write_batch(records(4, 2))  # refused whole while the disk is failing
    assert raised.value.retriable
    failing[0] = False
    await sink.write_batch(records(4, 2))
    await sink.aclose()
    assert len(list((tmp_path / "pub").iterdir())) == len(sink.published) == 2
    assert [n for path in sink.published for n in read(path)] == [0, 1, 2, 3, 4, 5]


def test_missing_directory_and_remote_uri_are_config_errors(tmp_path: Path) -> None:
    settings = FileStrategySettings(working_dir=str(tmp_path / "nope"), publish_dir=str(tmp_path))
    with pytest.raises(ConfigError, match=r"working_dir: directory '.*nope' does not exist"):
        FileSink("files", settings, SCHEMA, 1)
    settings = FileStrategySettings(working_dir="hdfs://namenode/tmp", publish_dir=str(tmp_path))
    with pytest.raises(ConfigError, match="hdfs://"):
        FileSink("files", settings, SCHEMA, 1)
    uri = FileStrategySettings(working_dir=f"file://{tmp_path}", publish_dir=f"file://{tmp_path}")
    assert FileSink("files", uri, SCHEMA, 1).working_dir == tmp_path


async def test_partial_files_left_by_a_crash_are_cut_to_their_last_block_and_published(tmp_path: Path) -> None:
    crashed = make_sink(tmp_path, sync_file_after_records=2)
    await crashed.write_batch(records(0, 4))  # two blocks synced
    (partial,) = (tmp_path / "work").iterdir()
    with open(partial, "ab") as handle:
        handle.write(b"\x08\x40garbage of a block cut off by kill -9")  # a torn block after the last sync
    crashed._shards[0].file.handle.close()  # type: ignore[union-attr]  # the process dies: its lock goes

    survivor = make_sink(tmp_path)
    await survivor.start()
    (published,) = (tmp_path / "pub").iterdir()
    assert published.name == partial.name.removesuffix(".partial")
    assert read(published) == [0, 1, 2, 3]
    assert list((tmp_path / "work").iterdir()) == []


async def test_recovery_leaves_files_of_live_processes_alone(tmp_path: Path) -> None:
    live = make_sink(tmp_path, sync_file_after_records=1)
    await live.write_batch(records(0, 1))
    (partial,) = (tmp_path / "work").iterdir()
    empty = tmp_path / "work" / "20200101000000-divolte-tracking-h-9.avro.partial"
    empty.write_bytes(b"Obj\x01\x00")  # a header cut short: nothing to publish
    unrelated = tmp_path / "work" / "notes.partial"
    unrelated.write_text("not ours")

    other = make_sink(tmp_path)
    assert other.recover_partials() == []
    assert partial.exists() and unrelated.exists() and not empty.exists()
    await live.aclose()
    assert read(next((tmp_path / "pub").iterdir())) == [0]


async def test_workers_number_their_files_apart(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(file_module, "_flusher_numbers", file_module._flusher_numbers)  # restored afterwards
    file_module.number_files_for_worker(3)
    sink = make_sink(tmp_path, shards=2, sync_file_after_records=1)
    assert [shard.number for shard in sink._shards] == [3001, 3002]  # worker 3's range: 3001 to 3999
    await sink.write_batch(records(0, 1))
    await sink.aclose()
    (published,) = (tmp_path / "pub").iterdir()
    assert re.fullmatch(r"\d{14}-divolte-tracking-testhost-300[12]\.avro", published.name)


def test_recovery_leaves_a_file_that_is_being_created_alone(tmp_path: Path) -> None:
    """An empty .partial is a sibling process between creating and locking its file: never taken."""
    sink = make_sink(tmp_path)
    opening = tmp_path / "work" / "20200101000000-divolte-tracking-h-1001.avro.partial"
    opening.touch()
    assert sink.recover_partials() == []
    assert opening.exists()
