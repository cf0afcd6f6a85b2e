"""The HDFS sink against a real MiniDFSCluster: files created, appended once per sync, published, read back with
WebHDFS and Apache Avro; replication honoured; directory and permission errors; crash recovery."""

from __future__ import annotations

import asyncio
import re
import urllib.error
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, cast

import httpx
import orjson
import pytest

from collector.avro.container import block, header
from collector.avro.encode import RecordEncoder
from collector.avro.schemas import parse_schema_text
from collector.config.settings import FileStrategySettings
from collector.errors import SinkError
from collector.events import EncodedRecord
from collector.sinks.hdfs import HdfsSink
from collector.sinks.hdfs_config import HdfsConnection
from collector.sinks.runner import SinkRunner
from collector.sinks.spool import Spool
from collector.sinks.webhdfs import WebHdfs
from tests.integration.hdfs.conftest import HdfsFolders
from tests.servers.hdfs.cluster import free_port
from tests.unit.sinks.helpers import until

pytestmark = pytest.mark.integration

SCHEMA = parse_schema_text(
    '{"type": "record", "name": "R", "fields": [{"name": "n", "type": "int"}, {"name": "p", "type": "string"}]}',
    "test",
)
ENCODER = RecordEncoder(SCHEMA)


def records(start: int, count: int, party: str = "0:a:b") -> list[EncodedRecord]:
    return [EncodedRecord(party, 0, ENCODER.encode({"n": i, "p": party})) for i in range(start, start + count)]


def make_sink(
    folders: HdfsFolders, *, replication: int = 1, user: str | None = None, spool: Spool | None = None,
    ledger: Path | None = None, **strategy: float,
) -> HdfsSink:  # fmt: skip
    settings = FileStrategySettings(working_dir=folders.working, publish_dir=folders.published, **strategy)  # type: ignore[arg-type]
    address = f"http://{folders.cluster.http_address}"
    connection = HdfsConnection((address,), folders.cluster.http_address, user=user or folders.user)
    client = WebHdfs(connection.namenodes, user=connection.user)
    return HdfsSink("hdfs", settings, SCHEMA, 1, client, connection, replication=replication, hostname="testhost",
                    spool=spool, ledger=ledger)  # fmt: skip


def hold_the_append(client: WebHdfs) -> tuple[asyncio.Event, asyncio.Event]:
    """Make the client's next large ``APPEND`` body stop after its first 8 MB until the test says go on.

    Returns (``streaming``: set once those bytes are sent; ``go_on``: set it to send the rest). With this the
    NameNode stops while an append is in flight on every machine, where a sleep-then-stop raced the upload and
    lost on a fast one (the 64 MB had gone before the NameNode stopped)."""
    streaming, go_on = asyncio.Event(), asyncio.Event()
    request = client._http.request
    part = 8 << 20

    async def held(data: bytes) -> AsyncIterator[bytes]:
        yield data[:part]
        streaming.set()
        await go_on.wait()
        for offset in range(part, len(data), part):
            yield data[offset : offset + part]

    async def holding(method: str, url: str, **kwargs: Any) -> httpx.Response:
        data = kwargs.get("content")
        if "op=APPEND" in url and isinstance(data, bytes) and len(data) > part and not streaming.is_set():
            kwargs["content"] = held(data)
            kwargs["headers"] = {**kwargs.get("headers", {}), "Content-Length": str(len(data))}
        return await request(method, url, **kwargs)

    client._http.request = holding  # type: ignore[method-assign,assignment]
    return streaming, go_on


def numbers(rows: list[dict[str, object]]) -> list[int]:
    return [cast(int, row["n"]) for row in rows]


async def test_records_are_appended_per_sync_and_published_with_the_replication(hdfs_folders: HdfsFolders) -> None:
    sink = make_sink(hdfs_folders, replication=2, sync_file_after_records=3)
    await sink.start()
    await sink.write_batch(records(0, 2))
    assert hdfs_folders.names(hdfs_folders.working) == []  # nothing synced yet: the file opens with its first block
    await sink.write_batch(records(2, 2))
    (partial,) = hdfs_folders.names(hdfs_folders.working)
    assert re.fullmatch(r"\d{14}-divolte-tracking-testhost-\d+\.avro\.partial", partial)
    path = f"{hdfs_folders.working}/{partial}"
    assert numbers(hdfs_folders.records(path)) == [0, 1, 2, 3]
    first_length = hdfs_folders.status(path)["length"]
    await sink.write_batch(records(4, 3))  # a second sync: one more block appended to the same file
    assert numbers(hdfs_folders.records(path)) == list(range(7))
    assert hdfs_folders.status(path)["length"] > first_length  # type: ignore[operator]
    assert hdfs_folders.status(path)["replication"] == 2
    await sink.aclose()
    assert hdfs_folders.names(hdfs_folders.working) == []
    (published,) = hdfs_folders.names(hdfs_folders.published)
    assert published == partial.removesuffix(".partial")
    assert numbers(hdfs_folders.published_records()) == list(range(7))
    assert hdfs_folders.status(f"{hdfs_folders.published}/{published}")["replication"] == 2


