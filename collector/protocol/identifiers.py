"""Parse, normalise and generate Divolte identifiers (party, session): ``0:<base-36 ms timestamp>:<id>``.

The parsed identifier is always re-rendered (``0:I1T84HGY:abc`` → ``0:i1t84hgy:abc``, ``0:+16:x`` →
``0:16:x``) because Divolte stores, hashes and keys Kafka records by that normalised value; two spellings
of one identifier must land on the same partition and in the same duplicate-memory slot.
"""

from __future__ import annotations

import base64
import secrets
from dataclasses import dataclass

import mmh3

from collector.protocol.base36 import parse_long36, to_base36

_VERSION = "0"
_RANDOM_BYTES = 24
"""24 random bytes are exactly 32 URL-safe Base64 characters, with no padding."""


@dataclass(frozen=True, slots=True)
class DivolteIdentifier:
    """A version-0 identifier: creation time (ms since the epoch) and an opaque id without ``:``."""

    timestamp: int
    id: str

    @property
    def value(self) -> str:
        """The normalised text form, ``0:<lower-case base-36 timestamp>:<id>``."""
        return f"{_VERSION}:{to_base36(self.timestamp)}:{self.id}"


def parse(text: str) -> DivolteIdentifier | None:
    """Parse ``text`` like Divolte's ``DivolteIdentifier.tryParse``; ``None`` if it is not an identifier.

    Valid iff it has exactly three ``:``-separated parts, the first is ``0`` and the second is a base-36
    long (sign allowed, any case). The id may be empty.
    """
    parts = text.split(":", 3)
    if len(parts) != 3 or parts[0] != _VERSION:
        return None
    timestamp = parse_long36(parts[1])
    if timestamp is None:
        return None
    return DivolteIdentifier(timestamp, parts[2])


def _is_canonical(timestamp_text: str) -> bool:
    """Whether a timestamp part that parsed as a long is already how ``Long.toString(ts, 36)`` writes it."""
    body = timestamp_text[1:] if timestamp_text[0] == "-" else timestamp_text
    return (
        body.isascii()
        and timestamp_text[0] != "+"
        and timestamp_text == timestamp_text.lower()
        and (body[0] != "0" or timestamp_text == "0")
    )


def normalise(text: str) -> str | None:
    """Return ``parse(text).value``, or ``None`` if ``text`` is not an identifier.

    The per-event path: identifiers sent by divolte.js are already normal, and then ``text`` itself is
    returned without rendering the timestamp again.
    """
    parts = text.split(":", 3)
    if len(parts) != 3 or parts[0] != _VERSION:
        return None
    timestamp = parse_long36(parts[1])
    if timestamp is None:
        return None
    if _is_canonical(parts[1]):
        return text
    return DivolteIdentifier(timestamp, parts[2]).value


def generate(timestamp_ms: int) -> DivolteIdentifier:
    """Make a new identifier for ``timestamp_ms`` with a 32-character random id, as Divolte's server does."""
    random_id = base64.urlsafe_b64encode(secrets.token_bytes(_RANDOM_BYTES)).decode("ascii")
    return DivolteIdentifier(timestamp_ms, random_id)


_AFFINITY_SEED = 42


def affinity_hash(party_id: str) -> int:
    """Return Divolte's non-negative routing hash of a party id (murmur3_32, seed 42, over UTF-8).

    Divolte picks the mapper thread as ``affinity_hash(party) % threads``; we use it the same way so that
    one party's events stay in order on one worker.
    """
    value: int = mmh3.hash(party_id.encode("utf-8", "surrogatepass"), _AFFINITY_SEED, signed=True)
    return value & 0x7FFFFFFF
