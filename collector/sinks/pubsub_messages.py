"""Pub/Sub messages exactly as Divolte publishes them (SPEC §9.5), and their grouping into publish requests.

Pure functions, no I/O. Message data = the record's plain Avro binary encoding (no framing). Attributes:

- ``schemaFingerprint``: SHA-256 over the schema's Avro *Parsing Canonical Form*, base64url without padding
  (the default schema's is ``zfEZRrGHh1PcoqLiFMzy8LVVg46vbqHfkSsbEN-yZnY``);
- ``partyIdentifier``, ``eventIdentifier``: the event's party and event ids;
- ``timestamp``: the server's receive time in Java's ``ISO_INSTANT`` form (``2016-08-24T13:29:39.412Z``; the
  fraction only when not zero; ours has millisecond resolution, so it has three digits or none);
- ``schemaConfluentId``: ``"0x"`` + the mapping's ``confluent_id`` in lowercase hex, only when it is set.

No ordering key, as Divolte: Pub/Sub may deliver a party's messages out of order (a consumer that needs order
sorts by ``timestamp``), and publishing stays spread over Pub/Sub's servers.
"""

from __future__ import annotations

import base64
import hashlib
import json
import time
from collections.abc import Iterator, Sequence
from typing import Any

from fastavro.schema import to_parsing_canonical_form

from collector.events import EncodedRecord

MAX_REQUEST_MESSAGES = 1000
MAX_REQUEST_BYTES = 9 * 1024 * 1024
"""Pub/Sub's own limits per publish request (1,000 messages, 10 MB), whatever ``batching_settings`` say."""


def schema_fingerprint(schema_json: str) -> str:
    """``schemaFingerprint``: base64url (no padding) of SHA-256 over the Parsing Canonical Form."""
    canonical = to_parsing_canonical_form(json.loads(schema_json))
    digest = hashlib.sha256(canonical.encode("utf-8")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def confluent_attribute(confluent_id: int) -> str:
    """``schemaConfluentId``: Divolte writes ``"0x" + Integer.toHexString(id)``."""
    return f"0x{confluent_id & 0xFFFFFFFF:x}"


class InstantFormatter:
    """Java's ``DateTimeFormatter.ISO_INSTANT`` for millisecond timestamps, remembering the last second's text
    (a batch's records mostly share it)."""

    __slots__ = ("_second", "_text")

    def __init__(self) -> None:
        self._second: int | None = None
        self._text = ""

    def __call__(self, millis: int) -> str:
        second, fraction = divmod(millis, 1000)
        if second != self._second:
            self._second = second
            self._text = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
        return f"{self._text}.{fraction:03d}Z" if fraction else f"{self._text}Z"


class MessageBuilder:
    """Builds the protobuf ``PubsubMessage`` of each record for one sink (its schema and confluent id are fixed)."""

    def __init__(self, message_type: Any, fingerprint: str, confluent_id: int | None) -> None:
        self._message = message_type
        self._fixed = {"schemaFingerprint": fingerprint}
        if confluent_id is not None:
            self._fixed["schemaConfluentId"] = confluent_attribute(confluent_id)
        self._instant = InstantFormatter()

    def attributes(self, record: EncodedRecord) -> dict[str, str]:
        return {
            **self._fixed,
            "partyIdentifier": record.party_id,
            "eventIdentifier": record.event_id,
            "timestamp": self._instant(record.timestamp),
        }

    def __call__(self, record: EncodedRecord) -> Any:
        return self._message(data=record.payload, attributes=self.attributes(record))


def requests(
    records: Sequence[EncodedRecord], indices: Sequence[int], count_threshold: int, bytes_threshold: int
) -> Iterator[list[int]]:
    """Record indices grouped into publish requests as the Java publisher batches: a request is closed before a
    message that would take its data to ``bytes_threshold`` bytes, and once it holds ``count_threshold``
    messages or that many bytes (every request has at least one message), within Pub/Sub's own limits."""
    count_limit = max(1, min(count_threshold, MAX_REQUEST_MESSAGES))
    bytes_limit = max(1, min(bytes_threshold, MAX_REQUEST_BYTES))
    group: list[int] = []
    size = 0
    for index in indices:
        length = len(records[index].payload)
        if group and size + length >= bytes_limit:
            yield group
            group, size = [], 0
        group.append(index)
        size += length
        if len(group) >= count_limit or size >= bytes_limit:
            yield group
            group, size = [], 0
    if group:
        yield group
