"""Turn a captured JSON-source request into a ``DivolteEvent``, or say why it must be dropped (SPEC §4).

The client already has its 204. The body is read as Divolte's Jackson reads it (``collector.protocol.json_body``:
the first value only, the encoding detected, lenient UTF-8, exact numbers), and must be one JSON object with
exactly Divolte's properties: ``session_id`` (a Divolte identifier), ``event_id``, ``is_new_party``,
``is_new_session`` and ``client_timestamp_iso`` are required; ``event_type`` and ``parameters`` (any JSON) are
optional; any other top-level property drops the event, as Jackson's ``FAIL_ON_UNKNOWN_PROPERTIES`` does.

Jackson's coercions, exactly (Jackson 2.9, checked against it):

- a text property (``session_id``, ``event_id``, ``event_type``, ``client_timestamp_iso``) takes a string, a
  boolean (``"true"``) or a number *as written* (``1.50``, ``1e3``, ``-0`` stay so); ``null`` drops the event
  except for ``event_type`` (absent); an array or object drops it;
- a flag (``is_new_party``, ``is_new_session``) takes a boolean; ``null`` is false; an integer is true unless
  written ``0`` (so ``2``, ``-1``, ``-0`` and huge ones are true); a string is trimmed as Java trims, then
  ``true``/``True`` are true and ``false``/``False``, ``""`` and ``null`` false; anything else (``"TRUE"``,
  ``"1"``, ``1.0``) drops the event;
- ``client_timestamp_iso`` is read as Java's ``ISO_OFFSET_DATE_TIME`` (``collector.protocol.java_time``).

Deliberate difference: a timestamp Java refuses drops that one event; in Divolte it throws on the mapper
thread and loses the rest of that thread's batch (and its duplicate memory).

Speed: ``orjson`` reads the body first; ``json_body`` reads it only where the two could differ: orjson
refuses the body, a run of 19 digits may be an integer orjson would turn into a float, or a text property or
flag is a number, whose text as written is then needed.
"""

from __future__ import annotations

from typing import Any

import orjson

from collector.errors import IncompleteRequest
from collector.events import CapturedRequest, DivolteEvent
from collector.protocol import identifiers
from collector.protocol.forwarded import java_host_string, peer_from_forwarded_for
from collector.protocol.java_time import TimestampError, epoch_millis
from collector.protocol.json_body import JsonBodyError, number_texts, read_first_value
from collector.protocol.query import decode_query

EVENT_SOURCE = "json"

REQUIRED = ("session_id", "event_id", "is_new_party", "is_new_session", "client_timestamp_iso")
OPTIONAL = ("event_type", "parameters")
PROPERTIES = frozenset(REQUIRED + OPTIONAL)
_REQUIRED = frozenset(REQUIRED)
_DIGITS_AS_ZERO = bytes.maketrans(b"123456789", b"000000000")
_LONG_DIGIT_RUN = b"0" * 19
"""orjson reads integers beyond 64 bits as floats; a body with 19 digits in a row may hold one."""
_loads = orjson.loads
_JAVA_TRIM = "".join(chr(code) for code in range(0x21))
"""Java's ``String.trim()`` strips every character up to and including the space."""

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


class NumberTexts:
    """The text, as written, of the body's top-level number-valued properties; read by ``json_body`` only
    when one is asked for (a number where Divolte reads text is rare)."""

    def __init__(self, body: bytes) -> None:
        self._body = body
        self._texts: dict[str, str] | None = None

    def __getitem__(self, key: str) -> str:
        if self._texts is None:
            try:
                self._texts = number_texts(self._body)
            except JsonBodyError as exc:  # not expected: the body was read before
                raise IncompleteRequest("invalid_json", str(exc)) from None
        return self._texts[key]


def read_event_object(body: bytes) -> dict[str, Any]:
    """The body's top-level object, read by orjson where it agrees with Divolte's parser, else as that parser
    reads it (``json_body``)."""
    try:
        value = _loads(body)
        exact = isinstance(value, dict) and _LONG_DIGIT_RUN in body.translate(_DIGITS_AS_ZERO)
    except orjson.JSONDecodeError:
        exact = True
    if exact:
        try:
            value = read_first_value(body)
        except JsonBodyError as exc:
            raise IncompleteRequest("invalid_json", str(exc)) from None
    if not isinstance(value, dict):
        raise IncompleteRequest("invalid_json", "the body must be a JSON object")
    return value


