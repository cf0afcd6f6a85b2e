"""Avro object container files written from already-encoded records, one block per explicit sync.

Divolte appends pre-encoded datums and cuts a block only when it syncs (its sync interval is 2^30 bytes),
so a reader sees one block per sync. fastavro's ``Writer`` wants record dicts, which would mean encoding
every record twice (once for Kafka, once for files); this writer takes the bytes we already have.

Layout (Avro 1.x specification, "Object Container Files"): magic ``Obj\\x01``, a metadata map
(``avro.schema``, ``avro.codec``), a 16-byte random sync marker; then blocks of
``<count: long><size: long><data><sync marker>``.

Codecs, with the specification's names: ``null`` (Divolte's, uncompressed), ``deflate`` (raw RFC 1951 data,
no zlib header), ``snappy`` (raw snappy data followed by the 4-byte big-endian CRC-32 of the *uncompressed*
data) and ``zstandard`` (one zstd frame). ``size`` is always the size of the compressed data, so the block
boundaries (and so ``complete_prefix``) never depend on the codec.
"""

from __future__ import annotations

import os
import zlib
from collections.abc import Callable, Iterable, Mapping
from typing import BinaryIO

import cramjam

MAGIC = b"Obj\x01"
ZSTANDARD_LEVEL = 3
"""zstd's own default level: most of the ratio of higher levels at a fraction of their cost."""


def _deflate(data: bytes) -> bytes:
    compressor = zlib.compressobj(6, zlib.DEFLATED, -15)  # raw deflate, as the Avro spec requires
    return compressor.compress(data) + compressor.flush()


def _snappy(data: bytes) -> bytes:
    return bytes(cramjam.snappy.compress_raw(data)) + zlib.crc32(data).to_bytes(4, "big")


def _zstandard(data: bytes) -> bytes:
    return bytes(cramjam.zstd.compress(data, level=ZSTANDARD_LEVEL))


COMPRESSORS: dict[str, Callable[[bytes], bytes] | None] = {
    "null": None,
    "deflate": _deflate,
    "snappy": _snappy,
    "zstandard": _zstandard,
}
SUPPORTED_CODECS = tuple(COMPRESSORS)


def encode_long(value: int) -> bytes:
    """Avro's zig-zag variable-length encoding of a 64-bit signed integer."""
    n = (value << 1) ^ (value >> 63)
    out = bytearray()
    while n & ~0x7F:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def encode_bytes(value: bytes) -> bytes:
    return encode_long(len(value)) + value


def header(
    schema_json: str, sync_marker: bytes, codec: str = "null", metadata: Mapping[str, bytes] | None = None
) -> bytes:
    """The file header: magic, metadata map with schema, codec and any extra ``metadata``, sync marker."""
    meta = {"avro.schema": schema_json.encode("utf-8"), "avro.codec": codec.encode("ascii"), **(metadata or {})}
    parts = [MAGIC, encode_long(len(meta))]
    for key, value in meta.items():
        parts.append(encode_bytes(key.encode("utf-8")))
        parts.append(encode_bytes(value))
    parts.append(encode_long(0))
    parts.append(sync_marker)
    return b"".join(parts)


def block(datums: list[bytes], sync_marker: bytes, codec: str = "null") -> bytes:
    """One data block holding ``datums`` (each an encoded record), followed by the sync marker."""
    data = b"".join(datums)
    compress = COMPRESSORS[codec]
    if compress is not None:
        data = compress(data)
    return encode_long(len(datums)) + encode_long(len(data)) + data + sync_marker


class ContainerWriter:
    """Writes a container file to a binary file object: header at creation, a block per ``write_block``."""

    def __init__(
        self, fileobj: BinaryIO, schema_json: str, codec: str = "null", *, metadata: Mapping[str, bytes] | None = None
    ) -> None:
        if codec not in SUPPORTED_CODECS:
            raise ValueError(f"unsupported Avro codec {codec!r}; use one of {', '.join(SUPPORTED_CODECS)}")
        self._file = fileobj
        self._codec = codec
        self.sync_marker = os.urandom(16)
        self._file.write(header(schema_json, self.sync_marker, codec, metadata))

    def write_block(self, datums: Iterable[bytes]) -> None:
        items = list(datums)
        if items:
            self._file.write(block(items, self.sync_marker, self._codec))


def _read_long(data: bytes, pos: int) -> tuple[int, int]:
    """Decode one zig-zag varint at ``pos``; raises IndexError when the data ends inside it."""
    shift = result = 0
    while True:
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return (result >> 1) ^ -(result & 1), pos
        shift += 7
        if shift > 63:
            raise ValueError("varint too long")


def complete_prefix(data: bytes) -> tuple[int, int]:
    """How much of a container file is intact: ``(byte length, record count)`` up to its last complete block.

    A file cut off mid-write (a crash between syncs) ends in a partial block; everything before it is a
    valid container file on its own. Returns ``(0, 0)`` if not even the header is complete.
    """
    try:
        if not data.startswith(MAGIC):
            return 0, 0
        pos = len(MAGIC)
        while True:  # the metadata map: blocks of (key, value) pairs, ended by a zero count
            count, pos = _read_long(data, pos)
            if count == 0:
                break
            if count < 0:
                _, pos = _read_long(data, pos)
                count = -count
            for _ in range(count * 2):
                length, pos = _read_long(data, pos)
                pos += length
        sync_marker = data[pos : pos + 16]
        pos += 16
        if len(sync_marker) != 16 or pos > len(data):
            return 0, 0
    except (IndexError, ValueError):
        return 0, 0
    good, records = pos, 0
    while good < len(data):
        try:
            count, pos = _read_long(data, good)
            size, pos = _read_long(data, pos)
        except (IndexError, ValueError):
            break
        end = pos + size
        if count <= 0 or size < 0 or data[end : end + 16] != sync_marker:
            break
        good, records = end + 16, records + count
    return good, records
