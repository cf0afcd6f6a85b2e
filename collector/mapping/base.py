"""The contract between the pipeline and a mapping: an event in, a record dict (or a discard) out."""

from __future__ import annotations

from typing import Any, Protocol

from collector.avro.schemas import Schema
from collector.events import Headers
from collector.protocol.header_values import header_text

DISCARD = None
"""What ``RecordMapping.map`` returns when the mapping drops the event (Divolte has no such action)."""


class RecordMapping(Protocol):
    """Maps one event onto a record of ``schema``. Built once at start-up; ``map`` runs per event."""

    schema: Schema

    def map(self, event: Any) -> dict[str, Any] | None: ...


decode_header_value = header_text
"""Header bytes as text, as Divolte's server hands them over (see ``collector.protocol.header_values``)."""


def first_header(headers: Headers, name: bytes) -> str | None:
    """The first value of the header ``name`` (lower-case bytes) as Divolte reads it, or None when absent."""
    for key, value in headers:
        if key == name:
            return decode_header_value(value)
    return None
