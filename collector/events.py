"""The records that travel through the pipeline: a captured HTTP request, and the event parsed from it.

A ``CapturedRequest`` is what the HTTP handler keeps before it answers: raw bytes only, no parsing, so the
reply is never delayed by the event's contents. Everything else happens later, in batches.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

Headers = tuple[tuple[bytes, bytes], ...]
"""Request headers as the ASGI server gives them: lower-cased names, raw values, in arrival order."""


@dataclass(slots=True)
class CapturedRequest:
    """An accepted request, copied as raw as possible on the request path.

    Not ``frozen``, though nothing changes it after the handler made it: a frozen dataclass sets each field
    through ``object.__setattr__``, which made building it cost four times as much, on the reply path.
    """

    source: str
    """Name of the configured source that accepted it (``divolte.sources.<name>``)."""
    query: bytes
    """The raw query string, without the ``?``."""
    headers: Headers
    peer: str
    """The TCP peer address as the server saw it (no X-Forwarded-For applied yet)."""
    received_ms: int
    """Server receive time, milliseconds since the epoch: the record's ``timestamp``."""
    body: bytes = b""
    """The request body (JSON source only)."""


@dataclass(slots=True)
class DivolteEvent:
    """One parsed event, browser or JSON, ready for duplicate detection and mapping.

    Field names follow Divolte's mapping vocabulary (``partyId()`` → ``party_id``). ``None`` means
    absent: a mapping of an absent value leaves the record field untouched.
    """

    source: str
    event_source: str
    """``"browser"`` or ``"json"``."""
    party_id: str
    session_id: str
    event_id: str
    page_view_id: str | None
    corrupt: bool
    new_party: bool
    first_in_session: bool
    timestamp: int
    client_timestamp: int
    remote_host: str
    headers: Headers
    location: str | None = None
    referer: str | None = None
    viewport_pixel_width: int | None = None
    viewport_pixel_height: int | None = None
    screen_pixel_width: int | None = None
    screen_pixel_height: int | None = None
    device_pixel_ratio: int | None = None
    event_type: str | None = None
    raw_parameters: str | None = None
    """Browser events: the mincode text of ``u``, decoded only if a mapping asks for it."""
    parameters: Any = None
    """JSON events: the ``parameters`` value as parsed JSON."""
    duplicate: bool = False
    """Set by the duplicate memory before mapping."""
    geo_address: str | None = None
    """The full client address for ``ip2geo()`` when ``remote_host`` was anonymised (privacy settings)."""
    memo: dict[str, Any] = field(default_factory=dict)
    """Per-event memo of expensive derived values (user agent, decoded parameters, …)."""


@dataclass(frozen=True, slots=True)
class EncodedRecord:
    """A mapped record, Avro-encoded once, on its way to the sinks of its mapping."""

    party_id: str
    timestamp: int
    payload: bytes
    """The plain Avro binary encoding of the record (no framing)."""
    event_id: str = ""
    """The event's id: the Pub/Sub sink's ``eventIdentifier`` attribute (other sinks do not need it)."""
