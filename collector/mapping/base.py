"""The contract between the pipeline and a mapping: an event in, a record dict (or a discard) out."""

from __future__ import annotations

from typing import Any, Protocol

from collector.avro.schemas import Schema
from collector.events import Headers

DISCARD = None
"""What ``RecordMapping.map`` returns when the mapping drops the event (Divolte has no such action)."""


class RecordMapping(Protocol):
    """Maps one event onto a record of ``schema``. Built once at start-up; ``map`` runs per event."""

    schema: Schema

    def map(self, event: Any) -> dict[str, Any] | None: ...


def decode_header_value(raw: bytes) -> str:
    """Header bytes as text: UTF-8 where valid (what browsers send today), else ISO-8859-1 as Undertow reads."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def first_header(headers: Headers, name: bytes) -> str | None:
    """The first value of the header ``name`` (lower-case bytes), or None when absent."""
    for key, value in headers:
        if key == name:
            return decode_header_value(value)
    return None