def _text(body: dict[str, Any], key: str, numbers: NumberTexts) -> str | None:
    """A text property as Jackson reads it: other scalars as their text; None when null."""
    value = body.get(key)
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return numbers[key]
    raise IncompleteRequest("invalid_property", f"'{key}' must be a string, a number or a boolean")


def _flag(body: dict[str, Any], key: str, numbers: NumberTexts) -> bool:
    """A flag as Jackson reads a primitive boolean."""
    value = body[key]
    if isinstance(value, bool):
        return value
    if value is None:
        return False
    if isinstance(value, int):
        return numbers[key] != "0"
    if isinstance(value, str):
        text = value.strip(_JAVA_TRIM)
        if text in ("true", "True"):
            return True
        if text in ("false", "False", "", "null"):
            return False
    raise IncompleteRequest(
        "invalid_property", f'\'{key}\' must be true or false (or "true", "false", null or an integer)'
    )


def _required_text(body: dict[str, Any], key: str, numbers: NumberTexts) -> str:
    text = _text(body, key, numbers)
    if text is None:
        raise IncompleteRequest("missing_property", f"'{key}' is null")
    return text


def parse_json_event(request: CapturedRequest, *, party_id_parameter: str, use_x_forwarded_for: bool) -> DivolteEvent:
    """Parse a captured JSON-source request; raise ``IncompleteRequest`` if it must be dropped."""
    values = decode_query(request.query).get(party_id_parameter)
    party = identifiers.parse(values[0]) if values else None
    if party is None:
        raise IncompleteRequest("invalid_party_id", f"no valid '{party_id_parameter}' parameter")
    body = read_event_object(request.body)
    if not PROPERTIES.issuperset(body):
        raise IncompleteRequest("unknown_property", f"unknown properties {sorted(set(body) - PROPERTIES)}")
    if not _REQUIRED.issubset(body):
        raise IncompleteRequest("missing_property", f"missing {[key for key in REQUIRED if key not in body]}")
    get = body.get
    session_text, event_id, timestamp_text, event_type = (
        get("session_id"), get("event_id"), get("client_timestamp_iso"), get("event_type")
    )  # fmt: skip
    new_party, first_in_session = get("is_new_party"), get("is_new_session")
    if not (
        type(session_text) is str and type(event_id) is str and type(timestamp_text) is str
        and (event_type is None or type(event_type) is str)
        and type(new_party) is bool and type(first_in_session) is bool
    ):  # fmt: skip
        # A property that needs one of Jackson's coercions (rare): one combined type test keeps the rest fast.
        numbers = NumberTexts(request.body)
        session_text = _required_text(body, "session_id", numbers)
        event_id = _required_text(body, "event_id", numbers)
        timestamp_text = _required_text(body, "client_timestamp_iso", numbers)
        event_type = _text(body, "event_type", numbers)
        new_party = _flag(body, "is_new_party", numbers)
        first_in_session = _flag(body, "is_new_session", numbers)
    session = identifiers.parse(session_text)
    if session is None:
        raise IncompleteRequest("invalid_session_id", "'session_id' is not a Divolte identifier")
    try:
        client_timestamp = epoch_millis(timestamp_text)
    except TimestampError as exc:
        raise IncompleteRequest("invalid_client_timestamp", str(exc)) from None
    if use_x_forwarded_for:
        remote_host = peer_from_forwarded_for(request.headers, request.peer)
    else:
        remote_host = java_host_string(request.peer)
    return DivolteEvent(
        source=request.source,
        event_source=EVENT_SOURCE,
        party_id=party.value,
        session_id=session.value,
        event_id=event_id,
        page_view_id=None,
        corrupt=False,
        new_party=new_party,
        first_in_session=first_in_session,
        timestamp=request.received_ms,
        client_timestamp=client_timestamp,
        remote_host=remote_host,
        headers=request.headers,
        event_type=event_type,
        parameters=body.get("parameters"),
    )
