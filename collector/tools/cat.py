"""``divolte-collector cat``: Avro container files (local or in S3) printed as JSON lines, or counted.

The tool to reach for when asking "is the tracker working?": point it at the files the collector writes,
``.partial`` files still being written included, or at objects in a bucket.

- Sources: local paths; a local folder (every ``.avro`` file in it, in name order: e.g. a sink's dead-letter
  folder); ``s3://bucket/key``; ``s3://bucket/prefix/`` (ending in ``/``: every ``.avro`` object under the
  prefix, in key order); ``hdfs://namenode:8020/path`` and ``webhdfs://host:9870/path``, a file or a folder
  (``collector.tools.cat_hdfs``; ``--config`` lends it the collector's ``global.hdfs.client`` settings).
  S3 access uses the same settings as the S3 sink: ``--endpoint``
  and ``--region``, else ``AWS_ENDPOINT_URL`` and ``AWS_REGION``, and the standard AWS credentials.
  ``gs://bucket/name`` and ``gs://bucket/prefix/`` read Cloud Storage as the GCS sink does (Application Default
  Credentials, ``STORAGE_EMULATOR_HOST``); Divolte's default ``publish_dir`` gives names with a leading ``/``,
  so its files are under ``gs://bucket//tmp/``.
- Every file is read up to its last complete block, so a ``.partial`` file shows what has been synced so
  far. A file other than ``.partial`` with bytes after its last complete block gets a warning on stderr.
- Output: one JSON object per record. Unions are written as their value (not Avro's ``{"type": value}``
  JSON encoding); ``bytes`` and ``fixed`` values as base64 strings; timestamps with a logical type as
  ISO 8601; decimals as strings.
- ``--schema FILE.avsc`` reads with that reader schema (Avro schema resolution: added fields take their
  defaults, removed fields are skipped, promotions apply).
- ``--count`` prints the number of records (without decoding them); with several files (or a folder), one
  ``<count> <file>`` line each, then ``<total> total``.

- Dead-letter files (``collector.sinks.deadletter``) are read like any other; for each, a line on stderr says
  which sink refused its records and why, so stdout stays pure JSON lines.

Exit status 1 when any file could not be read (missing, not Avro, corrupt), after the others were printed.
"""

from __future__ import annotations

import asyncio
import base64
import io
import os
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

import aiohttp
import fastavro
import obstore
import orjson
from gcloud.aio.storage import Storage
from obstore.exceptions import BaseError as ObjectStoreError

from collector.avro.container import MAGIC, complete_prefix
from collector.errors import ConfigError
from collector.sinks import gcs_store
from collector.sinks.deadletter import META_DETAIL, META_REASON, META_SINK
from collector.sinks.s3_store import describe_error, open_store, parse_s3_url
from collector.tools.cat_hdfs import HDFS_SCHEMES, HdfsReadError, hdfs_sources


class CatError(Exception):
    """A source that cannot be read; the message names it and says why."""


@dataclass(frozen=True, slots=True)
class S3Options:
    """Where remote files are: S3's endpoint and region, and the Hadoop client settings for ``hdfs://``."""

    endpoint: str | None = None
    region: str | None = None
    hdfs_client: dict[str, str] | None = None


def _s3_sources(url: str, options: S3Options) -> Iterator[tuple[str, bytes]]:
    bucket, key = parse_s3_url(url)
    store = open_store(bucket, region=options.region, endpoint=options.endpoint, request_timeout=60.0)
    try:
        if key and not key.endswith("/"):
            yield url, bytes(obstore.get(store, key).bytes())
            return
        keys = sorted(meta["path"] for batch in obstore.list(store, key or None) for meta in batch)
        avro_keys = [k for k in keys if k.endswith(".avro")]
        if not avro_keys:
            raise CatError(f"{url}: no .avro objects under this prefix")
        for found in avro_keys:
            yield f"s3://{bucket}/{found}", bytes(obstore.get(store, found).bytes())
    except FileNotFoundError as exc:
        raise CatError(f"{url}: no such object") from exc
    except ObjectStoreError as exc:
        raise CatError(f"{url}: {describe_error(exc)}") from exc


def _gs_sources(url: str) -> Iterator[tuple[str, bytes]]:
    bucket, name = gcs_store.parse_gs_url(url)
    with asyncio.Runner() as runner:
        try:
            storage = runner.run(_open_storage())
        except ConfigError as exc:
            raise CatError(f"{url}: {'; '.join(exc.problems)}") from exc
        try:
            if name and not name.endswith("/"):
                yield url, runner.run(storage.download(bucket, name, timeout=60))
                return
            names = [n for n in runner.run(gcs_store.list_names(storage, bucket, name)) if n.endswith(".avro")]
            if not names:
                raise CatError(f"{url}: no .avro objects under this prefix")
            for found in names:
                yield f"gs://{bucket}/{found}", runner.run(storage.download(bucket, found, timeout=60))
        except aiohttp.ClientResponseError as exc:
            what = "no such bucket or object" if exc.status == 404 else gcs_store.describe_error(exc)
            raise CatError(f"{url}: {what}") from exc
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise CatError(f"{url}: {gcs_store.describe_error(exc)}") from exc
        finally:
            runner.run(storage.close())


