"""Parse and render base-36 numbers exactly as Java's ``Long``, ``Integer`` and ``BigInteger`` do.

divolte.js sends every number as ``Number.toString(36)`` and Divolte parses them with
``Long.parseLong(s, 36)``, ``Integer.valueOf(s, 36)`` and ``new BigInteger(s, 36)``. Python's ``int(s, 36)``
is close but not the same: it accepts underscores and surrounding whitespace, which Java rejects, and it
has no range limit. These functions apply Java's rules so that the same query yields the same event.

Java's digit test is ``Character.digit(ch, 36)``, which accepts more than ``0-9a-zA-Z``: any Unicode decimal
digit of the Basic Multilingual Plane (``"١٦"`` is 42) and the full-width Latin letters (U+FF21–FF3A,
U+FF41–FF5A). Java looks at UTF-16 code units, so a digit outside the BMP (a surrogate pair) is rejected.
The non-ASCII path below reproduces that; browsers never send such digits, so it is only about parsing a
hostile or odd query the way Divolte would.
"""

from __future__ import annotations

import unicodedata

LONG_MIN = -(1 << 63)
LONG_MAX = (1 << 63) - 1
INT_MIN = -(1 << 31)
INT_MAX = (1 << 31) - 1

_DIGITS = "0123456789abcdefghijklmnopqrstuvwxyz"
_FULLWIDTH_UPPER_A = 0xFF21
_FULLWIDTH_LOWER_A = 0xFF41
_CHUNK = 4000
"""Digits per ``int()`` call; Python refuses to convert more than 4300 at once."""
_SHORT = 13
"""Significant base-36 digits of the longest 64-bit value (``1y2p0ij32e8e7``)."""


def _java_digit(ch: str) -> str | None:
    """Return the ASCII digit for one non-ASCII character that ``Character.digit(ch, 36)`` accepts."""
    code = ord(ch)
    if code > 0xFFFF:
        return None
    if _FULLWIDTH_UPPER_A <= code < _FULLWIDTH_UPPER_A + 26:
        return _DIGITS[10 + code - _FULLWIDTH_UPPER_A]
    if _FULLWIDTH_LOWER_A <= code < _FULLWIDTH_LOWER_A + 26:
        return _DIGITS[10 + code - _FULLWIDTH_LOWER_A]
    value = unicodedata.decimal(ch, -1)
    return _DIGITS[value] if value >= 0 else None


def _ascii_digits(body: str) -> str | None:
    """Translate the digits of ``body`` (no sign) to ASCII, or ``None`` if one is not a Java digit."""
    if body.isascii():
        # For an ASCII string, isalnum() is exactly [0-9A-Za-z]: no '_', no whitespace, no sign.
        return body if body.isalnum() else None
    out = []
    for ch in body:
        if ch.isascii():
            if not ch.isalnum():
                return None
            out.append(ch)
        else:
            digit = _java_digit(ch)
            if digit is None:
                return None
            out.append(digit)
    return "".join(out)


def parse_bigint36(s: str) -> int | None:
    """Parse ``s`` like ``new BigInteger(s, 36)``: one optional sign, at least one digit, any size."""
    negative = False
    body = s
    if s[:1] in ("+", "-"):
        negative = s[0] == "-"
        body = s[1:]
    if not body:
        return None
    digits = _ascii_digits(body)
    if digits is None:
        return None
    value = _int36(digits)
    return -value if negative else value


def _int36(digits: str) -> int:
    """Convert validated ASCII base-36 digits of any length.

    Python refuses ``int(s, 36)`` for strings over 4300 characters (a guard against quadratic conversion);
    Java has no such limit, so long inputs are converted in chunks. Only hostile input is ever that long.
    """
    if len(digits) <= _CHUNK:
        return int(digits, 36)
    value = 0
    for start in range(0, len(digits), _CHUNK):
        chunk = digits[start : start + _CHUNK]
        value = value * 36 ** len(chunk) + int(chunk, 36)
    return value


def _parse_bounded(s: str, low: int, high: int) -> int | None:
    """Parse a signed base-36 number that must lie in ``[low, high]``; ``None`` if invalid or out of range."""
    if len(s) <= _SHORT and s.isascii() and s.isalnum():
        # The common case (an unsigned ASCII number such as a screen size) in one int() call.
        number = int(s, 36)
        return number if low <= number <= high else None
    body = s[1:] if s[:1] in ("+", "-") else s
    if len(body) > _SHORT and body.isascii() and len(body.lstrip("0")) > _SHORT:
        # More significant digits than any 64-bit value has: out of range (or invalid) either way, so
        # answer without converting what may be a huge hostile string.
        return None
    value = parse_bigint36(s)
    if value is None or not low <= value <= high:
        return None
    return value


def parse_long36(s: str) -> int | None:
    """Parse ``s`` like ``Long.parseLong(s, 36)``; ``None`` where Java throws ``NumberFormatException``."""
    return _parse_bounded(s, LONG_MIN, LONG_MAX)


def parse_int36(s: str) -> int | None:
    """Parse ``s`` like ``Integer.valueOf(s, 36)``; ``None`` where Java throws ``NumberFormatException``."""
    return _parse_bounded(s, INT_MIN, INT_MAX)


def to_base36(n: int) -> str:
    """Render ``n`` like ``Long.toString(n, 36)``: lower-case digits, a leading ``-`` for negatives."""
    if n == 0:
        return "0"
    magnitude = -n if n < 0 else n
    out = []
    while magnitude:
        magnitude, digit = divmod(magnitude, 36)
        out.append(_DIGITS[digit])
    if n < 0:
        out.append("-")
    return "".join(reversed(out))
