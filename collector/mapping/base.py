"""The contract between the pipeline and a mapping: an event in, a record (or ``DISCARD``) out."""

from __future__ import annotations

from typing import Any, Protocol

from collector.avro.schemas import Schema
from collector.events import DivolteEvent, Headers

DISCARD = None
"""What a mapping returns for an event it drops on purpose (``discard()`` in a Python mapping; Divolte has no
such action): the pipeline counts the event as discarded and writes nothing for this mapping."""


class RecordMapping(Protocol):
    """Maps one event onto a record of ``schema``. Built once at start-up; called per event.

    ``map_encoded`` is what the pipeline runs: map and encode one event, giving the record's Avro binary
    under ``schema`` (or ``DISCARD``). ``map`` gives the same record as a dict (or ``DISCARD``), for the
    mapping-test tool and for tests; ``map_encoded(e)`` is always ``map(e)`` encoded.
    """

    schema: Schema

    def map(self, event: DivolteEvent) -> dict[str, Any] | None: ...

    def map_encoded(self, event: DivolteEvent) -> bytes | None: ...


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
