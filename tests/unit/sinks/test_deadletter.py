"""Dead letters: records a sink refuses for good go to a bounded folder of Avro files, and the rest goes on."""

from __future__ import annotations

import asyncio
import io
import json
from collections.abc import Sequence
from pathlib import Path

import fastavro
import orjson

from collector.avro.encode import RecordEncoder
from collector.avro.schemas import default_schema
from collector.errors import RecordsRejected
from collector.events import EncodedRecord
from collector.sinks.deadletter import META_DETAIL, META_REASON, META_RECORDS, META_SINK, DeadLetters
from collector.sinks.runner import SinkRunner
from collector.sinks.spool import Spool
from collector.tools.cat import cat
from tests.unit.sinks.helpers import until

SCHEMA = default_schema()
ENCODER = RecordEncoder(SCHEMA)


def record(n: int, size: int = 0) -> EncodedRecord:
    """A real Divolte record (the default schema) whose ``location`` makes it ``size`` bytes larger."""
    fields = {"detectedDuplicate": False, "detectedCorruption": False, "firstInSession": n == 0,
              "timestamp": 1_700_000_000_000 + n, "clientTimestamp": 1_700_000_000_000 + n,
              "remoteHost": "127.0.0.1", "location": "https://example.com/" + "x" * size,
              "eventType": f"event{n}"}  # fmt: skip
    return EncodedRecord(f"0:p:party{n % 3}", 1_700_000_000_000 + n, ENCODER.encode(fields))


def read(path: Path) -> tuple[dict[str, str], list[dict[str, object]]]:
    reader = fastavro.reader(io.BytesIO(path.read_bytes()))
    return dict(reader.metadata), list(reader)  # type: ignore[arg-type]


def test_refused_records_are_kept_in_an_avro_file_with_the_sinks_schema_and_why(tmp_path: Path) -> None:
    letters = DeadLetters("kafka", tmp_path / "dl", SCHEMA.json, 10**6, ["message_too_large"])
    refused = [record(3, 500), record(7, 900)]
    path = letters.store(RecordsRejected(refused, "message_too_large", "the broker refuses 2 records"))
    assert path is not None and path.parent == tmp_path / "dl" and path.name.endswith(".avro")
    metadata, records = read(path)
    assert [r["eventType"] for r in records] == ["event3", "event7"]
    assert fastavro.parse_schema(json.loads(metadata["avro.schema"])) == fastavro.parse_schema(json.loads(SCHEMA.json))
    assert metadata[META_SINK] == "kafka" and metadata[META_REASON] == "message_too_large"
    assert metadata[META_DETAIL] == "the broker refuses 2 records"
    assert orjson.loads(metadata[META_RECORDS]) == [{"party_id": r.party_id, "timestamp": r.timestamp} for r in refused]
    assert letters.statistics().stored == {"message_too_large": 2} and letters.statistics().dropped == 0
    assert [p.name for p in (tmp_path / "dl").iterdir()] == [path.name], "no temporary file left behind"


def test_the_folder_is_bounded_and_room_made_by_the_operator_counts_again(tmp_path: Path) -> None:
    letters = DeadLetters("kafka", tmp_path, SCHEMA.json, 6000)
    first = letters.store(RecordsRejected([record(1, 2500)], "message_too_large", "too large"))
    assert first is not None
    assert letters.store(RecordsRejected([record(2, 2500)], "message_too_large", "too large")) is None
    assert letters.statistics().dropped == 1 and letters.statistics().stored == {"message_too_large": 1}
    assert sorted(p.name for p in tmp_path.iterdir()) == [first.name], "a file that does not fit is not left"
    first.unlink()  # replayed and removed by the operator
    assert letters.store(RecordsRejected([record(2, 2500)], "message_too_large", "too large")) is not None
    assert letters.statistics().stored == {"message_too_large": 2}


