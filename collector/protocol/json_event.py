"""Turn a captured JSON-source request into a ``DivolteEvent``, or say why it must be dropped (SPEC §4).

The client already has its 204. The body must be one JSON object with exactly Divolte's properties:
``session_id`` (a Divolte identifier), ``event_id``, ``is_new_party``, ``is_new_session`` and
``client_timestamp_iso`` (ISO-8601 *with* an offset) are required; ``event_type`` (string or null) and
``parameters`` (any JSON) are optional; any other top-level property drops the event, as Jackson's
``FAIL_ON_UNKNOWN_PROPERTIES`` does in Divolte. Jackson's scalar coercions are honoured (``"true"`` for a
boolean, a number where a string is expected).

Deliberate difference: a timestamp without an offset drops the event cleanly; in Divolte it throws on the
mapper thread and loses the rest of that thread's batch.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import orjson

from collector.errors import IncompleteRequest
from collector.events import CapturedRequest, DivolteEvent
from collector.protocol import identifiers
from collector.protocol.forwarded import java_host_string, peer_from_forwarded_for
from collector.protocol.query import decode_query

EVENT_SOURCE = "json"

REQUIRED = ("session_id", "event_id", "is_new_party", "is_new_session", "client_timestamp_iso")
OPTIONAL = ("event_type", "parameters")
PROPERTIES = frozenset(REQUIRED + OPTIONAL)

DROP_REASONS = (
    "invalid_party_id",
    "invalid_json",
    "unknown_property",
    "missing_property",
    "invalid_session_id",
    "invalid_property",
    "invalid_client_timestamp",
)
"""Every ``IncompleteRequest.reason`` this module raises, so metrics can create their labels up front."""


def _text(body: dict[str, Any], key: str) -> str | None:
    """A string property with Jackson's coercion of other scalars to text; None when null."""
    value = body.get(key)
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return orjson.dumps(value).decode()
    raise IncompleteRequest("invalid_property", f"'{key}' must be a string")


def _flag(body: dict[str, Any], key: str) -> bool:
    value = body[key]
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    if isinstance(value, int) and value in (0, 1):
        return value == 1
    raise IncompleteRequest("invalid_property", f"'{key}' must be a boolean")


def parse_timestamp_ms(text: str) -> int:
    """Milliseconds since the epoch of an ISO-8601 date-time with an offset (``…Z`` or ``…+02:00``)."""
    if "T" not in text and "t" not in text:
        raise IncompleteRequest("invalid_client_timestamp", "expected a date-time such as 2016-06-01T18:54:16Z")
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as exc:
        raise IncompleteRequest("invalid_client_timestamp", str(exc)) from None
    if moment.tzinfo is None:
        raise IncompleteRequest("invalid_client_timestamp", "the timestamp has no offset (add Z or +hh:mm)")
    delta = moment - datetime.fromtimestamp(0, moment.tzinfo)
    return (delta.days * 86_400 + delta.seconds) * 1000 + delta.microseconds // 1000


def parse_json_event(request: CapturedRequest, *, party_id_parameter: str, use_x_forwarded_for: bool) -> DivolteEvent:
    """Parse a captured JSON-source request; raise ``IncompleteRequest`` if it must be dropped."""
    values = decode_query(request.query).get(party_id_parameter)
    party = identifiers.parse(values[0]) if values else None
    if party is None:
        raise IncompleteRequest("invalid_party_id", f"no valid '{party_id_parameter}' parameter")
    try:
        body = orjson.loads(request.body)
    except orjson.JSONDecodeError as exc:
        raise IncompleteRequest("invalid_json", str(exc)) from None
    if not isinstance(body, dict):
        raise IncompleteRequest("invalid_json", "the body must be a JSON object")
    unknown = set(body) - PROPERTIES
    if unknown:
        raise IncompleteRequest("unknown_property", f"unknown properties {sorted(unknown)}")
    missing = [key for key in REQUIRED if body.get(key) is None]
    if missing:
        raise IncompleteRequest("missing_property", f"missing {missing}")
    session = identifiers.parse(_text(body, "session_id") or "")
    if session is None:
        raise IncompleteRequest("invalid_session_id", "'session_id' is not a Divolte identifier")
    timestamp_text = body["client_timestamp_iso"]
    if not isinstance(timestamp_text, str):
        raise IncompleteRequest("invalid_client_timestamp", "'client_timestamp_iso' must be a string")
    if use_x_forwarded_for:
        remote_host = peer_from_forwarded_for(request.headers, request.peer)
    else:
        remote_host = java_host_string(request.peer)
    return DivolteEvent(
        source=request.source,
        event_source=EVENT_SOURCE,
        party_id=party.value,
        session_id=session.value,
        event_id=_text(body, "event_id") or "",
        page_view_id=None,
        corrupt=False,
        new_party=_flag(body, "is_new_party"),
        first_in_session=_flag(body, "is_new_session"),
        timestamp=request.received_ms,
        client_timestamp=parse_timestamp_ms(timestamp_text),
        remote_host=remote_host,
        headers=request.headers,
        event_type=_text(body, "event_type"),
        parameters=body.get("parameters"),
    )
