"""A sink's dead-letter folder: records its destination refused for good, kept so that one bad record never
stops the ones behind it and is never silently lost.

When a sink raises ``RecordsRejected`` (e.g. a record larger than the Kafka topic's ``max.message.bytes``), the
runner hands the refused records to ``DeadLetters.store``, which writes them as one Avro container file with the
sink's schema, so ``divolte-collector cat`` reads them like any other file of the collector. The header's
metadata says why and what the records were:

    divolte.dead_letter.sink      the sink's name
    divolte.dead_letter.reason    a stable label (also the metrics label), e.g. ``message_too_large``
    divolte.dead_letter.detail    the destination's answer and what would let the records through
    divolte.dead_letter.records   JSON, per record in file order: ``{"party_id": …, "timestamp": …}`` (the Kafka
                                  key and timestamp a replay needs; the Avro record holds only the value)

Files are named ``<UTC time>-<pid>-<n>.avro`` (so names sort by time), written to a ``.tmp`` name, ``fsync``-ed
and renamed, so a file under its final name is complete: the records leave the spool only after that. The
folder is bounded (``max_bytes``, counted afresh from the folder at each store, so files an operator removed
after replaying free their room): records that do not fit, or cannot be written at all (disk full, no
permission), are counted as dropped and logged as errors; they are not retried, since a refused record would
otherwise block the sink again.
"""

from __future__ import annotations

import itertools
import logging
import os
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import orjson

from collector.avro.container import ContainerWriter
from collector.errors import RecordsRejected
from collector.events import EncodedRecord
from collector.ratelimit import RateLimitedLog

log = logging.getLogger(__name__)

SUFFIX = ".avro"
META_SINK = "divolte.dead_letter.sink"
META_REASON = "divolte.dead_letter.reason"
META_DETAIL = "divolte.dead_letter.detail"
META_RECORDS = "divolte.dead_letter.records"
_LOG_INTERVAL = 10.0


@dataclass(frozen=True, slots=True)
class DeadLetterStatistics:
    stored: dict[str, int]
    """Records written to the folder, by reason."""
    dropped: int
    """Records refused for good that could not be kept either (folder full or not writable)."""


class DeadLetters:
    """The dead-letter folder of one sink; see the module docstring."""

    def __init__(
        self, sink: str, directory: Path, schema_json: str, max_bytes: int, reasons: Iterable[str] = ()
    ) -> None:
        """``reasons``: the labels the sink may raise, counted from zero so their metrics exist from the start."""
        self.sink = sink
        self.directory = directory
        self.schema_json = schema_json
        self.max_bytes = max_bytes
        self.stored: dict[str, int] = dict.fromkeys(reasons, 0)
        self.dropped = 0
        self._numbers = itertools.count(1)
        self._stored_log = RateLimitedLog(log, _LOG_INTERVAL)
        self._dropped_log = RateLimitedLog(log, _LOG_INTERVAL)

    def statistics(self) -> DeadLetterStatistics:
        return DeadLetterStatistics(stored=dict(self.stored), dropped=self.dropped)

    def store(self, rejected: RecordsRejected) -> Path | None:
        """Keep the refused records in a new file; its path, or None when they could not be kept (counted)."""
        records = rejected.records
        if not records:
            return None
        try:
            path = self._write(records, rejected.reason, str(rejected))
        except _FolderFull as full:
            self._drop(len(records), rejected, str(full))
            return None
        except OSError as exc:
            self._drop(len(records), rejected, f"cannot be written ({exc})")
            return None
        self.stored[rejected.reason] = self.stored.get(rejected.reason, 0) + len(records)
        self._stored_log.warning(
            "Sink '%s': %d records refused for good (%s), kept in %s; the sink goes on with the rest. %s "
            "(%d dead letters so far; divolte-collector cat reads them, the README says how to replay them.)",
            self.sink, len(records), rejected.reason, path, rejected, sum(self.stored.values()),
        )  # fmt: skip
        return path

    def _drop(self, count: int, rejected: RecordsRejected, why: str) -> None:
        self.dropped += count
        self._dropped_log.error(
            "Sink '%s': %d records refused for good (%s: %s) are LOST: the dead-letter folder %s %s; make room "
            "there or raise its limit (%d lost so far).",
            self.sink, count, rejected.reason, rejected, self.directory, why, self.dropped,
        )  # fmt: skip

    def _used_bytes(self) -> int:
        total = 0
        for entry in os.scandir(self.directory):
            if entry.name.endswith(SUFFIX) and entry.is_file():
                total += entry.stat().st_size
        return total

    def _write(self, records: Sequence[EncodedRecord], reason: str, detail: str) -> Path:
        self.directory.mkdir(parents=True, exist_ok=True)
        metadata = {
            META_SINK: self.sink.encode(),
            META_REASON: reason.encode(),
            META_DETAIL: detail.encode(),
            META_RECORDS: orjson.dumps([{"party_id": r.party_id, "timestamp": r.timestamp} for r in records]),
        }
        stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
        name = f"{stamp}-{os.getpid()}-{next(self._numbers):06d}{SUFFIX}"
        target = self.directory / name
        temporary = target.with_name(name + ".tmp")
        with open(temporary, "wb") as handle:
            ContainerWriter(handle, self.schema_json, metadata=metadata).write_block(r.payload for r in records)
            size = handle.tell()
            used = self._used_bytes()
            if used + size > self.max_bytes:
                handle.close()
                temporary.unlink()
                raise _FolderFull(f"is full ({used} of {self.max_bytes} bytes used, {size} more needed)")
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, target)
        directory = os.open(self.directory, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)
        return target


class _FolderFull(Exception):
    """The folder has no room for the file under ``max_bytes``."""