def test_a_folder_that_cannot_be_written_counts_the_records_as_lost(tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("")
    letters = DeadLetters("kafka", tmp_path / "a-file" / "dl", SCHEMA.json, 10**6)
    assert letters.store(RecordsRejected([record(1)], "invalid_timestamp", "too old")) is None
    assert letters.statistics().dropped == 1 and letters.statistics().stored == {}


class PickySink:
    """Writes every record except those whose timestamp is in ``refuse``, which it rejects for good."""

    def __init__(self, refuse: set[int]) -> None:
        self.name = "picky"
        self.refuse = refuse
        self.taken: list[int] = []

    async def start(self) -> None:
        pass

    async def write_batch(self, records: Sequence[EncodedRecord]) -> None:
        await asyncio.sleep(0)
        self.taken += [r.timestamp for r in records if r.timestamp not in self.refuse]
        refused = [r for r in records if r.timestamp in self.refuse]
        if refused:
            raise RecordsRejected(refused, "message_too_large", f"{len(refused)} too large")

    async def heartbeat(self) -> None:
        pass

    async def aclose(self) -> None:
        pass


async def test_the_runner_moves_refused_records_aside_and_goes_on(tmp_path: Path) -> None:
    records = [record(n) for n in range(50)]
    poison = {records[10].timestamp, records[30].timestamp}
    sink = PickySink(poison)
    letters = DeadLetters("picky", tmp_path / "dead-letter", SCHEMA.json, 10**6)
    runner = SinkRunner(sink, capacity=10, spool=Spool(tmp_path / "spool", 10**7), dead_letters=letters)
    await runner.start()
    assert all(runner.offer(r) for r in records)  # most of them go through the spool (capacity 10)
    await until(lambda: len(sink.taken) == 48)
    assert sink.taken == [r.timestamp for r in records if r.timestamp not in poison], "the rest, in order, once"
    stats = runner.statistics()
    assert stats.written == 48 and stats.lost_errors == 0 and not stats.failing and runner.healthy
    files = sorted((tmp_path / "dead-letter").glob("*.avro"))
    assert sorted(r["timestamp"] for f in files for r in read(f)[1]) == sorted(poison)  # type: ignore[type-var]
    assert letters.statistics().stored == {"message_too_large": 2}
    await runner.aclose(timeout=5)
    assert runner.spool is not None and runner.spool.drained, "refused records do not stay in the spool"


async def test_without_a_dead_letter_folder_refused_records_are_counted_as_lost() -> None:
    sink = PickySink({record(1).timestamp})
    runner = SinkRunner(sink, capacity=10)
    await runner.start()
    for n in range(3):
        runner.offer(record(n))
    await until(lambda: len(sink.taken) == 2)
    await until(lambda: runner.statistics().lost_errors == 1)
    assert runner.statistics().written == 2
    await runner.aclose(timeout=5)


def test_cat_reads_a_dead_letter_folder_and_says_why_on_stderr(tmp_path: Path) -> None:
    letters = DeadLetters("kafka", tmp_path, SCHEMA.json, 10**6)
    letters.store(RecordsRejected([record(1, 100)], "message_too_large", "raise max.message.bytes"))
    letters.store(RecordsRejected([record(2, 100), record(3)], "message_too_large", "raise max.message.bytes"))
    out, err = io.BytesIO(), io.StringIO()
    assert cat([str(tmp_path)], out=out, err=err) == 0
    lines = [orjson.loads(line) for line in out.getvalue().splitlines()]
    assert [line["eventType"] for line in lines] == ["event1", "event2", "event3"], "files in name (time) order"
    notes = err.getvalue().splitlines()
    assert len(notes) == 2 and all("dead letters of sink 'kafka'" in n for n in notes)
    assert all("(message_too_large): raise max.message.bytes" in n for n in notes)
    out = io.BytesIO()
    assert cat([str(tmp_path)], out=out, err=io.StringIO(), count=True) == 0
    assert out.getvalue().decode().splitlines()[-1] == "3 total"
