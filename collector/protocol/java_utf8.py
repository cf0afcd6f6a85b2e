"""Decode UTF-8 as the JDK's ``new String(bytes, "UTF-8")`` does, malformed input included.

Divolte's HTTP server decodes every run of ``%XX`` escapes with that constructor, which replaces malformed
input with U+FFFD. Python's ``errors="replace"`` finds the same malformed places but, for one class,
replaces a different number of bytes with each U+FFFD: an encoded surrogate (``ED A0 80``…``ED BF BF``) is
one malformed sequence to the JDK (one U+FFFD, or one for ``ED A0``/``ED A0 xx`` cut short) and three single
bytes to Python. Every other class agrees: overlong forms (``C0 80``, ``E0 80 80``, ``F0 80 80 80``),
truncated sequences, lone continuation bytes, code points over U+10FFFF (``F4 90``…) and the bytes ``F5``…``FF``.
This was checked against JDK 17 on every 1- to 4-byte sequence over 27 boundary bytes and 100,000 random
longer ones (``tests/data/divolte-observed.json`` keeps a selection of the JDK's answers).

The decoded text feeds the checksum, so one U+FFFD more or less makes an event corrupt that Divolte accepts.
The replacement runs as a codec error handler: linear in the input however many bytes are malformed (a
query can hold a megabyte of them).
"""

from __future__ import annotations

import codecs

_REPLACEMENT = "\ufffd"
_ERRORS = "divolte-java-replace"


def _replace_as_java(error: UnicodeError) -> tuple[str, int]:
    """One U+FFFD for the malformed sequence at ``error.start``, and where the JDK resumes after it."""
    if not isinstance(error, UnicodeDecodeError):
        raise error
    data = error.object
    start = error.start
    resume = error.end
    if data[start] == 0xED and start + 1 < len(data) and 0xA0 <= data[start + 1] <= 0xBF:
        # A surrogate's first two bytes: the JDK takes the third too when it is a continuation byte.
        resume = start + (3 if start + 2 < len(data) and 0x80 <= data[start + 2] <= 0xBF else 2)
    return _REPLACEMENT, resume


codecs.register_error(_ERRORS, _replace_as_java)


def java_utf8_decode(data: bytes) -> str:
    """``data`` as text, malformed sequences replaced with U+FFFD exactly where and as often as the JDK does."""
    return data.decode("utf-8", _ERRORS)
