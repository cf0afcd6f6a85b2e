"""A size-capped disk spool of encoded records, read back in the order they were written.

When a sink cannot keep up (Kafka unreachable) and its in-memory queue is full, the runner appends records
here instead of dropping them, and replays them, oldest first, once the sink works again. The spool
survives restarts: records left at shutdown are replayed by the next process that opens the directory.

Layout of ``directory``:
- ``<20-digit number>.spool`` segments, read in number order. Each starts with the 8 bytes ``DVSPOOL1``,
  then framed records (``collector.sinks.spool_records``: length, checksum, timestamp, party id, payload).
- ``position``: ``<segment> <offset>`` of the first record not yet delivered (written after each
  delivered batch, so a restart re-sends at most one batch).
- ``.lock``: held (``flock``) by the process using the spool, so two collectors never share one.

Durability: appends are buffered and written to the operating system every ``sync`` (the runner calls it
once a second) and on close, and then ``fsync``-ed. A process crash therefore loses at most the records of
the last second that were still in the process's buffer; a crash in the middle of a write leaves a torn
last record, which the reader recognises by its length or checksum and skips, with everything before it
intact. Each process writes to a segment of its own, so nothing is ever appended after a torn record.

A disk that refuses writes (``ENOSPC``, ``EIO``) makes ``append`` and ``prepend`` answer "not stored" (and
``disk_error`` says why) instead of raising, so the runner keeps the record in memory rather than losing it;
bytes the buffered writer could not hand to the disk stay in its buffer and go out with the next flush.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import struct
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from collector.errors import ConfigError
from collector.events import EncodedRecord
from collector.sinks.spool_records import BODY, FRAME, MAGIC, frame, framed_size, unframe

log = logging.getLogger(__name__)

SEGMENT_BYTES = 16 * 1024 * 1024
"""A segment is closed and a new one started past this size; fully read segments are deleted."""
WRITE_BUFFER = 1024 * 1024
FIRST_SEGMENT = 10**12
"""Number of the first segment of an empty spool; ``prepend`` counts down from the oldest segment."""


@dataclass(slots=True)
class SpoolStatistics:
    bytes: int
    """Bytes on disk (segments not yet deleted)."""
    appended: int
    replayed: int
    dropped_full: int
    corrupt_bytes: int


class Spool:
    """Append records, read them back in order, acknowledge what was delivered. Not thread-safe."""

    def __init__(
        self, directory: Path, max_bytes: int, *, segment_bytes: int = SEGMENT_BYTES, event_ids: bool = False
    ) -> None:
        """``event_ids``: keep each record's event id (the Pub/Sub sink needs it; Kafka's spools stay as they were,
        so an older collector still reads them)."""
        self.directory = directory
        self.event_ids = event_ids
        self.max_bytes = max_bytes
        self.segment_bytes = segment_bytes
        self.appended = 0
        self.replayed = 0
        self.dropped_full = 0
        self.corrupt_bytes = 0
        self.disk_error: OSError | None = None
        """The last write the disk refused; None once a write succeeds again."""
        self._lock: BinaryIO | None = None
        self._segments: list[int] = []
        """Numbers of the segments on disk, oldest first; the last one is the writer's if it is open."""
        self._sizes: dict[int, int] = {}
        self._total = 0
        """Sum of ``_sizes``: checked on every append."""
        self._writer: BinaryIO | None = None
        self._writer_number = -1
        self._reader: BinaryIO | None = None
        self._reader_number = -1
        self._read_offset = 0
        """Where the next ``read`` starts (in ``_reader_number``)."""
        self._acked: tuple[int, int] | None = None
        """(segment, offset) of the first record not yet acknowledged; None when nothing is pending."""
        self._unsynced = False

    # --- opening and closing ---------------------------------------------------------------------------

    def open(self) -> None:
        """Lock the directory (creating it) and find the segments a previous process left."""
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            lock = open(self.directory / ".lock", "ab")  # noqa: SIM115 - held until close()
        except OSError as exc:
            raise ConfigError(f"spool directory '{self.directory}' cannot be used: {exc}") from exc
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            lock.close()
            raise ConfigError(
                f"spool directory '{self.directory}' is in use by another collector process; give each "
                "process its own divolte.global.kafka.spool_dir"
            ) from None
        self._lock = lock
        for path in self.directory.glob("*.spool"):
            if path.stem.isdigit():
                number = int(path.stem)
                self._segments.append(number)
                self._sizes[number] = path.stat().st_size
                self._total += self._sizes[number]
        self._segments.sort()
        start = (self._segments[0], len(MAGIC)) if self._segments else None
        position = self._read_position()
        if position is not None and self._segments and position[0] == self._segments[0]:
            start = position
        if start is not None:
            self._acked = start
            self._reader_number, self._read_offset = start
        if not self._has_unread():
            self._reset_all()
            self._write_position()
        else:
            log.warning(
                "Spool %s holds %d bytes from a previous run; they are delivered before new records.",
                self.directory, self.bytes,
            )  # fmt: skip

    def _read_position(self) -> tuple[int, int] | None:
        try:
            segment, offset = (self.directory / "position").read_text().split()
            return int(segment), int(offset)
        except (OSError, ValueError):
            return None

    def close(self) -> None:
        """Write out and fsync everything, record the read position, release the directory."""
        self._flush(fsync=True)
        for handle in (self._writer, self._reader):
            if handle is not None:
                handle.close()
        self._writer = self._reader = None
        self._write_position()
        if self._lock is not None:
            self._lock.close()
            self._lock = None

    # --- state -----------------------------------------------------------------------------------------

    @property
    def bytes(self) -> int:
        return self._total

    @property
    def drained(self) -> bool:
        """Nothing waits in the spool: every record appended was read and acknowledged."""
        return self._acked is None

    def fits(self, records: Iterable[EncodedRecord]) -> bool:
        """Whether ``prepend(records)`` would store them all."""
        size = len(MAGIC) + sum(framed_size(r, event_id=self.event_ids) for r in records)
        return self.bytes + size <= self.max_bytes

    def statistics(self) -> SpoolStatistics:
        return SpoolStatistics(self.bytes, self.appended, self.replayed, self.dropped_full, self.corrupt_bytes)

    # --- writing ---------------------------------------------------------------------------------------

    def append(self, record: EncodedRecord) -> bool:
        """Store a record after every other; False (and counted) when the spool is full."""
        data = frame(record, event_id=self.event_ids)
        if self.bytes + len(data) > self.max_bytes:
            self.dropped_full += 1
            return False
        try:
            writer = self._writer
            if writer is None or self._sizes[self._writer_number] >= self.segment_bytes:
                writer = self._new_segment((self._segments[-1] + 1) if self._segments else FIRST_SEGMENT)
            writer.write(data)
        except OSError as exc:  # the disk is full or failing: not stored, the caller keeps the record
            self.disk_error = exc
            return False
        self.disk_error = None
        self._sizes[self._writer_number] += len(data)
        self._total += len(data)
        self.appended += 1
        self._unsynced = True
        if self._acked is None:
            self._acked = (self._writer_number, self._sizes[self._writer_number] - len(data))
            self._reset_reader(*self._acked)
        return True

    def prepend(self, records: list[EncodedRecord]) -> int:
        """Store records before everything already in the spool (at shutdown: the in-memory queue, which is
        older than anything spooled). Returns how many fit; the rest are counted as dropped."""
        if not records:
            return 0
        if self._acked is not None and self._acked != (self._segments[0], len(MAGIC)):
            # Cannot happen through the runner: its queue only holds records while the spool is unread.
            log.warning("Spool %s: records put before a partly delivered spool may be sent twice.", self.directory)
        number = self._segments[0] - 1 if self._segments else FIRST_SEGMENT
        size = len(MAGIC)
        path = self.directory / f"{number:020d}.spool"
        try:
            self._close_writer()
            with open(path, "wb") as out:
                out.write(MAGIC)
                stored = 0
                for record in records:
                    data = frame(record, event_id=self.event_ids)
                    if self.bytes + size + len(data) > self.max_bytes:
                        break
                    out.write(data)
                    size += len(data)
                    stored += 1
                out.flush()
                os.fsync(out.fileno())
        except OSError as exc:  # nothing stored: the caller keeps the records
            self.disk_error = exc
            with contextlib.suppress(OSError):
                path.unlink(missing_ok=True)
            return 0
        self.disk_error = None
        self._segments.insert(0, number)
        self._sizes[number] = size
        self._total += size
        self._fsync_directory()
        self._acked = (number, len(MAGIC))
        self._reset_reader(*self._acked)
        self.appended += stored
        self.dropped_full += len(records) - stored
        return stored

    def _new_segment(self, number: int) -> BinaryIO:
        self._close_writer()
        writer = open(self.directory / f"{number:020d}.spool", "wb", buffering=WRITE_BUFFER)  # noqa: SIM115
        writer.write(MAGIC)
        self._segments.append(number)
        self._sizes[number] = len(MAGIC)
        self._total += len(MAGIC)
        self._writer, self._writer_number = writer, number
        self._fsync_directory()
        return writer

    def _close_writer(self) -> None:
        if self._writer is not None:
            self._writer.flush()
            os.fsync(self._writer.fileno())
            self._writer.close()
            self._writer = None
            self._writer_number = -1

    def flush(self) -> int | None:
        """Hand buffered appends to the operating system; the descriptor to ``fsync`` if there were any."""
        if not self._unsynced or self._writer is None:
            return None
        self._writer.flush()
        self._unsynced = False
        return self._writer.fileno()

    def _flush(self, *, fsync: bool) -> None:
        fd = self.flush()
        if fsync and fd is not None:
            os.fsync(fd)

    def _fsync_directory(self) -> None:
        fd = os.open(self.directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

    # --- reading ---------------------------------------------------------------------------------------

    def read(self, limit: int) -> list[EncodedRecord]:
        """Up to ``limit`` records after the last ones read, oldest first (not yet acknowledged)."""
        records: list[EncodedRecord] = []
        while len(records) < limit and self._acked is not None:
            number = self._reader_number
            if number == self._writer_number:
                self._flush(fsync=False)
            end = self._sizes.get(number, 0)
            if self._read_offset >= end:
                later = [n for n in self._segments if n > number]
                if not later:
                    break
                self._reset_reader(later[0], len(MAGIC))
                continue
            reader = self._open_reader(number)
            if reader is None:
                continue
            while len(records) < limit and self._read_offset < end:
                record = self._read_record(reader, end)
                if record is None:
                    break
                records.append(record)
        if not records and self._acked is not None and not self._has_unread():
            self._reset_all()  # only damaged bytes were left
            self._write_position()
        return records

    def _open_reader(self, number: int) -> BinaryIO | None:
        if self._reader is None:
            path = self.directory / f"{number:020d}.spool"
            try:
                reader = open(path, "rb")  # noqa: SIM115 - kept open across reads
            except OSError as exc:
                log.error("Spool segment %s cannot be read (%s); skipping it.", path, exc)
                self._skip_rest(number)
                return None
            if reader.read(len(MAGIC)) != MAGIC:
                reader.close()
                log.error("Spool segment %s is not a spool file; skipping it.", path)
                self._skip_rest(number)
                return None
            reader.seek(self._read_offset)
            self._reader = reader
        return self._reader

    def _read_record(self, reader: BinaryIO, end: int) -> EncodedRecord | None:
        header = reader.read(FRAME.size) if end - self._read_offset >= FRAME.size else b""
        if len(header) == FRAME.size:
            length, checksum = FRAME.unpack(header)
            if self._read_offset + FRAME.size + length <= end:
                body = reader.read(length)
                if len(body) == length and zlib.crc32(body) == checksum and length >= BODY.size:
                    self._read_offset += FRAME.size + length
                    try:
                        return unframe(body)
                    except (UnicodeDecodeError, struct.error):
                        pass
        log.error(
            "Spool segment %d: a torn or damaged record at byte %d; the %d bytes after it are skipped.",
            self._reader_number, self._read_offset, end - self._read_offset,
        )  # fmt: skip
        self._skip_rest(self._reader_number)
        return None

    def _skip_rest(self, number: int) -> None:
        end = self._sizes.get(number, 0)
        self.corrupt_bytes += max(0, end - self._read_offset)
        self._read_offset = end
        if number == self._writer_number:  # never append after damage: start a fresh segment
            self._close_writer()

    def _reset_reader(self, number: int, offset: int) -> None:
        if self._reader is not None:
            self._reader.close()
            self._reader = None
        self._reader_number, self._read_offset = number, offset

    def ack(self, count: int) -> None:
        """The records read so far were delivered: forget them (``count`` is for statistics)."""
        self.replayed += count
        if self._acked is None:
            return
        for number in [n for n in self._segments if n < self._reader_number]:
            self._delete(number)
        if self._has_unread():
            self._acked = (self._reader_number, self._read_offset)
        else:
            self._reset_all()
        self._write_position()

    def _has_unread(self) -> bool:
        if self._read_offset < self._sizes.get(self._reader_number, 0):
            return True
        return any(self._sizes[n] > len(MAGIC) for n in self._segments if n > self._reader_number)

    def _reset_all(self) -> None:
        """Everything was delivered: delete every segment, so an idle spool is an empty directory."""
        self._close_writer()
        self._reset_reader(-1, 0)
        for number in list(self._segments):
            self._delete(number)
        self._acked = None

    def _delete(self, number: int) -> None:
        if number == self._reader_number:
            self._reset_reader(-1, 0)
        with contextlib.suppress(FileNotFoundError):
            (self.directory / f"{number:020d}.spool").unlink()
        self._segments.remove(number)
        self._total -= self._sizes.pop(number)

    def _write_position(self) -> None:
        target = self.directory / "position"
        if self._acked is None:
            with contextlib.suppress(FileNotFoundError):
                target.unlink()
            return
        temporary = self.directory / "position.tmp"
        temporary.write_text(f"{self._acked[0]} {self._acked[1]}\n")
        os.replace(temporary, target)
