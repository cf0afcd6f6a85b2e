"""Read a JSON source body as Divolte's JSON parser (Jackson 2.9, ``ObjectMapper.readValue``) reads it.

What Jackson does differently from a strict JSON parser, and what follows here:

- **The first value only.** Nothing after the first complete value is read (``{…} x``, ``{…}{…}``,
  ``{…}null`` and even undecodable bytes there are ignored).
- **The encoding is detected from the first bytes** (Jackson's ``ByteSourceJsonBootstrapper``): a UTF-8,
  UTF-16 or UTF-32 byte-order mark is skipped; without one, zero bytes among the first four tell UTF-32 or
  UTF-16 and their byte order; the two unusual UCS-4 byte orders are refused; else UTF-8. UTF-16 is decoded
  as Java's decoder does (U+FFFD for a lone low surrogate, for a high one together with the unit after it,
  and for an odd last byte); UTF-32 refuses a code unit above U+10FFFF anywhere in the body (Jackson
  converts characters ahead of its parser, 4,000 at a time: the whole of a body up to 16,000 bytes) and keeps
  surrogate units as they are.
- **UTF-8 inside strings is decoded leniently.** A lead byte takes its continuation bytes whatever they
  spell: encoded surrogates (``ED A0 80``), overlong forms (``C0 80`` is U+0000) and values above U+10FFFF
  are decoded with Jackson's arithmetic; only a byte that cannot start a sequence (``80``–``BF``,
  ``F8``–``FF``) or a missing continuation byte refuses the body.
- **Java strings hold UTF-16 code units**, so ``"\\ud800"`` and the lenient decoding above may leave
  unpaired surrogates; Divolte's Avro writer encodes each of them as ``?``. Here every string (values and
  keys) gets that Java form at once: paired surrogates become their character, unpaired ones ``?``.
- **Numbers**: integers of any size stay exact, ``1e400`` is infinity (a double, as Jackson's), and the
  text of each number that is a direct member of the top-level object is kept as written, for the
  properties Divolte reads as text (``event_type: 1.50`` is recorded ``1.50``).
- **No nesting limit** (Jackson 2.9 has none; its recursion ends in a stack overflow some thousands of
  levels deep): the parser here is iterative, so any depth that fits in the body is read.

Only space, tab, CR and LF are whitespace; control characters inside strings, leading zeros, ``NaN``,
comments, single quotes and trailing commas are refused, as by Jackson's defaults.

The JSON source tries ``orjson`` first and comes here only for bodies where the two could differ
(``collector.protocol.json_event``). Here the standard library's C scanner reads what it reads as Jackson
does (valid UTF-8 or UTF-16/32 text without surrogates, nesting under Python's recursion limit); the rest
goes to the careful reader below, written in Python.
"""

from __future__ import annotations

import codecs
import json
import re
import struct
from decimal import Decimal
from typing import Any

_JAVA_QUESTION_MARK = "collector.java-unpaired-surrogate"


def _question_mark(error: UnicodeError) -> tuple[str, int]:
    """What Java's UTF-8 encoder writes for an unpaired surrogate: one ``?``."""
    assert isinstance(error, UnicodeDecodeError)  # registered for the one decode in java_string
    return "?", error.end


codecs.register_error(_JAVA_QUESTION_MARK, _question_mark)

_JAVA_UTF16_REPLACEMENT = "collector.java-utf16-replacement"


def _java_utf16_replacement(error: UnicodeError) -> tuple[str, int]:
    """Java's UTF-16 decoder replaces a high surrogate *and the unit after it* (when that is no low surrogate)
    with one U+FFFD; Python's replaces the high surrogate alone."""
    assert isinstance(error, UnicodeDecodeError)
    data, start = error.object, error.start
    unit = data[start : start + 2]
    first = int.from_bytes(unit, "big" if error.encoding.endswith("be") else "little") if len(unit) == 2 else 0
    if 0xD800 <= first <= 0xDBFF and len(data) - start >= 4:
        return "\ufffd", start + 4
    return "\ufffd", error.end


