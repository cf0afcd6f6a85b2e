"""Avro object container files written from already-encoded records, one block per explicit sync.

Divolte appends pre-encoded datums and cuts a block only when it syncs (its sync interval is 2^30 bytes),
so a reader sees one block per sync. fastavro's ``Writer`` wants record dicts, which would mean encoding
every record twice (once for Kafka, once for files); this writer takes the bytes we already have.

Layout (Avro 1.x specification, "Object Container Files"): magic ``Obj\\x01``, a metadata map
(``avro.schema``, ``avro.codec``), a 16-byte random sync marker; then blocks of
``<count: long><size: long><data><sync marker>``.
"""

from __future__ import annotations

import os
import zlib
from collections.abc import Iterable
from typing import BinaryIO

MAGIC = b"Obj\x01"
SUPPORTED_CODECS = ("null", "deflate")


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


def header(schema_json: str, sync_marker: bytes, codec: str = "null") -> bytes:
    """The file header: magic, metadata map with schema and codec, sync marker."""
    meta = {"avro.schema": schema_json.encode("utf-8"), "avro.codec": codec.encode("ascii")}
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
    if codec == "deflate":
        compressor = zlib.compressobj(6, zlib.DEFLATED, -15)  # raw deflate, as the Avro spec requires
        data = compressor.compress(data) + compressor.flush()
    return encode_long(len(datums)) + encode_long(len(data)) + data + sync_marker


class ContainerWriter:
    """Writes a container file to a binary file object: header at creation, a block per ``write_block``."""

    def __init__(self, fileobj: BinaryIO, schema_json: str, codec: str = "null") -> None:
        if codec not in SUPPORTED_CODECS:
            raise ValueError(f"unsupported Avro codec {codec!r}; use one of {', '.join(SUPPORTED_CODECS)}")
        self._file = fileobj
        self._codec = codec
        self.sync_marker = os.urandom(16)
        self._file.write(header(schema_json, self.sync_marker, codec))

    def write_block(self, datums: Iterable[bytes]) -> None:
        items = list(datums)
        if items:
            self._file.write(block(items, self.sync_marker, self._codec))
