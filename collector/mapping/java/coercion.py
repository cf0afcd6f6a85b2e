"""Jackson 2.9's coercions of JSON scalars into Avro primitives, as Divolte's JSON → Avro mapping uses them.

Divolte reads each JSON value with Jackson's deserializer for the Avro type's Java class (``String``,
``Integer``, ``Long``, ``Float``, ``Double``, ``Boolean``, ``ByteBuffer``), so a mapped event parameter may
be a number where a string is expected, or a numeric string where a number is. These functions repeat those
rules so that the same parameters give the same Avro values (SPEC §6.6):

* ``string`` takes strings, and numbers and booleans as their Java text (``1.0E20``, ``true``);
* ``int``/``long`` take integers in range, floats truncated towards zero, and decimal integer strings;
* ``float``/``double`` take numbers and Java floating-point text (``1e3``, ``NaN``, ``0x1p3``, ``2.5f``);
* ``boolean`` takes booleans, integers (0 is false) and ``"true"``/``"True"``/``"false"``/``"False"``;
* the strings ``""`` and ``"null"`` read as null for those five, as for Jackson's boxed types;
* ``bytes`` takes Base64 text (standard alphabet, padding required);
* a one-element array stands for its element (``UNWRAP_SINGLE_VALUE_ARRAYS``).

Each reader returns ``None`` where Jackson returns Java's null; ``required`` turns that into a mismatch where
the schema has no null branch. Python values come from ``orjson`` or the mincode decoder: ``None``, ``bool``,
``int`` (any size), ``float``, ``str``, ``list`` and ``dict``.
"""

from __future__ import annotations

import base64
import math
import re
import struct
from collections.abc import Callable
from typing import Any

from collector.mapping.java.numbers import java_double_to_string

Reader = Callable[[Any], Any]
"""A reader of one JSON value; raises ``JsonMismatch`` when the value does not fit."""

INT_RANGE = (-(2**31), 2**31 - 1)
LONG_RANGE = (-(2**63), 2**63 - 1)
_FLOAT_MAX = 3.4028234663852886e38
"""Largest finite 32-bit float; anything beyond may round to infinity when cast, as Java's ``(float)`` does."""
_JAVA_WHITESPACE = "".join(chr(c) for c in range(33))
"""What Java's ``String.trim()`` removes: every character up to and including the space."""
_INTEGER_TEXT = re.compile(r"[+-]?[0-9]{1,20}")
"""Java ``Integer.parseInt``/``Long.parseLong`` syntax; more than 20 digits is out of range anyway."""
_DECIMAL_TEXT = re.compile(r"[+-]?(?:NaN|Infinity|(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?[fFdD]?)")
_HEX_TEXT = re.compile(r"[+-]?0[xX](?:[0-9a-fA-F]+\.?[0-9a-fA-F]*|\.[0-9a-fA-F]+)[pP][+-]?[0-9]+[fFdD]?")


class JsonMismatch(ValueError):
    """A JSON value does not fit the Avro schema it is mapped onto; the mapping of that field is skipped.

    ``path`` locates the offending part inside the value (``$.items[1].count``) so that the log line says
    which parameter to fix.
    """

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message
        self._segments: list[str] = []

    @property
    def path(self) -> str:
        """Where in the mapped value the mismatch is, as a JSONPath (``$`` is the value itself)."""
        return "$" + "".join(reversed(self._segments))

    def inside(self, segment: str) -> JsonMismatch:
        """Record that the mismatch happened inside ``segment`` (added while unwinding, outermost last)."""
        self._segments.append(segment)
        return self

    def __str__(self) -> str:
        return f"{self.message} (at {self.path})" if self._segments else self.message


def describe_json(value: Any) -> str:
    """Name a JSON value the way a user thinks of it, with a short preview of scalars."""
    if value is None:
        return "JSON null"
    if isinstance(value, int) and value.bit_length() > 128:  # repr() may refuse one this long
        return f"JSON number of {value.bit_length()} bits"
    if isinstance(value, bool | int | float | str):
        text = repr(value)
        text = text if len(text) <= 40 else text[:37] + "..."
        kind = "boolean" if isinstance(value, bool) else "string" if isinstance(value, str) else "number"
        return f"JSON {kind} {text}"
    if isinstance(value, list):
        return f"a JSON array of {len(value)} values"
    if isinstance(value, dict):
        return "a JSON object"
    return f"a {type(value).__name__}"


def mismatch(value: Any, target: str) -> JsonMismatch:
    """The usual mismatch: this kind of JSON value cannot become that Avro type."""
    return JsonMismatch(f"cannot read {describe_json(value)} as Avro {target}")


def unwrap_single(value: list[Any], target: str) -> Any:
    """``UNWRAP_SINGLE_VALUE_ARRAYS``: the element of a one-element array (nested ones too), else a mismatch."""
    while isinstance(value, list):
        if len(value) != 1:
            raise JsonMismatch(f"cannot unwrap a JSON array of {len(value)} values into a single Avro {target}")
        value = value[0]
    return value