codecs.register_error(_JAVA_UTF16_REPLACEMENT, _java_utf16_replacement)

_SURROGATE = re.compile("[\ud800-\udfff]")
_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?")
_RAW_RUN = re.compile(r'[^"\\\x00-\x1f]*')
_WHITESPACE = re.compile(r"[ \t\r\n]*")
_ESCAPES = {'"': '"', "\\": "\\", "/": "/", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t"}
_LITERALS = {"t": ("true", True), "f": ("false", False), "n": ("null", None)}
_MAX_INT_DIGITS = 4000
"""Longer integers are converted through ``Decimal`` (Python limits ``int(str)`` to 4,300 digits)."""


class JsonBodyError(ValueError):
    """The body is not one Divolte's parser reads; the message says where and why."""


def java_string(text: str) -> str:
    """``text`` as Divolte writes a Java string: surrogate pairs joined, unpaired surrogates ``?``."""
    if _SURROGATE.search(text) is None:
        return text
    return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", _JAVA_QUESTION_MARK)


# -- bytes to text ---------------------------------------------------------------------------------------------


def _detect(body: bytes) -> tuple[str, int]:
    """The encoding Jackson reads ``body`` in and the length of its byte-order mark."""
    if len(body) >= 4:
        quad = int.from_bytes(body[:4], "big")
        if quad == 0x0000FEFF:
            return "utf-32-be", 4
        if quad == 0xFFFE0000:
            return "utf-32-le", 4
        if quad in (0x0000FFFE, 0xFEFF0000):
            raise JsonBodyError("UCS-4 in an unusual byte order (2143 or 3412); Jackson refuses it")
        if quad >> 16 == 0xFEFF:
            return "utf-16-be", 2
        if quad >> 16 == 0xFFFE:
            return "utf-16-le", 2
        if quad >> 8 == 0xEFBBBF:
            return "utf-8", 3
        if quad >> 8 == 0:
            return "utf-32-be", 0
        if quad & 0x00FFFFFF == 0:
            return "utf-32-le", 0
        if quad & 0xFF00FFFF == 0 or quad & 0xFFFF00FF == 0:
            raise JsonBodyError("UCS-4 in an unusual byte order (2143 or 3412); Jackson refuses it")
    if len(body) >= 2:
        if body[0] == 0:
            return "utf-16-be", 0
        if body[1] == 0:
            return "utf-16-le", 0
    return "utf-8", 0


def _utf32(data: bytes, byte_order: str) -> str:
    count = len(data) // 4  # a partial unit at the end is never reached by a complete first value
    units = struct.unpack(f"{byte_order}{count}I", data[: count * 4])
    for index, unit in enumerate(units):
        if unit > 0x10FFFF:
            raise JsonBodyError(f"invalid UTF-32 character 0x{unit:x} (above 0x10ffff) at character {index}")
    return "".join(map(chr, units))


def _utf8_lenient(raw: bytes) -> str:
    """Decode the bytes of one string as Jackson's UTF-8 parser does (see the module docstring)."""
    try:
        return raw.decode("utf-8", "surrogatepass")  # agrees with Jackson wherever it succeeds
    except UnicodeDecodeError:
        pass
    units: list[int] = []
    position, end = 0, len(raw)
    while position < end:
        lead = raw[position]
        position += 1
        if lead < 0x80:
            units.append(lead)
            continue
        if lead & 0xE0 == 0xC0:
            needed, value = 1, lead & 0x1F
        elif lead & 0xF0 == 0xE0:
            needed, value = 2, lead & 0x0F
        elif lead & 0xF8 == 0xF0:
            needed, value = 3, lead & 0x07
        else:
            raise JsonBodyError(f"invalid UTF-8 start byte 0x{lead:02x}")
        for _ in range(needed):
            following = raw[position] if position < end else None
            if following is None or following & 0xC0 != 0x80:
                raise JsonBodyError("invalid UTF-8 middle byte" if following is not None else "truncated UTF-8")
            value = (value << 6) | (following & 0x3F)
            position += 1
        if needed == 3:
            # Jackson's arithmetic, sign and all: F0 80 80 80 gives U+FFC0 U+DC00.
            value -= 0x10000
            units += [(0xD800 | (value >> 10)) & 0xFFFF, 0xDC00 | (value & 0x3FF)]
        else:
            units.append(value)
    return struct.pack(f"<{len(units)}H", *units).decode("utf-16-le", "surrogatepass")


def _text(body: bytes) -> tuple[str, bool]:
    """The body as text to tokenize, and whether its strings still hold UTF-8 bytes (one char per byte)."""
    encoding, skip = _detect(body)
    data = body[skip:]
    if encoding == "utf-8":
        return data.decode("latin-1"), True
    if encoding.startswith("utf-16"):
        return data.decode(encoding, _JAVA_UTF16_REPLACEMENT), False
    return _utf32(data, ">" if encoding == "utf-32-be" else "<"), False


# -- the parser ------------------------------------------------------------------------------------------------


class _Reader:
    """An iterative reader of one JSON value from ``text``; ``utf8`` says strings hold raw UTF-8 bytes."""

    def __init__(self, text: str, utf8: bool) -> None:
        self.text = text
        self.utf8 = utf8
        self.position = 0

    def fail(self, what: str) -> JsonBodyError:
        found = repr(self.text[self.position]) if self.position < len(self.text) else "the end of the body"
        return JsonBodyError(f"{what} at character {self.position}, found {found}")

    def skip_whitespace(self) -> str:
        match = _WHITESPACE.match(self.text, self.position)
        self.position = match.end() if match else self.position
        return self.text[self.position] if self.position < len(self.text) else ""

    def string(self) -> str:
        """The string whose opening quote is at the current position."""
        text, position = self.text, self.position + 1
        pieces: list[str] = []
        while True:
            match = _RAW_RUN.match(text, position)
            end = match.end() if match else position
            if end > position:
                run = text[position:end]
                pieces.append(_utf8_lenient(run.encode("latin-1")) if self.utf8 else run)
            position = end
            char = text[position] if position < len(text) else ""
            if char == '"':
                self.position = position + 1
                return java_string("".join(pieces))
            if char != "\\":
                self.position = position
                raise self.fail("unterminated string or unescaped control character")
            escape = text[position + 1 : position + 2]
            if escape == "u":
                digits = text[position + 2 : position + 6]
                if len(digits) != 4 or not all(d in "0123456789abcdefABCDEF" for d in digits):
                    self.position = position
                    raise self.fail("a \\u escape needs four hex digits")
                pieces.append(chr(int(digits, 16)))
                position += 6
            elif escape in _ESCAPES:
                pieces.append(_ESCAPES[escape])
                position += 2
            else:
                self.position = position
                raise self.fail("unrecognised character escape")

    def scalar(self) -> tuple[Any, str | None]:
        """A number, literal or string at the current position, and the number's text as written."""
        char = self.text[self.position] if self.position < len(self.text) else ""
        if char == '"':
            return self.string(), None
        if char in _LITERALS:
            word, value = _LITERALS[char]
            if self.text.startswith(word, self.position):
                self.position += len(word)
                return value, None
            raise self.fail("unrecognised token")
        match = _NUMBER.match(self.text, self.position)
        if match is None:
            raise self.fail("expected a value")
        self.position = match.end()
        written = match.group()
        if any(c in written for c in ".eE"):
            return float(written), written
        if len(written) > _MAX_INT_DIGITS:
            return int(Decimal(written)), written
        return int(written), written

    def value(self) -> tuple[Any, dict[str, str]]:
        """The value at the current position (after whitespace), read without recursion."""
        numbers: dict[str, str] = {}
        stack: list[tuple[dict[str, Any] | list[Any], str | None]] = []  # container, key awaiting a value
        char = self.skip_whitespace()
        if not char:
            raise self.fail("no content")
        while True:
            if char == "{" or char == "[":
                self.position += 1
                container: dict[str, Any] | list[Any] = {} if char == "{" else []
                closing = "}" if char == "{" else "]"
                char = self.skip_whitespace()
                if char == closing:
                    self.position += 1
                    result: Any = container
                else:
                    stack.append((container, self._key() if closing == "}" else None))
                    char = self.skip_whitespace()
                    continue
            else:
                result, written = self.scalar()
                if written is not None and len(stack) == 1 and stack[0][1] is not None:
                    numbers[stack[0][1]] = written
            # ``result`` is complete: store it in its container, then close every container it completes.
            while True:
                if not stack:
                    return result, numbers
                container, key = stack[-1]
                if key is not None:
                    container[key] = result  # type: ignore[call-overload]  # a dict when there is a key
                else:
                    container.append(result)  # type: ignore[union-attr]
                separator = self.skip_whitespace()
                closing = "}" if key is not None else "]"
                if separator == ",":
                    self.position += 1
                    if key is not None:
                        self.skip_whitespace()
                        stack[-1] = (container, self._key())
                    char = self.skip_whitespace()
                    break
                if separator != closing:
                    raise self.fail(f"expected ',' or '{closing}'")
                self.position += 1
                stack.pop()
                result = container

    def _key(self) -> str:
        if self.text[self.position : self.position + 1] != '"':
            raise self.fail("expected a double-quoted property name")
        key = self.string()
        if self.skip_whitespace() != ":":
            raise self.fail("expected ':' after a property name")
        self.position += 1
        return key


def _no_constant(name: str) -> Any:
    raise JsonBodyError(f"non-standard token {name!r} (Jackson refuses NaN and Infinity)")


class _Written(str):
    """A number as its text: how ``number_texts`` has the standard library hand numbers over."""


_STANDARD = json.JSONDecoder(parse_constant=_no_constant)
_STANDARD_WRITTEN = json.JSONDecoder(parse_constant=_no_constant, parse_int=_Written, parse_float=_Written)
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
_UNREAD = object()


def _standard_first_value(text: str, utf8: bool, decoder: json.JSONDecoder = _STANDARD) -> Any:
    """The first value read by the standard library's C scanner, which agrees with Jackson on valid UTF-8
    without surrogates, integers under 4,300 digits and nesting under Python's recursion limit; ``_UNREAD``
    for any other body (the careful reader's)."""
    if utf8:
        text = text.encode("latin-1").decode("utf-8", "surrogateescape")  # undecodable bytes become surrogates
    if _SURROGATE.search(text) is not None or _SURROGATE_ESCAPE.search(text) is not None:
        return _UNREAD  # lenient UTF-8, or a surrogate escape: Java's reading and writing of them
    start = _WHITESPACE.match(text)
    try:
        value, _ = decoder.raw_decode(text, start.end() if start else 0)
    except json.JSONDecodeError as exc:
        raise JsonBodyError(exc.msg + f" at character {exc.pos}") from None
    except (RecursionError, ValueError):  # deep nesting, or an integer beyond int()'s digit limit
        return _UNREAD
    return value


def read_first_value(body: bytes) -> Any:
    """The first JSON value of ``body`` as Divolte's parser reads it.

    Raises ``JsonBodyError`` for a body Divolte's parser refuses.
    """
    text, utf8 = _text(body)
    value = _standard_first_value(text, utf8)
    return _Reader(text, utf8).value()[0] if value is _UNREAD else value


def read_first_value_carefully(body: bytes) -> Any:
    """``read_first_value`` by the careful reader alone (every body; the tests compare the two)."""
    text, utf8 = _text(body)
    return _Reader(text, utf8).value()[0]


def number_texts(body: bytes) -> dict[str, str]:
    """The text, as written, of every number that is a direct member of the body's top-level object (by
    property name; the last one of a repeated name). Raises ``JsonBodyError`` as ``read_first_value``."""
    text, utf8 = _text(body)
    value = _standard_first_value(text, utf8, _STANDARD_WRITTEN)
    if value is _UNREAD:
        return _Reader(text, utf8).value()[1]
    return {key: str(item) for key, item in value.items() if type(item) is _Written} if isinstance(value, dict) else {}
