"""``divolte-collector cat hdfs://…`` / ``webhdfs://…``: Avro files read from HDFS over WebHDFS.

``hdfs://namenode:8020/path`` reaches the NameNode's HTTP address as the HDFS sink does
(``collector.sinks.hdfs_config``): with ``--config``, the collector's ``divolte.global.hdfs.client`` settings
(``dfs.namenode.http-address``, HA nameservices, the user, a delegation token) apply; without, port 9870 on the
same host. ``webhdfs://host:port/path`` names the HTTP address itself. A folder gives every ``.avro`` file in
it, in name order (a sink's ``publish_dir``); a ``.partial`` file is read like a local one.
"""

from __future__ import annotations

import asyncio
import urllib.parse
from collections.abc import Iterator, Mapping

from collector.errors import ConfigError
from collector.sinks.hdfs_config import hdfs_connection
from collector.sinks.webhdfs import WebHdfs, WebHdfsError

HDFS_SCHEMES = ("hdfs://", "webhdfs://", "swebhdfs://")


class HdfsReadError(Exception):
    """The source cannot be read; the message names it and says why."""


def hdfs_sources(url: str, client_settings: Mapping[str, str] | None = None) -> Iterator[tuple[str, bytes]]:
    """``(url, content)`` of the file ``url`` names, or of every ``.avro`` file in the folder it names."""
    parts = urllib.parse.urlsplit(url)
    try:
        connection = hdfs_connection({**(client_settings or {}), "fs.defaultFS": f"{parts.scheme}://{parts.netloc}"})
    except ConfigError as exc:
        raise HdfsReadError(f"{url}: {'; '.join(exc.problems)}") from exc
    yield from asyncio.run(_read(url, parts.path or "/", connection.namenodes, connection.user, connection.delegation))


async def _read(
    url: str, path: str, namenodes: tuple[str, ...], user: str | None, delegation: str | None
) -> list[tuple[str, bytes]]:
    client = WebHdfs(namenodes, user=user, delegation=delegation, timeout=60.0)
    base = url[: len(url) - len(path)] if url.endswith(path) else url
    try:
        status = await client.status(path)
        if status is None:
            raise HdfsReadError(f"{url}: no such file or folder on HDFS")
        if status.get("type") != "DIRECTORY":
            return [(url, await client.open(path))]
        names = sorted(
            str(entry["pathSuffix"])
            for entry in await client.list(path)
            if entry.get("type") == "FILE" and str(entry.get("pathSuffix", "")).endswith(".avro")
        )
        if not names:
            raise HdfsReadError(f"{url}: no .avro files in this folder")
        folder = path.rstrip("/")
        return [(f"{base}{folder}/{name}", await client.open(f"{folder}/{name}")) for name in names]
    except WebHdfsError as exc:
        raise HdfsReadError(f"{url}: {exc}") from exc
    finally:
        await client.aclose()