def read_string(value: Any) -> str | None:
    """Jackson's ``String`` deserializer; ``None`` is Java's null."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        try:
            return str(value)
        except ValueError:  # beyond Python's int-to-text digit limit
            raise JsonMismatch("a JSON integer too long to write as an Avro string") from None
    if isinstance(value, float):
        return java_double_to_string(value)
    if isinstance(value, list):
        return read_string(unwrap_single(value, "string"))
    raise mismatch(value, "string")


def _int_reader(low: int, high: int, target: str) -> Reader:
    """Jackson's ``Integer``/``Long`` deserializer, with the Avro range checked."""

    def read(value: Any) -> int | None:
        if type(value) is int:
            number = value
        elif value is None:
            return None
        elif isinstance(value, float):
            if not math.isfinite(value):
                raise mismatch(value, target)
            number = int(value)  # ACCEPT_FLOAT_AS_INT truncates towards zero
        elif isinstance(value, str):
            text = value.strip(_JAVA_WHITESPACE)
            if text in ("", "null"):
                return None
            if not _INTEGER_TEXT.fullmatch(text):
                raise mismatch(value, target)
            number = int(text)
        elif isinstance(value, list):
            return read(unwrap_single(value, target))
        elif isinstance(value, int) and not isinstance(value, bool):
            number = int(value)
        else:
            raise mismatch(value, target)
        if low <= number <= high:
            return number
        raise JsonMismatch(f"{describe_json(value)} is out of the range of Avro {target}")

    return read


def _float_reader(is_float: bool) -> Reader:
    """Jackson's ``Float``/``Double`` deserializer: numbers and Java floating-point text."""
    target = "float" if is_float else "double"

    def read(value: Any) -> float | None:
        if type(value) is float:
            number = value
        elif value is None:
            return None
        elif isinstance(value, bool):
            raise mismatch(value, target)
        elif isinstance(value, int):
            try:
                number = float(value)
            except OverflowError:  # Java's BigInteger.doubleValue() gives infinity
                number = math.inf if value > 0 else -math.inf
        elif isinstance(value, str):
            text = value.strip(_JAVA_WHITESPACE)
            if text in ("", "null"):
                return None
            number = _parse_java_float(text, value, target)
        elif isinstance(value, list):
            return read(unwrap_single(value, target))
        else:
            raise mismatch(value, target)
        if is_float and math.isfinite(number) and abs(number) > _FLOAT_MAX:
            try:
                struct.pack("<f", number)  # raises exactly when the rounded float32 would be infinite
            except OverflowError:
                number = math.copysign(math.inf, number)
        return number

    return read


def _parse_java_float(text: str, original: str, target: str) -> float:
    """``Double.parseDouble`` syntax (and Jackson's ``INF`` spellings); anything else is a mismatch."""
    if text in ("INF", "+INF", "-INF"):
        return -math.inf if text[0] == "-" else math.inf
    if _DECIMAL_TEXT.fullmatch(text):
        return float(text[:-1] if text[-1] in "fFdD" else text)
    if _HEX_TEXT.fullmatch(text):
        return float.fromhex(text[:-1] if text[-1] in "fFdD" else text)
    raise mismatch(original, target)


def _read_boolean(value: Any) -> bool | None:
    """Jackson 2.9's ``Boolean`` deserializer: any integer but 0 is true; two spellings of each word."""
    if value is True or value is False or value is None:
        return value
    if isinstance(value, int):
        return value != 0
    if isinstance(value, str):
        text = value.strip(_JAVA_WHITESPACE)
        if text in ("true", "True"):
            return True
        if text in ("false", "False"):
            return False
        if text in ("", "null"):
            return None
    elif isinstance(value, list):
        return _read_boolean(unwrap_single(value, "boolean"))
    raise mismatch(value, "boolean")


def base64_bytes(value: str, target: str) -> bytes:
    """Jackson's Base64 (standard alphabet, padding required) of the trimmed text."""
    try:
        return base64.b64decode(value.strip(_JAVA_WHITESPACE), validate=True)
    except ValueError:  # binascii.Error, or non-ASCII text
        raise JsonMismatch(f"{describe_json(value)} is not Base64 for Avro {target}") from None


def _read_bytes(value: Any) -> bytes:
    """Jackson's ``ByteBuffer`` deserializer: Base64 text only."""
    if isinstance(value, str):
        return base64_bytes(value, "bytes")
    raise mismatch(value, "bytes")


def _read_null(value: Any) -> None:
    if value is not None:
        raise mismatch(value, "null")


def byte_value(value: Any, target: str) -> int:
    """One element of Jackson's ``byte[]`` array form: an integer from -128 to 255."""
    if isinstance(value, int) and not isinstance(value, bool) and -128 <= value <= 255:
        return value & 0xFF
    raise JsonMismatch(f"{describe_json(value)} is not a byte value for Avro {target}")


def required(read: Reader, target: str) -> Reader:
    """Refuse Java's null where the schema has no null branch (fastavro could not write it)."""

    def convert(value: Any) -> Any:
        result = read(value)
        if result is None:
            reads = "" if value is None else ", which reads as null,"
            raise JsonMismatch(f"{describe_json(value)}{reads} cannot fill a non-nullable Avro {target}")
        return result

    return convert


def scalar_reader(name: str) -> Reader:
    """The reader for a primitive type; it returns ``None`` for values Jackson reads as null."""
    if name == "string":
        return read_string
    if name == "int":
        return _int_reader(*INT_RANGE, "int")
    if name == "long":
        return _int_reader(*LONG_RANGE, "long")
    if name in ("float", "double"):
        return _float_reader(name == "float")
    if name == "boolean":
        return _read_boolean
    if name == "bytes":
        return _read_bytes
    return _read_null
