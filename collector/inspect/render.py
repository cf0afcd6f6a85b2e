"""An inspected event as the JSON object the page and the API show, built on first request and kept.

Decoding happens here, off the processor's path: the query (as the collector's parser decodes it), the
headers (as Divolte's server hands them to mappings), the event parameters (mincode for browser events,
the JSON ``parameters`` for JSON events) and each mapping's record (its Avro bytes read back with its
schema, so what is shown is exactly what went to the sinks). Avro ``bytes`` values are shown as Avro's
JSON encoding writes them: one character per byte (ISO-8859-1).
"""

from __future__ import annotations

import io
import math
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

import fastavro
import orjson

from collector.avro.schemas import Schema
from collector.errors import IncompleteRequest
from collector.events import CapturedRequest, DivolteEvent
from collector.inspect.recorder import Inspection
from collector.protocol import mincode
from collector.protocol.header_values import header_text
from collector.protocol.query import decode_query


class Source(NamedTuple):
    """How a source's events arrive: ``GET /csc-event``, ``POST /json``; and how its requests are parsed."""

    method: str
    path: str
    parse: Callable[[CapturedRequest], DivolteEvent]


_INT64 = 2**63


def _bytes_as_text(value: object) -> str:
    """What ``orjson`` cannot write: Avro ``bytes`` as ISO-8859-1 text; anything else is refused."""
    if isinstance(value, bytes):
        return value.decode("latin-1")
    raise TypeError(f"{type(value).__name__} is not JSON")


def _plain(value: Any) -> Any:
    """``value`` as plain JSON values: bytes as ISO-8859-1 text, integers beyond 64 bits (mincode allows
    them) as their digits, non-finite numbers as null, anything else JSON lacks as its text."""
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, int):
        return value if -_INT64 <= value < _INT64 else str(value)
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    if isinstance(value, bytes):
        return value.decode("latin-1")
    return str(value)


def _query(query: bytes) -> dict[str, list[str]] | dict[str, str]:
    try:
        return decode_query(query)
    except IncompleteRequest as exc:
        return {"error": str(exc)}


def _parse(inspection: Inspection, source: Source | None) -> DivolteEvent | None:
    """The event parsed again from its request (parsing is pure), or None where it could not be parsed."""
    if source is None:
        return None
    try:
        return source.parse(inspection.request)
    except Exception:  # an incomplete request, or what made processing fail: shown by its reason instead
        return None


def _parameters(event: DivolteEvent | None, query: Mapping[str, Any]) -> Any:
    if event is not None and event.event_source == "json":
        return event.parameters
    raw = event.raw_parameters if event is not None else (query.get("u") or [None])[0]
    if not isinstance(raw, str):
        return None
    try:
        return mincode.decode(raw)
    except mincode.MincodeError as exc:
        return {"error": f"not valid mincode: {exc}", "raw": raw}


def _record(payload: bytes | None, schema: Schema | None) -> Any:
    if payload is None or schema is None:
        return None
    return fastavro.schemaless_reader(io.BytesIO(payload), schema.parsed, None)


def render(inspection: Inspection, sources: Mapping[str, Source]) -> dict[str, Any]:
    """The event's JSON object (a plain dict of JSON values), built once per inspection."""
    if inspection.rendered is not None:
        return inspection.rendered
    request = inspection.request
    source = sources.get(request.source)
    event = _parse(inspection, source)
    method, path = (source.method, source.path) if source is not None else ("", "")
    query = _query(request.query)
    sinks = sorted({name for m in inspection.mappings for name, taken in m[5] if taken})
    rendered: dict[str, Any] = {
        "id": inspection.id,
        "time": request.received_ms,
        "source": request.source,
        "outcome": inspection.outcome,
        "reason": inspection.reason,
        "recorded": inspection.recorded,
        "event_type": event.event_type if event is not None else None,
        "party_id": event.party_id if event is not None else None,
        "session_id": event.session_id if event is not None else None,
        "page_view_id": event.page_view_id if event is not None else None,
        "event_id": event.event_id if event is not None else None,
        "corrupt": inspection.corrupt,
        "duplicate": inspection.duplicate,
        "location": event.location if event is not None else None,
        "request": {
            "method": method,
            "target": path + ("?" + request.query.decode("latin-1") if request.query else ""),
            "remote_address": request.peer,
            "headers": [[name.decode("latin-1"), header_text(value)] for name, value in request.headers],
            "query": query,
            "body": request.body.decode("utf-8", "replace") if request.body else None,
        },
        "parameters": _parameters(event, query),
        "mappings": [
            {
                "mapping": mapping,
                "outcome": outcome,
                "reason": reason,
                "record": _record(payload, schema),
                "sinks": [{"sink": name, "queued": taken} for name, taken in sinks_of],
            }
            for mapping, outcome, reason, payload, schema, sinks_of in inspection.mappings
        ],
        "sinks": sinks,
    }
    plain: dict[str, Any]
    try:  # one C round trip makes every value plain JSON; _plain for what orjson refuses (huge integers)
        plain = orjson.loads(orjson.dumps(rendered, default=_bytes_as_text))
    except TypeError:
        plain = _plain(rendered)
    inspection.rendered = plain
    return plain


FILTERS = ("outcome", "type", "party", "session", "source", "sink")
"""Query parameters of ``GET /inspect/api/events`` that select events (each an exact match)."""


def matches(event: Mapping[str, Any], wanted: Mapping[str, str]) -> bool:
    """Whether a rendered event passes every filter given in ``wanted``."""
    for key, value in wanted.items():
        if key == "outcome" and event["outcome"] != value:
            return False
        if key == "type" and event["event_type"] != value:
            return False
        if key == "party" and event["party_id"] != value:
            return False
        if key == "session" and event["session_id"] != value:
            return False
        if key == "source" and event["source"] != value:
            return False
        if key == "sink" and value not in event["sinks"]:
            return False
    return True
