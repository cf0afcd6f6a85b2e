"""Parse text to numbers and booleans as the mapping's ``parse … to int32/int64/fp32/fp64/bool`` does.

Divolte uses Guava's ``Ints/Longs/Floats/Doubles.tryParse`` and Java's ``Boolean.parseBoolean``; a value
that does not parse is absent (``None`` here), so a mapping only fills a field when Java would. Python's
own ``int()``/``float()`` are far more lenient (whitespace, ``_``, ``+``, Unicode digits, ``inf``), so the
accepted syntax is checked first, with Guava's grammar:

* integers: ASCII decimal digits with an optional leading ``-`` (no ``+``, no whitespace), in range;
* floating point: optional sign, then ``NaN``, ``Infinity``, a decimal (``1``, ``1.``, ``.5``, with an
  optional exponent) or a hexadecimal float with a binary exponent (``0x1.8p1``), either of the last two
  with an optional ``f``/``F``/``d``/``D`` suffix. Values too large become infinities, as in Java.

``fp32`` values are rounded once, from the exact decimal value to the nearest ``float`` (ties to even),
as ``Float.parseFloat`` does: rounding through a double first would differ when the double lands exactly
halfway between two floats. The result is a Python float holding that ``float`` value, ready for an Avro
``float`` field.
"""

from __future__ import annotations

import math
import re
import struct
from decimal import Decimal
from fractions import Fraction

_INTEGER = re.compile(r"-?[0-9]+")
_FLOATING_POINT = re.compile(
    r"[+-]?(?:NaN|Infinity"
    r"|(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?[fFdD]?"
    r"|0[xX](?:[0-9a-fA-F]+(?:\.[0-9a-fA-F]*)?|\.[0-9a-fA-F]+)[pP][+-]?[0-9]+[fFdD]?)"
)
_HEX_FLOAT = re.compile(r"([+-]?)0[xX]([0-9a-fA-F]*)(?:\.([0-9a-fA-F]*))?[pP]([+-]?[0-9]+)")
_INT32 = (-(2**31), 2**31 - 1)
_INT64 = (-(2**63), 2**63 - 1)
_MAX_DIGITS = 19
"""More significant digits than this cannot be in the ``long`` range (so ``int()`` need not see them)."""
_FLOAT32_MAX: float = struct.unpack(">f", b"\x7f\x7f\xff\xff")[0]
_FLOAT32_MIN: float = struct.unpack(">f", b"\x00\x00\x00\x01")[0]
_FLOAT32_OVERFLOW = 2.0**128 - 2.0**103
_DOUBLE_MIN = 5e-324
"""The largest finite float, the smallest positive (subnormal) float, and the halfway point to infinity."""


def _parse_integer(text: str, low: int, high: int) -> int | None:
    """Parse a Guava-style decimal integer and range-check it; None if it is not one."""
    if _INTEGER.fullmatch(text) is None:
        return None
    negative = text.startswith("-")
    significant = text.lstrip("-").lstrip("0")
    if len(significant) > _MAX_DIGITS:
        return None
    value = int(significant or "0")
    value = -value if negative else value
    return value if low <= value <= high else None


def parse_int32(text: str) -> int | None:
    """``Ints.tryParse``: a decimal ``int``, or None."""
    return _parse_integer(text, *_INT32)


def parse_int64(text: str) -> int | None:
    """``Longs.tryParse``: a decimal ``long``, or None."""
    return _parse_integer(text, *_INT64)


def _number_text(text: str) -> str | None:
    """Return ``text`` without its Java type suffix if it is in Guava's floating-point grammar, else None."""
    if _FLOATING_POINT.fullmatch(text) is None:
        return None
    return text[:-1] if text[-1] in "fFdD" else text


def _hex_fraction(text: str) -> Fraction:
    """Return the exact value of a hexadecimal float literal (suffix already removed)."""
    match = _HEX_FLOAT.fullmatch(text)
    assert match is not None, text
    sign, whole, fraction, exponent = match.groups()
    fraction = fraction or ""
    mantissa = int((whole + fraction) or "0", 16)
    value = Fraction(mantissa) * Fraction(2) ** (int(exponent) - 4 * len(fraction))
    return -value if sign == "-" else value


def _to_double(text: str) -> float:
    """Return the correctly rounded double of a validated literal (suffix already removed)."""
    if "x" in text or "X" in text:
        try:
            return float.fromhex(text)
        except OverflowError:
            return -math.inf if text.startswith("-") else math.inf
    return float(text)