async def test_files_roll_into_the_publish_folder(hdfs_folders: HdfsFolders) -> None:
    sink = make_sink(hdfs_folders, sync_file_after_records=1000, sync_file_after_duration=0.0, roll_every=0.5)
    await sink.start()
    await sink.write_batch(records(0, 5))
    await sink.heartbeat()  # synced by duration
    await asyncio.sleep(0.6)
    await sink.write_batch(records(5, 5))
    await sink.heartbeat()  # rolled: the 10 records are published together
    assert len(hdfs_folders.names(hdfs_folders.published)) == 1
    assert hdfs_folders.names(hdfs_folders.working) == []
    await sink.aclose()
    assert numbers(hdfs_folders.published_records()) == list(range(10))


async def test_a_missing_directory_is_a_clear_start_up_error(hdfs_folders: HdfsFolders) -> None:
    settings = FileStrategySettings(working_dir=f"{hdfs_folders.root}/nowhere", publish_dir=hdfs_folders.published)
    base = make_sink(hdfs_folders)
    sink = HdfsSink("hdfs", settings, SCHEMA, 1, base.client, base.connection)
    with pytest.raises(SinkError) as refused:
        await sink.start()
    assert str(refused.value) == (
        f"divolte.sinks.hdfs.file_strategy.working_dir: directory '{hdfs_folders.root}/nowhere' does not exist on "
        f"HDFS (WebHDFS at http://{hdfs_folders.cluster.http_address} as user divolte). Create it "
        f"(hdfs dfs -mkdir -p {hdfs_folders.root}/nowhere), or point divolte.sinks.hdfs.file_strategy.working_dir "
        "elsewhere."
    )
    assert not refused.value.retriable
    await sink.client.aclose()


async def test_a_directory_the_user_may_not_write_is_a_clear_start_up_error(hdfs_folders: HdfsFolders) -> None:
    sink = make_sink(hdfs_folders, user="mallory")
    with pytest.raises(SinkError) as refused:
        await sink.start()
    message = str(refused.value)
    assert message.startswith(
        f"divolte.sinks.hdfs.file_strategy.working_dir: user 'mallory' may not create files in "
        f"'{hdfs_folders.working}' on HDFS (WebHDFS CHECKACCESS {hdfs_folders.working}: AccessControlException: "
    )
    assert message.endswith("Grant it (hdfs dfs -chmod/-chown), or set HADOOP_USER_NAME.")
    await sink.client.aclose()


async def test_permission_revoked_mid_stream_fails_visibly_keeps_records_and_resumes(
    hdfs_folders: HdfsFolders,
) -> None:
    sink = make_sink(hdfs_folders, sync_file_after_records=5, roll_every=0.2)
    runner = SinkRunner(sink, 10_000)
    await runner.start()
    for record in records(0, 10):
        runner.offer(record)
    await until(lambda: runner.statistics().written == 10)
    await until(lambda: len(hdfs_folders.names(hdfs_folders.published)) >= 1, timeout=15)
    hdfs_folders.chmod(hdfs_folders.working, "555")  # the sink's user may no longer create files there
    for record in records(10, 20):
        runner.offer(record)
    await until(lambda: runner.statistics().failing_seconds > 0, timeout=15)  # /ready turns red after failing_after
    assert runner.running
    assert "AccessControlException: Permission denied: user=divolte, access=WRITE" in sink._last_error
    hdfs_folders.chmod(hdfs_folders.working, "755")
    await until(lambda: runner.statistics().failing_seconds == 0, timeout=30)
    await until(lambda: len(hdfs_folders.published_records()) == 30, timeout=30)
    await runner.aclose(10)
    assert sorted(numbers(hdfs_folders.published_records())) == list(range(30))


async def test_a_partial_left_by_a_crash_is_cut_to_its_last_complete_block_and_published(
    hdfs_folders: HdfsFolders,
) -> None:
    sink = make_sink(hdfs_folders)
    number = sink._shards[0].number
    name = f"20240101000000-divolte-tracking-testhost-{number}.avro"
    marker = bytes(range(16))
    payloads = [record.payload for record in records(0, 6)]
    torn = block(payloads[4:], marker)[:-7]  # a crash in the middle of the third block
    data = header(SCHEMA.json, marker) + block(payloads[:2], marker) + block(payloads[2:4], marker) + torn
    cluster = hdfs_folders.cluster
    cluster.webhdfs("PUT", f"{hdfs_folders.working}/{name}.partial", "CREATE", user="divolte", data=data)
    other = "20240101000000-divolte-tracking-otherhost-1.avro.partial"  # another host's: not ours to take
    cluster.webhdfs("PUT", f"{hdfs_folders.working}/{other}", "CREATE", user="divolte", data=data)
    await sink.start()
    assert hdfs_folders.names(hdfs_folders.published) == [name]
    assert hdfs_folders.names(hdfs_folders.working) == [other]
    assert numbers(hdfs_folders.records(f"{hdfs_folders.published}/{name}")) == [0, 1, 2, 3]
    await sink.aclose()


