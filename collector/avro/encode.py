"""Avro binary encoding of mapped records: once per record, shared by every sink of the mapping.

The bytes are plain Avro binary with no framing: exactly what Divolte puts in a Kafka message value
(``naked`` mode) and appends to container files. Confluent framing is added by the Kafka sink.
"""

from __future__ import annotations

import io
import struct
from typing import Any

from fastavro import schemaless_writer

from collector.avro.schemas import Schema


class RecordEncoder:
    """Encodes record dicts for one schema. Reuses one buffer, so encoding allocates only the result."""

    __slots__ = ("_buffer", "_parsed", "schema")

    def __init__(self, schema: Schema) -> None:
        self.schema = schema
        self._parsed = schema.parsed
        self._buffer = io.BytesIO()

    def encode(self, record: dict[str, Any]) -> bytes:
        buffer = self._buffer
        buffer.seek(0)
        buffer.truncate()
        schemaless_writer(buffer, self._parsed, record)
        return buffer.getvalue()


def confluent_frame(schema_id: int, payload: bytes) -> bytes:
    """Confluent wire format: magic byte 0, the schema id as 4 big-endian bytes, then the Avro binary."""
    return b"\x00" + struct.pack(">I", schema_id & 0xFFFFFFFF) + payload