async def _open_storage() -> Storage:
    """The client is made inside the loop that uses it."""
    return gcs_store.open_storage()


def sources(spec: str, options: S3Options) -> Iterator[tuple[str, bytes]]:
    """``(name, content)`` of each file ``spec`` names."""
    if spec.startswith("s3://"):
        yield from _s3_sources(spec, options)
        return
    if spec.startswith("gs://"):
        yield from _gs_sources(spec)
        return
    if spec.startswith(HDFS_SCHEMES):
        try:
            yield from hdfs_sources(spec, options.hdfs_client)
        except HdfsReadError as exc:
            raise CatError(str(exc)) from exc
        return
    try:
        if Path(spec).is_dir():
            files = sorted(path for path in Path(spec).iterdir() if path.name.endswith(".avro") and path.is_file())
            if not files:
                raise CatError(f"{spec}: no .avro files in this folder")
            for path in files:
                yield str(path), path.read_bytes()
            return
        yield spec, Path(spec).read_bytes()
    except OSError as exc:
        raise CatError(f"{spec}: {exc.strerror or exc}") from exc


def intact(name: str, data: bytes, warn: IO[str]) -> tuple[bytes, int]:
    """The file up to its last complete block and its record count; ``CatError`` when it is not Avro."""
    if not data.startswith(MAGIC):
        what = "an empty file" if not data else f"it starts with {data[:4]!r}, not {MAGIC!r}"
        raise CatError(f"{name}: not an Avro container file ({what})")
    length, records = complete_prefix(data)
    if length == 0:
        raise CatError(f"{name}: the Avro header is incomplete (a file cut short right after creation?)")
    if length < len(data) and not name.endswith(".partial"):
        print(f"{name}: warning: the last {len(data) - length} bytes are not a complete block (a file still "
              "being written, or cut short); reading up to the last complete block", file=warn)  # fmt: skip
    return data[:length], records


def _json_default(value: Any) -> Any:
    if isinstance(value, bytes | bytearray | memoryview):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"cannot print a {type(value).__name__}")


def json_line(record: object) -> bytes:
    return orjson.dumps(record, default=_json_default, option=orjson.OPT_APPEND_NEWLINE)


def _note_dead_letters(name: str, content: bytes, err: IO[str]) -> None:
    """For a dead-letter file, say on stderr which sink refused its records and why."""
    try:
        metadata = fastavro.reader(io.BytesIO(content)).metadata
    except Exception:  # an unreadable header is reported when the records are read
        return
    if META_REASON in metadata:
        print(f"{name}: dead letters of sink '{metadata.get(META_SINK, '?')}', refused for good "
              f"({metadata[META_REASON]}): {metadata.get(META_DETAIL, '')}", file=err)  # fmt: skip


def load_reader_schema(path: str) -> Any:
    try:
        return fastavro.parse_schema(orjson.loads(Path(path).read_bytes()))
    except (OSError, orjson.JSONDecodeError, fastavro.schema.SchemaParseException, ValueError) as exc:
        raise CatError(f"--schema {path}: {exc}") from exc


def cat(
    specs: Sequence[str],
    *,
    out: IO[bytes],
    err: IO[str],
    count: bool = False,
    schema: str | None = None,
    s3: S3Options | None = None,
) -> int:
    """Print (or count) the records of every file; returns the exit status."""
    options = s3 or S3Options()
    try:
        reader_schema = load_reader_schema(schema) if schema else None
    except CatError as exc:
        print(f"Error: {exc}", file=err)
        return 1
    status = 0
    counts: list[tuple[str, int]] = []
    for spec in specs:
        try:
            for name, data in sources(spec, options):
                content, records = intact(name, data, err)
                _note_dead_letters(name, content, err)
                if count:
                    counts.append((name, records))
                    continue
                try:
                    for record in fastavro.reader(io.BytesIO(content), reader_schema=reader_schema):
                        out.write(json_line(record))
                except BrokenPipeError:
                    raise
                except Exception as exc:  # fastavro: corrupt data, a codec library missing, schema resolution
                    raise CatError(f"{name}: cannot read records: {type(exc).__name__}: {exc}") from exc
        except CatError as exc:
            print(f"Error: {exc}", file=err)
            status = 1
    if count:
        if len(counts) == 1 and len(specs) == 1 and not specs[0].endswith("/") and not Path(specs[0]).is_dir():
            out.write(f"{counts[0][1]}\n".encode())
        else:
            for name, records in counts:
                out.write(f"{records} {name}\n".encode())
            out.write(f"{sum(n for _, n in counts)} total\n".encode())
    return status


def main(
    specs: Sequence[str], *, count: bool, schema: str | None, endpoint: str | None, region: str | None,
    hdfs_client: dict[str, str] | None = None,
) -> int:  # fmt: skip
    try:
        return cat(specs, out=sys.stdout.buffer, err=sys.stderr, count=count, schema=schema,
                   s3=S3Options(endpoint=endpoint, region=region, hdfs_client=hdfs_client))  # fmt: skip
    except BrokenPipeError:  # `cat … | head`: stop quietly, and keep the interpreter's final flush quiet too
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
