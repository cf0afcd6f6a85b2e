"""The disk spool: order, acknowledgement, size cap, restart, torn writes, and the directory lock."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from collector.errors import ConfigError
from collector.events import EncodedRecord
from collector.sinks.spool import Spool
from collector.sinks.spool_records import MAGIC, frame


def record(i: int, size: int = 20) -> EncodedRecord:
    return EncodedRecord(f"0:party{i % 7}:é", 1_700_000_000_000 + i, bytes([i % 256]) * size)


_open: list[Spool] = []


@pytest.fixture(autouse=True)
def close_spools() -> Iterator[None]:
    yield
    while _open:
        _open.pop().close()


def opened(directory: Path, max_bytes: int = 10**9, segment_bytes: int = 1000) -> Spool:
    spool = Spool(directory, max_bytes, segment_bytes=segment_bytes)
    spool.open()
    _open.append(spool)
    return spool


def drain(spool: Spool, batch: int = 7) -> list[EncodedRecord]:
    out: list[EncodedRecord] = []
    while records := spool.read(batch):
        out += records
        spool.ack(len(records))
    return out


def test_records_come_back_in_order_across_segments_and_the_directory_empties(tmp_path: Path) -> None:
    spool = opened(tmp_path)
    records = [record(i) for i in range(200)]
    assert all(spool.append(r) for r in records)
    assert len(list(tmp_path.glob("*.spool"))) > 3
    spool.flush()
    assert spool.bytes == sum(path.stat().st_size for path in tmp_path.glob("*.spool"))
    assert not spool.drained
    assert drain(spool) == records
    assert spool.drained and spool.bytes == 0
    assert list(tmp_path.glob("*.spool")) == [] and not (tmp_path / "position").exists()
    spool.close()


def test_reading_interleaved_with_appending(tmp_path: Path) -> None:
    spool = opened(tmp_path)
    out: list[EncodedRecord] = []
    for i in range(100):
        spool.append(record(i))
        if i % 3 == 0:
            batch = spool.read(2)
            out += batch
            spool.ack(len(batch))
    out += drain(spool)
    assert out == [record(i) for i in range(100)]
    assert spool.drained


def test_unacknowledged_records_are_read_again_after_a_restart(tmp_path: Path) -> None:
    spool = opened(tmp_path)
    for i in range(50):
        spool.append(record(i))
    first = spool.read(10)
    spool.ack(10)
    spool.read(10)  # read, but not delivered when the process stops
    spool.close()
    again = opened(tmp_path)
    assert first == [record(i) for i in range(10)]
    assert drain(again) == [record(i) for i in range(10, 50)]
    again.append(record(99))
    assert drain(again) == [record(99)]


def test_size_cap_refuses_and_counts(tmp_path: Path) -> None:
    one = len(frame(record(0)))
    spool = opened(tmp_path, max_bytes=len(MAGIC) + 3 * one, segment_bytes=10**6)
    assert [spool.append(record(i)) for i in range(5)] == [True, True, True, False, False]
    assert spool.statistics().dropped_full == 2
    assert drain(spool) == [record(i) for i in range(3)]
    assert spool.append(record(7))


def test_prepend_puts_records_before_the_spooled_ones(tmp_path: Path) -> None:
    spool = opened(tmp_path)
    for i in range(10, 20):
        spool.append(record(i))
    assert spool.prepend([record(i) for i in range(10)]) == 10
    spool.close()
    again = opened(tmp_path)
    assert drain(again) == [record(i) for i in range(20)]


def test_a_torn_last_record_loses_only_itself(tmp_path: Path) -> None:
    spool = opened(tmp_path, segment_bytes=10**6)
    for i in range(10):
        spool.append(record(i))
    spool.close()
    segment = next(tmp_path.glob("*.spool"))
    data = segment.read_bytes()
    segment.write_bytes(data[:-5])  # a crash in the middle of the last write
    again = opened(tmp_path)
    assert drain(again) == [record(i) for i in range(9)]
    assert again.statistics().corrupt_bytes == len(frame(record(9))) - 5


def test_a_damaged_record_skips_the_rest_of_its_segment_only(tmp_path: Path) -> None:
    one = len(frame(record(0)))
    spool = opened(tmp_path, segment_bytes=len(MAGIC) + 5 * one)
    for i in range(10):
        spool.append(record(i))
    spool.close()
    first = sorted(tmp_path.glob("*.spool"))[0]
    data = bytearray(first.read_bytes())
    data[len(MAGIC) + 2 * one + 12] ^= 0xFF  # flip a byte inside the third record's body
    first.write_bytes(bytes(data))
    again = opened(tmp_path)
    assert drain(again) == [record(i) for i in (0, 1, *range(5, 10))]


def test_new_records_after_a_restart_never_follow_a_torn_one(tmp_path: Path) -> None:
    spool = opened(tmp_path, segment_bytes=10**6)
    for i in range(3):
        spool.append(record(i))
    spool.close()
    segment = next(tmp_path.glob("*.spool"))
    segment.write_bytes(segment.read_bytes()[:-3])
    again = opened(tmp_path, segment_bytes=10**6)
    again.append(record(3))
    assert drain(again) == [record(0), record(1), record(3)]


def test_one_process_per_directory(tmp_path: Path) -> None:
    spool = opened(tmp_path)
    with pytest.raises(ConfigError, match="in use by another collector process"):
        opened(tmp_path)
    spool.close()
    opened(tmp_path).close()


def test_event_ids_come_back_from_a_spool_that_keeps_them_and_others_are_unchanged(tmp_path: Path) -> None:
    """The Pub/Sub sink needs each record's event id after a replay; a Kafka spool's records are framed as before
    (no flag in the party-id length), so an older collector reads them, and they read back with no event id."""
    spool = Spool(tmp_path / "pubsub", 10**9, segment_bytes=1000, event_ids=True)
    spool.open()
    _open.append(spool)
    records = [record(i) for i in range(5)]
    with_ids = [EncodedRecord(r.party_id, r.timestamp, r.payload, f"0:ev{i}:ë") for i, r in enumerate(records)]
    assert all(spool.append(r) for r in with_ids)
    assert spool.fits(with_ids) and not opened(tmp_path / "small", max_bytes=len(MAGIC) + 10).fits(with_ids)
    assert drain(spool) == with_ids
    plain = opened(tmp_path / "kafka")
    assert all(plain.append(r) for r in with_ids)
    assert drain(plain) == records  # the event ids were not kept
    flag = 8 + 8 + 3  # frame header, timestamp, then the top byte of the little-endian party-id length
    assert frame(with_ids[0])[flag] & 0x80 == 0 and frame(with_ids[0], event_id=True)[flag] & 0x80 == 0x80