def parse_fp64(text: str) -> float | None:
    """``Doubles.tryParse``: the nearest double, or None if ``text`` is not a Java floating-point literal."""
    number = _number_text(text)
    return None if number is None else _to_double(number)


def _float32(value: float) -> float:
    """Round a double to the nearest float (ties to even), overflowing to an infinity."""
    try:
        return float(struct.unpack(">f", struct.pack(">f", value))[0])
    except OverflowError:
        return math.copysign(math.inf, value)


def _neighbour32(value: float, toward: float) -> float:
    """Return the float adjacent to the float ``value`` in the direction of ``toward``."""
    if value == 0:
        return math.copysign(_FLOAT32_MIN, toward)
    if math.isinf(value):
        return math.copysign(_FLOAT32_MAX, value)
    bits = struct.unpack(">i", struct.pack(">f", value))[0]
    away_from_zero = (toward > value) == (value > 0)
    return float(struct.unpack(">f", struct.pack(">i", bits + (1 if away_from_zero else -1)))[0])


def parse_fp32(text: str) -> float | None:
    """``Floats.tryParse``: the nearest float (as a Python float), or None if ``text`` does not parse."""
    number = _number_text(text)
    if number is None:
        return None
    double = _to_double(number)
    single = _float32(double)
    if single == double or math.isnan(double) or math.isinf(double):
        return single
    other = _neighbour32(single, double)
    midpoint = math.copysign(_FLOAT32_OVERFLOW, double) if math.isinf(single) else (single + other) / 2
    if double != midpoint:
        return single
    # The double is exactly halfway between two floats, so rounding it again may go the wrong way:
    # decide with the exact value of the text, as a direct decimal-to-float conversion does.
    exact = _hex_fraction(number) if "x" in number or "X" in number else Fraction(Decimal(number))
    if exact == Fraction(double):
        return single
    upper, lower = max(single, other), min(single, other)
    return upper if exact > Fraction(double) else lower


def _legacy_integer_digits(value: float) -> tuple[str, int] | None:
    """Digits and decimal exponent the JDK (up to 18) prints for an integral double in [2**53, 2**63).

    There ``Double.toString`` takes a shortcut through ``long`` arithmetic and prints the exact integer,
    rounding away one or two low digits only from 2**58 up, instead of the shortest digits (Java 19
    changed that). Returns None outside that range.
    """
    magnitude = abs(value)
    if not (2.0**53 <= magnitude < 2.0**63) or not magnitude.is_integer():
        return None
    whole = int(magnitude)
    insignificant = max(0, whole.bit_length() - 1 - 54) * 30103 // 100000  # floor(log10(2) * excess bits)
    if insignificant:
        scale = 10**insignificant
        whole, residue = divmod(whole, scale)
        whole += residue >= scale // 2
    digits = str(whole)
    stripped = digits.rstrip("0")
    return stripped, len(digits) + insignificant - 1


def java_double_to_string(value: float) -> str:
    """Format a double as Java's ``Double.toString`` does (``1.0``, ``0.001``, ``1.0E7``, ``1.5E-5``).

    This is also Jackson's ``asText()`` of a double, which is what a mapping reads from a JSON number.
    The digits are the shortest that identify the double, except where the JDKs Divolte runs on (8 to 17)
    print more: integral values from 2**53 to 2**63 (see ``_legacy_integer_digits``) and
    ``Double.MIN_VALUE`` (``4.9E-324``). Other subnormal values may still differ in their last digit.
    """
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    sign = "-" if math.copysign(1.0, value) < 0 else ""
    if value == 0:
        return sign + "0.0"
    if abs(value) == _DOUBLE_MIN:
        return sign + "4.9E-324"
    legacy = _legacy_integer_digits(value)
    if legacy is not None:
        digits, magnitude = legacy
    else:
        _, digit_tuple, exponent = Decimal(repr(abs(value))).as_tuple()
        assert isinstance(exponent, int)
        magnitude = len(digit_tuple) + exponent - 1
        digits = "".join(map(str, digit_tuple)).rstrip("0")
    if 1e-3 <= abs(value) < 1e7:
        point = magnitude + 1
        if point <= 0:
            return f"{sign}0.{'0' * -point}{digits}"
        if point >= len(digits):
            return f"{sign}{digits}{'0' * (point - len(digits))}.0"
        return f"{sign}{digits[:point]}.{digits[point:]}"
    return f"{sign}{digits[0]}.{digits[1:] or '0'}E{magnitude}"


def parse_bool(text: str) -> bool:
    """``Boolean.parseBoolean``: True iff ``text`` is ``true`` in any letter case; never absent."""
    return len(text) == 4 and text.lower() == "true"
