"""Verify the checksum divolte.js puts in ``x``, which tells intact events from truncated or rewritten ones.

The client hashes a canonical string of every parameter it sends except ``x`` (murmur3_32, seed 0, over
UTF-8) and sends the signed result in base 36. The server rebuilds the same string from the decoded query,
so any parameter a proxy dropped, added or altered makes the event ``corrupt``. It guards against
accidents, not against tampering: anyone can compute it.

Deliberate difference from Divolte: Divolte hashes with Guava 29's ``murmur3_32``, which mishandles
characters outside the Basic Multilingual Plane (emoji), so it flags every such event as corrupt although
divolte.js computed the checksum correctly. We hash the real UTF-8 bytes and accept those events.
"""

from __future__ import annotations

import mmh3

from collector.protocol.base36 import parse_long36

CHECKSUM_PARAMETER = "x"


def _java_order(key: str) -> bytes:
    """Sort key for Java's ``String.compareTo``: UTF-16 code units compared as unsigned numbers."""
    return key.encode("utf-16-be", "surrogatepass")


def canonical_string(params: dict[str, list[str]]) -> str:
    """Build the string the checksum covers: ``k=v1,v2,;`` per key except ``x``, keys in Java order.

    Java sorts keys by UTF-16 code unit, Python by code point; the two differ only when a key holds a
    character outside the BMP, so plain ``sorted`` is used whenever every key is ASCII (always, in practice).
    One join and one f-string per key: this runs for every event.
    """
    keys = sorted(params)
    if not "".join(keys).isascii():
        keys.sort(key=_java_order)
    return "".join([f"{key}={','.join(params[key])},;" for key in keys if key != CHECKSUM_PARAMETER])


def murmur3_32_signed(data: bytes, seed: int = 0) -> int:
    """Return murmur3_x86_32 of ``data`` as a signed 32-bit int, like Guava's ``HashCode.asInt()``."""
    result: int = mmh3.hash(data, seed, signed=True)
    return result


def is_checksum_correct(params: dict[str, list[str]]) -> bool:
    """Return whether the first ``x`` value, as a base-36 long, equals the hash of the canonical string.

    A missing ``x``, an empty one, or one that is not a base-36 long means the event is corrupt.
    """
    sent = params.get(CHECKSUM_PARAMETER)
    if not sent:
        return False
    expected = parse_long36(sent[0])
    if expected is None:
        return False
    data = canonical_string(params).encode("utf-8", "surrogatepass")
    return murmur3_32_signed(data) == expected
