"""Decode a raw query string into parameters, the way Undertow decodes it for Divolte.

Undertow treats the query as ``application/x-www-form-urlencoded`` UTF-8: split on ``&``, split each item
at its first ``=``, ``+`` becomes a space, ``%XX`` escapes are decoded to bytes and the bytes to text. An item
without ``=`` has the value ``""``; empty items (``a=1&&b=2``) are skipped; a repeated key keeps every value
in arrival order (only the checksum reads more than the first).

Undertow refuses a request whose query has a malformed escape (``%zz``, a ``%`` without two hex digits
after it) or too many ``&`` separators: Divolte answers 400 and records nothing. ``refusal`` tells the
endpoint so before it answers; ``decode_query`` raises ``IncompleteRequest`` for the same queries, so
nothing that reaches the pipeline another way is decoded differently.

This runs once per event, so it is written for speed (see ``benchmarks/micro_query.py``):

* the query is turned into text once with Latin-1, which maps each byte to one character at C speed, and
  split once; a per-item ``bytes.decode("utf-8")`` cost more than the whole rest of the work;
* every key and value that needs unescaping is unescaped in one C call: they are joined with NUL (which
  cannot occur in a request line), ``%XX`` becomes ``\\xXX`` and the ``unicode_escape`` codec turns each into
  the Latin-1 character of its byte, or fails on a malformed escape. That is ~2× faster than splitting every
  component on ``%`` in Python (the form still used when the query holds a NUL, ``%00`` or a backslash,
  which would confuse it, or a raw byte ≥ 0x80, which Undertow reads in its own way: ``_raw_bytes_first``);
* a component's bytes are then recovered exactly with ``encode("latin-1")`` and decoded as UTF-8 only
  when it holds a non-ASCII character (an escaped or a raw byte ≥ 0x80), malformed sequences replaced as the
  JDK replaces them (``collector.protocol.java_utf8``);
* ``urllib.parse`` is not used: it unescapes every component and silently keeps malformed escapes.
"""

from __future__ import annotations

import re

from collector.errors import IncompleteRequest
from collector.protocol.java_utf8 import java_utf8_decode

MAX_PARAMETERS = 1000
"""Undertow's default ``UndertowOptions.MAX_PARAMETERS``."""
MAX_SEPARATORS = MAX_PARAMETERS + 1
"""The most ``&`` a query may hold. Undertow's parser checks ``count++ > MAX_PARAMETERS`` at each ``&`` (empty
items included), so it refuses the query at its 1,002nd ``&``. (Its count also restarts with each 16 KiB
read buffer, so Divolte lets some longer queries through; we count over the whole query.)"""

find_malformed_escape = re.compile(rb"%(?![0-9A-Fa-f]{2})").search
"""The first ``%`` not followed by two hex digits, as a match, else ``None`` (one C-level scan)."""

_HEX = "0123456789abcdefABCDEF"
_ESCAPES: dict[str, str] = {hi + lo: chr(int(hi + lo, 16)) for hi in _HEX for lo in _HEX}
"""Every two-character hex pair (any case mix) → the Latin-1 character of its byte; absent = malformed."""


def _from_bytes(text: str) -> str:
    """Re-read a Latin-1 view of bytes as UTF-8; malformed sequences become U+FFFD, as Java's decoder does."""
    return java_utf8_decode(text.encode("latin-1"))


def refusal(query: bytes) -> str | None:
    """Why Divolte's server refuses ``query`` with 400 (``malformed_query``, ``too_many_parameters``), or None.

    The pixel endpoint makes the same two checks inline (it runs for every event): one regular-expression
    scan, and a count of ``&`` only in a query long enough to hold too many.
    """
    if find_malformed_escape(query) is not None:
        return "malformed_query"
    if len(query) > MAX_SEPARATORS and query.count(b"&") > MAX_SEPARATORS:
        return "too_many_parameters"
    return None


def _raw_bytes_first(raw: str) -> str | None:
    """Undertow's reading of a component whose raw byte ≥ 0x80 comes before its first ``%``, else ``None``.

    Undertow decodes left to right: met before any ``+``, such a byte makes it re-read the whole component
    as UTF-8 with nothing decoded (``é+%41`` stays ``é+%41``); met after a ``+``, bytes up to the first
    ``%`` are kept one character each (ISO-8859-1). From the first ``%`` on, all is read as usual. Browsers
    escape such bytes, so only hand-made requests get here.
    """
    for index, char in enumerate(raw):
        if char == "%":
            return None
        if char > "\x7f":
            if "+" not in raw[:index]:
                return _from_bytes(raw)
            percent = raw.find("%", index)
            if percent < 0:
                return raw.replace("+", " ")
            return raw[:percent].replace("+", " ") + _unescape(raw[percent:])
    return None


def _unescape(raw: str) -> str:
    """Decode one form-encoded key or value given as a Latin-1 view of its bytes."""
    if not raw.isascii():
        undertow = _raw_bytes_first(raw)
        if undertow is not None:
            return undertow
    if "+" in raw:
        raw = raw.replace("+", " ")
    if "%" not in raw:
        return raw if raw.isascii() else _from_bytes(raw)
    chunks = raw.split("%")
    out = [chunks[0]]
    escapes = _ESCAPES
    for chunk in chunks[1:]:
        byte = escapes.get(chunk[:2])
        if byte is None:
            raise IncompleteRequest("malformed_query", f"bad percent escape %{chunk[:2]}")
        out.append(byte + chunk[2:])
    decoded = "".join(out)
    return decoded if decoded.isascii() else _from_bytes(decoded)


def _unescape_joined(components: list[str]) -> list[str]:
    """Unescape every component at once (see the module docstring); the caller ruled out NUL, ``%00``, ``\\``."""
    joined = "\x00".join(components)
    if "+" in joined:
        joined = joined.replace("+", " ")
    try:
        joined = joined.replace("%", "\\x").encode("latin-1").decode("unicode_escape")
    except UnicodeDecodeError:
        raise IncompleteRequest("malformed_query", "bad percent escape") from None
    decoded = joined.split("\x00")
    if joined.isascii():
        return decoded
    return [part if part.isascii() else _from_bytes(part) for part in decoded]


def decode_query(query: bytes) -> dict[str, list[str]]:
    """Decode a raw query string into ``{key: [values in arrival order]}``.

    Raises ``IncompleteRequest("malformed_query")`` for a bad ``%`` escape and
    ``IncompleteRequest("too_many_parameters")`` beyond ``MAX_SEPARATORS`` ``&`` separators.
    """
    text = query.decode("latin-1")
    items = text.split("&")
    if len(items) > MAX_SEPARATORS + 1:
        raise IncompleteRequest("too_many_parameters", f"more than {MAX_SEPARATORS} '&' separators")
    components: list[str] = []  # key, value, key, value, …
    append = components.append
    for item in items:
        if item:
            key, _, value = item.partition("=")
            append(key)
            append(value)
    if "%" in text or "+" in text:
        if "\x00" in text or "%00" in text or "\\" in text or not text.isascii():
            components = [_unescape(component) for component in components]
        else:
            components = _unescape_joined(components)
    elif not text.isascii():
        components = [part if part.isascii() else _from_bytes(part) for part in components]
    params: dict[str, list[str]] = {}
    pairs = iter(components)
    for key, value in zip(pairs, pairs, strict=True):
        values = params.get(key)
        if values is None:
            params[key] = [value]
        else:
            values.append(value)
    return params
