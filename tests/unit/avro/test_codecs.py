"""Container codecs (``file_strategy.codec``): every codec read back by fastavro and by Apache Avro, and crash
recovery (``complete_prefix``) of compressed files."""

from __future__ import annotations

import io
import zlib
from pathlib import Path
from typing import cast

import avro.datafile
import avro.io
import cramjam
import fastavro
import pytest

from collector.avro.container import SUPPORTED_CODECS, ContainerWriter, complete_prefix
from collector.avro.encode import RecordEncoder
from collector.avro.schemas import parse_schema_text
from collector.config.settings import FileStrategySettings
from collector.events import EncodedRecord
from collector.sinks.file import FileSink

SCHEMA = parse_schema_text(
    """{"type": "record", "name": "R", "fields": [
         {"name": "n", "type": "long"}, {"name": "s", "type": ["null", "string"], "default": null},
         {"name": "b", "type": "bytes"}, {"name": "d", "type": "double"}]}""",
    "test",
)
ENCODER = RecordEncoder(SCHEMA)


def record(n: int) -> dict[str, object]:
    return {"n": n * 1_000_003, "s": None if n % 3 == 0 else f"event {n} " * (n % 7), "b": bytes([n % 256]) * 5,
            "d": n / 7}  # fmt: skip


def container(codec: str, blocks: list[range]) -> tuple[bytes, list[int]]:
    """A container file with one block per range; returns the bytes and each block's end offset."""
    buffer = io.BytesIO()
    writer = ContainerWriter(buffer, SCHEMA.json, codec)
    ends = [len(buffer.getvalue())]
    for numbers in blocks:
        writer.write_block([ENCODER.encode(record(n)) for n in numbers])
        ends.append(len(buffer.getvalue()))
    return buffer.getvalue(), ends


def read_fastavro(data: bytes) -> list[dict[str, object]]:
    return [cast(dict[str, object], record) for record in fastavro.reader(io.BytesIO(data))]


def read_apache(data: bytes) -> list[dict[str, object]]:
    reader = avro.datafile.DataFileReader(io.BytesIO(data), avro.io.DatumReader())
    return [cast(dict[str, object], record) for record in reader]


def test_the_codecs_are_the_avro_specification_s() -> None:
    assert SUPPORTED_CODECS == ("null", "deflate", "snappy", "zstandard")


@pytest.mark.parametrize("codec", SUPPORTED_CODECS)
def test_each_codec_is_read_by_fastavro_and_apache_avro(codec: str) -> None:
    data, _ = container(codec, [range(0, 500), range(500, 501), range(501, 1200)])
    expected = [record(n) for n in range(1200)]
    fast = read_fastavro(data)
    assert fast == expected
    assert read_apache(data) == expected
    assert fastavro.reader(io.BytesIO(data)).codec == codec
    assert [block.num_records for block in fastavro.block_reader(io.BytesIO(data))] == [500, 1, 699]


def test_compression_compresses() -> None:
    sizes = {codec: len(container(codec, [range(2000)])[0]) for codec in SUPPORTED_CODECS}
    assert all(sizes[codec] < sizes["null"] / 2 for codec in ("deflate", "snappy", "zstandard")), sizes


def test_snappy_blocks_end_with_the_crc32_of_the_uncompressed_data() -> None:
    data, ends = container("snappy", [range(10)])
    uncompressed = b"".join(ENCODER.encode(record(n)) for n in range(10))
    block = data[ends[0] : ends[1] - 16]  # count, size, data, CRC (then the sync marker)
    assert block.endswith(zlib.crc32(uncompressed).to_bytes(4, "big"))
    compressed = bytes(cramjam.snappy.compress_raw(uncompressed))
    assert compressed in block
    corrupt = data.replace(zlib.crc32(uncompressed).to_bytes(4, "big"), b"\0\0\0\0")
    with pytest.raises(Exception, match=r"(?i)checksum|crc"):
        read_apache(corrupt)  # Apache Avro checks the CRC, so a wrong one would be caught


@pytest.mark.parametrize("codec", SUPPORTED_CODECS)
def test_complete_prefix_of_a_compressed_file_cut_anywhere(codec: str) -> None:
    data, ends = container(codec, [range(0, 40), range(40, 41), range(41, 100)])
    counts = {ends[0]: 0, ends[1]: 40, ends[2]: 41, ends[3]: 100}
    assert complete_prefix(data) == (len(data), 100)
    for cut in range(ends[0], len(data), 7):
        length, count = complete_prefix(data[:cut])
        assert length == max(end for end in ends if end <= cut)
        assert count == counts[length]
        assert len(read_fastavro(data[:length])) == count
        assert len(read_apache(data[:length])) == count


def test_unknown_codec_is_refused() -> None:
    with pytest.raises(ValueError, match="null, deflate, snappy, zstandard"):
        ContainerWriter(io.BytesIO(), SCHEMA.json, codec="lz4")


@pytest.mark.parametrize("codec", ["snappy", "zstandard"])
async def test_file_sink_writes_and_recovers_compressed_files(tmp_path: Path, codec: str) -> None:
    work, publish = tmp_path / "work", tmp_path / "publish"
    work.mkdir()
    publish.mkdir()
    strategy = FileStrategySettings(working_dir=str(work), publish_dir=str(publish), codec=codec)  # type: ignore[arg-type]
    sink = FileSink("files", strategy, SCHEMA, 1, hostname="testhost")
    await sink.start()
    await sink.write_batch([EncodedRecord("0:a:b", 0, ENCODER.encode(record(n))) for n in range(30)])
    await sink._try_sync(sink._shards[0])
    (partial,) = work.glob("*.partial")
    copy = work / partial.name.replace(".avro", "-9.avro")
    copy.write_bytes(partial.read_bytes() + b"\x28\x99torn block")  # left by a process that died mid-write
    await sink.aclose()
    recovered = FileSink("files", strategy, SCHEMA, 1, hostname="testhost").recover_partials()
    assert [p.name for p in recovered] == [copy.name.removesuffix(".partial")]
    for path in publish.iterdir():
        data = path.read_bytes()
        assert read_fastavro(data) == read_apache(data) == [record(n) for n in range(30)]
