"""The HDFS sink and tools through a real HttpFS gateway (``hadoop-hdfs-httpfs`` in front of the session's
MiniDFSCluster), configured as a user would: ``fs.defaultFS = "webhdfs://<gateway>:<port>"``.

What the gateway wrote is read back through the NameNode's own WebHDFS (``HdfsFolders``) with Apache Avro, and
the gateway's access log shows the calls went through it (data with ``data=true``, no DataNode redirect).
"""

from __future__ import annotations

import asyncio
import collections
import json
import re
from pathlib import Path

import orjson
import pytest

from collector.avro.container import block, header
from collector.cli import main
from collector.config.settings import FileStrategySettings
from collector.errors import SinkError
from collector.sinks.hdfs import HdfsSink
from collector.sinks.hdfs_config import hdfs_connection
from collector.sinks.runner import SinkRunner
from collector.sinks.webhdfs import WebHdfs, WebHdfsError
from tests.integration.collector_process import StartCollector
from tests.integration.hdfs.conftest import HdfsFolders
from tests.integration.hdfs.test_hdfs_sink import SCHEMA, numbers, records
from tests.integration.hdfs.test_hdfs_tools import avro_file
from tests.integration.kafka.records import event_number, send_events
from tests.servers.hdfs.httpfs import HttpFsGateway
from tests.unit.sinks.helpers import until

pytestmark = pytest.mark.integration


def client_settings(gateway: HttpFsGateway, user: str = "divolte") -> dict[str, str]:
    """``divolte.global.hdfs.client`` for a collector that reaches HDFS only through the gateway."""
    return {"fs.defaultFS": f"webhdfs://{gateway.address}", "hadoop.user.name": user}


def make_sink(
    folders: HdfsFolders, gateway: HttpFsGateway, *, user: str = "divolte", replication: int = 1,
    ledger: Path | None = None, **strategy: float,
) -> HdfsSink:  # fmt: skip
    connection = hdfs_connection(client_settings(gateway, user), environ={})
    assert connection.namenodes == (f"http://{gateway.address}",)
    client = WebHdfs(connection.namenodes, user=connection.user, delegation=connection.delegation)
    settings = FileStrategySettings(working_dir=folders.working, publish_dir=folders.published, **strategy)  # type: ignore[arg-type]
    return HdfsSink("hdfs", settings, SCHEMA, 1, client, connection, replication=replication, hostname="testhost",
                    ledger=ledger)  # fmt: skip


def config_text(folders: HdfsFolders, gateway: HttpFsGateway) -> str:
    """The configuration a user writes for a collector that reaches HDFS through the gateway."""
    return f"""
divolte.global.hdfs.client {{
  fs.defaultFS = "webhdfs://{gateway.address}"
  hadoop.user.name = divolte
}}
divolte.sources.browser.type = browser
divolte.sinks.hdfs {{
  type = hdfs
  replication = 1
  file_strategy {{
    working_dir = "{folders.working}"
    publish_dir = "webhdfs://{gateway.address}{folders.published}"
    sync_file_after_records = 100
    sync_file_after_duration = 1 seconds
  }}
}}
divolte.mappings.m {{ sources = [browser], sinks = [hdfs] }}
"""


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


async def test_the_sink_appends_per_sync_and_publishes_through_the_gateway(
    hdfs_folders: HdfsFolders, httpfs_gateway: HttpFsGateway
) -> None:
    sink = make_sink(hdfs_folders, httpfs_gateway, replication=2, sync_file_after_records=3)
    await sink.start()
    await sink.write_batch(records(0, 4))
    (partial,) = hdfs_folders.names(hdfs_folders.working)
    path = f"{hdfs_folders.working}/{partial}"
    assert numbers(hdfs_folders.records(path)) == [0, 1, 2, 3]  # read on the NameNode, written by the gateway
    await sink.write_batch(records(4, 3))  # a second sync: one append through the gateway
    assert numbers(hdfs_folders.records(path)) == list(range(7))
    assert hdfs_folders.status(path)["replication"] == 2
    await sink.aclose()
    assert hdfs_folders.names(hdfs_folders.working) == []
    assert hdfs_folders.names(hdfs_folders.published) == [partial.removesuffix(".partial")]
    assert numbers(hdfs_folders.published_records()) == list(range(7))
    # The data went to the gateway itself, as HttpFS wants it: data=true, no DataNode in between.
    calls = [line for line in httpfs_gateway.requests() if partial in line and "data=true" in line]
    assert [line.split()[0] for line in calls] == ["PUT", "POST"], httpfs_gateway.requests()[-10:]
    assert all(line.endswith((" 200", " 201")) for line in calls), calls