async def test_webhdfs_errors_name_the_operation_and_hadoops_exception(hdfs_folders: HdfsFolders) -> None:
    sink = make_sink(hdfs_folders)
    with pytest.raises(urllib.error.HTTPError):  # the reading helper, too, sees the file is not there
        hdfs_folders.read(f"{hdfs_folders.root}/missing")
    assert await sink.client.status(f"{hdfs_folders.root}/missing") is None
    with pytest.raises(Exception) as failed:
        await sink.client.open(f"{hdfs_folders.root}/missing")
    assert str(failed.value).startswith(f"WebHDFS OPEN {hdfs_folders.root}/missing: FileNotFoundException: ")
    await sink.client.aclose()


async def test_hdfs_unreachable_at_start_up_starts_failing_visibly_with_the_records_kept(
    hdfs_folders: HdfsFolders, caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    down = f"127.0.0.1:{free_port()}"
    settings = FileStrategySettings(working_dir=hdfs_folders.working, publish_dir=hdfs_folders.published)
    connection = HdfsConnection((f"http://{down}",), down, user="divolte")
    client = WebHdfs(connection.namenodes, user="divolte", timeout=2.0)
    spool = Spool(tmp_path / "spool", 10_000_000)
    sink = HdfsSink("hdfs", settings, SCHEMA, 1, client, connection, hostname="testhost", spool=spool)
    runner = SinkRunner(sink, 100, spool)
    await runner.start()  # no exception: the collector takes events and keeps them until HDFS answers
    assert "HDFS does not answer at start-up" in caplog.text
    runner.offer(records(0, 1)[0])
    await until(lambda: runner.statistics().failing_seconds > 0, timeout=15)
    assert f"could not write 1 records to {hdfs_folders.working} (kept for retry): WebHDFS CREATE" in caplog.text
    assert "no NameNode answered as active" in sink._last_error
    await runner.aclose(0.5)
    # The record the sink took but could not write is in the spool, for the next start.
    assert "1 records not written before shutdown kept in the spool" in caplog.text
    reopened = Spool(tmp_path / "spool", 10_000_000)
    reopened.open()
    assert reopened.read(10) == records(0, 1)
    reopened.close()


@pytest.mark.hdfs_outage  # HDFS lets the file be cut only once the cut-off append's lease expires (5 s here)
async def test_an_append_cut_off_by_a_namenode_stop_is_cut_back_and_its_records_written_once(
    hdfs_folders: HdfsFolders, tmp_path: Path
) -> None:
    """The collector even stops before HDFS lets the file be cut: the next start cuts it to the length HDFS
    acknowledged (from the ledger), not to its last complete block, which holds the cut-off append's records."""
    cluster = hdfs_folders.cluster
    ledger = tmp_path / "hdfs.hdfs-leftovers.json"
    sink = make_sink(hdfs_folders, sync_file_after_records=10, ledger=ledger)
    await sink.start()
    await sink.write_batch(records(0, 10))  # synced: the file holds 10 records
    (partial,) = hdfs_folders.names(hdfs_folders.working)
    big = [EncodedRecord("0:a:b", 0, ENCODER.encode({"n": n, "p": "x" * 4_000_000})) for n in range(10, 26)]
    streaming, stopped = hold_the_append(sink.client)
    appending = asyncio.create_task(sink.write_batch(big))  # a 64 MB append: the NameNode stops during it
    await asyncio.wait_for(streaming.wait(), 60)  # its first 8 MB are on their way to the DataNode
    await asyncio.to_thread(cluster.stop_namenode)
    stopped.set()
    await appending
    assert sink._shards[0].broken, "the append was not cut off: it finished although the NameNode stopped"
    await asyncio.to_thread(cluster.start_namenode)
    await sink.aclose()  # the 16 records go into a new file; too early to cut the old one (the append holds it)
    assert [entry["name"] for entry in orjson.loads(ledger.read_bytes())] == [partial.removesuffix(".partial")]

    restarted = make_sink(hdfs_folders, ledger=ledger)
    await restarted.start()
    deadline = asyncio.get_running_loop().time() + 120
    while restarted._leftovers.files:  # HDFS refuses the cut until the interrupted append's lease expires
        assert asyncio.get_running_loop().time() < deadline, restarted._last_error
        await asyncio.sleep(1)
        await restarted._settle_leftovers()
    await restarted.aclose()
    assert not ledger.exists()
    cut = f"{hdfs_folders.published}/{partial.removesuffix('.partial')}"
    assert numbers(hdfs_folders.records(cut)) == list(range(10))
    assert sorted(numbers(hdfs_folders.published_records())) == list(range(26))  # each record once