def test_the_collector_configured_with_the_gateway_writes_every_event(
    hdfs_folders: HdfsFolders, httpfs_gateway: HttpFsGateway, start_collector: StartCollector,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    monkeypatch.delenv("HADOOP_USER_NAME", raising=False)
    collector = start_collector(config_text(hdfs_folders, httpfs_gateway))
    events = [(party, event) for event in range(3) for party in range(100)]
    assert send_events(collector.base_url, events) == len(events)
    assert collector.stop() == 0
    found = collections.Counter(event_number(record) for record in hdfs_folders.published_records())
    assert found == collections.Counter(events)  # each event once, read back on the NameNode
    assert hdfs_folders.names(hdfs_folders.working) == []
    appends = [line for line in httpfs_gateway.requests() if hdfs_folders.working in line and "op=APPEND" in line]
    assert appends, "the collector's appends did not go through the gateway"


def test_cat_and_check_config_connect_through_the_gateway(
    hdfs_folders: HdfsFolders, httpfs_gateway: HttpFsGateway, tmp_path: Path, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    monkeypatch.delenv("HADOOP_USER_NAME", raising=False)
    cluster, gateway = hdfs_folders.cluster, httpfs_gateway.address
    for name, values in (("b.avro", range(2, 4)), ("a.avro", range(2))):
        cluster.webhdfs("PUT", f"{hdfs_folders.published}/{name}", "CREATE", data=avro_file(values))
    code, out, err = run(capsys, "cat", f"webhdfs://{gateway}{hdfs_folders.published}/a.avro")
    assert (code, err) == (0, "")
    assert [json.loads(line) for line in out.splitlines()] == [{"n": 0}, {"n": 1}]
    config = tmp_path / "collector.conf"
    config.write_text(config_text(hdfs_folders, httpfs_gateway))
    code, out, err = run(capsys, "cat", "--config", str(config), f"webhdfs://{gateway}{hdfs_folders.published}/")
    assert (code, err) == (0, "")
    assert [json.loads(line)["n"] for line in out.splitlines()] == [0, 1, 2, 3]
    code, _, err = run(capsys, "cat", f"webhdfs://{gateway}{hdfs_folders.root}/missing.avro")
    assert (code, err) == (1, f"Error: webhdfs://{gateway}{hdfs_folders.root}/missing.avro: no such file or folder "
                              "on HDFS\n")  # fmt: skip

    code, out, err = run(capsys, "check-config", "--connect", str(config))
    assert (code, err) == (0, "")
    assert (
        f"Sink 'hdfs': HDFS answers (WebHDFS at http://{gateway} as user divolte); {hdfs_folders.working} and "
        f"{hdfs_folders.published} are writable directories"
    ) in out
    hdfs_folders.chmod(hdfs_folders.published, "555")
    code, out, err = run(capsys, "check-config", "--connect", str(config))
    assert code == 1
    assert err.startswith(
        f"Connection check failed:\n  - divolte.sinks.hdfs.file_strategy.publish_dir: user 'divolte' may not create "
        f"files in '{hdfs_folders.published}' on HDFS (WebHDFS CHECKACCESS {hdfs_folders.published}: "
        "AccessControlException: Permission denied: user=divolte, access=WRITE_EXECUTE"
    ), err


async def test_permission_denied_through_the_gateway_is_a_clear_error_and_the_sink_resumes(
    hdfs_folders: HdfsFolders, httpfs_gateway: HttpFsGateway
) -> None:
    refused = make_sink(hdfs_folders, httpfs_gateway, user="mallory")
    with pytest.raises(SinkError) as failed:
        await refused.start()
    assert str(failed.value).startswith(
        f"divolte.sinks.hdfs.file_strategy.working_dir: user 'mallory' may not create files in "
        f"'{hdfs_folders.working}' on HDFS (WebHDFS CHECKACCESS {hdfs_folders.working}: AccessControlException: "
        "Permission denied: user=mallory"
    )
    with pytest.raises(WebHdfsError) as denied:  # HttpFS answers 500 where the NameNode answers 403
        await refused.client.mkdirs(f"{hdfs_folders.working}/x")
    assert (denied.value.status, denied.value.exception, denied.value.retriable) == (
        500, "AccessControlException", False
    )  # fmt: skip
    await refused.client.aclose()

    sink = make_sink(hdfs_folders, httpfs_gateway, sync_file_after_records=5, roll_every=0.2)
    runner = SinkRunner(sink, 10_000)
    await runner.start()
    hdfs_folders.chmod(hdfs_folders.working, "555")  # the sink's user may no longer create files there
    for record in records(0, 10):
        runner.offer(record)
    await until(lambda: runner.statistics().failing_seconds > 0, timeout=15)
    assert runner.running
    assert re.search(r"WebHDFS CREATE \S+: AccessControlException: Permission denied: user=divolte, access=WRITE",
                     sink._last_error), sink._last_error  # fmt: skip
    hdfs_folders.chmod(hdfs_folders.working, "755")
    await until(lambda: runner.statistics().failing_seconds == 0, timeout=30)
    await runner.aclose(10)
    assert sorted(numbers(hdfs_folders.published_records())) == list(range(10))


async def test_a_partial_left_by_a_crash_is_cut_and_published_through_the_gateway(
    hdfs_folders: HdfsFolders, httpfs_gateway: HttpFsGateway
) -> None:
    sink = make_sink(hdfs_folders, httpfs_gateway)
    name = f"20240101000000-divolte-tracking-testhost-{sink._shards[0].number}.avro"
    marker = bytes(range(16))
    payloads = [record.payload for record in records(0, 6)]
    data = header(SCHEMA.json, marker) + block(payloads[:3], marker) + block(payloads[3:], marker)[:-5]
    hdfs_folders.cluster.webhdfs("PUT", f"{hdfs_folders.working}/{name}.partial", "CREATE", user="divolte", data=data)
    await sink.start()  # cut (TRUNCATE) to its last complete block, then published (RENAME), through the gateway
    assert hdfs_folders.names(hdfs_folders.working) == []
    assert hdfs_folders.names(hdfs_folders.published) == [name]
    assert numbers(hdfs_folders.records(f"{hdfs_folders.published}/{name}")) == [0, 1, 2]
    await sink.aclose()
    assert any("op=TRUNCATE" in line for line in httpfs_gateway.requests())


async def test_a_leftover_shorter_than_its_ledger_says_is_published_through_the_gateway(
    hdfs_folders: HdfsFolders, httpfs_gateway: HttpFsGateway, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """HttpFS passes the NameNode's refusal to cut a file to a larger size on as a bare ``RemoteException``; the
    sink must still see it as that refusal and publish what the file holds, as it does on the NameNode."""
    name = "20240101000000-divolte-tracking-testhost-1.avro"
    marker = bytes(range(16))
    data = header(SCHEMA.json, marker) + block([record.payload for record in records(0, 3)], marker)
    partial = f"{hdfs_folders.working}/{name}.partial"
    hdfs_folders.cluster.webhdfs("PUT", partial, "CREATE", user="divolte", data=data)
    ledger = tmp_path / "hdfs.hdfs-leftovers.json"
    ledger.write_bytes(orjson.dumps([{"partial": partial, "name": name, "size": len(data) + 100, "records": 5}]))
    sink = make_sink(hdfs_folders, httpfs_gateway, ledger=ledger)
    await sink.start()
    assert hdfs_folders.names(hdfs_folders.published) == [name], sink._last_error
    assert numbers(hdfs_folders.records(f"{hdfs_folders.published}/{name}")) == [0, 1, 2]
    assert f"{partial} is shorter than the {len(data) + 100} bytes HDFS acknowledged" in caplog.text
    await sink.aclose()


@pytest.mark.hdfs_outage
async def test_a_namenode_outage_behind_the_gateway_fails_visibly_and_loses_nothing(
    hdfs_folders: HdfsFolders, httpfs_gateway: HttpFsGateway
) -> None:
    """With the NameNode down the gateway answers at once (500, ``ConnectException``): the sink shows it is
    failing, keeps the records, and resumes on its own once the NameNode is back."""
    cluster = hdfs_folders.cluster
    sink = make_sink(hdfs_folders, httpfs_gateway, sync_file_after_records=5, roll_every=0.5)
    runner = SinkRunner(sink, 10_000)
    await runner.start()
    for record in records(0, 10):
        runner.offer(record)
    await until(lambda: runner.statistics().written == 10)
    await asyncio.to_thread(cluster.stop_namenode)
    try:
        for record in records(10, 20):
            runner.offer(record)
        await until(lambda: runner.statistics().failing_seconds > 0, timeout=15)
        assert "ConnectException" in sink._last_error, sink._last_error
    finally:
        await asyncio.to_thread(cluster.start_namenode)
    await until(lambda: runner.statistics().failing_seconds == 0, timeout=30)
    await runner.aclose(30)
    assert sorted(numbers(hdfs_folders.published_records())) == list(range(30))  # each record once
