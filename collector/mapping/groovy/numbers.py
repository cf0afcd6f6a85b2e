"""Groovy's number literals: the value and the Java type Groovy gives each (SPEC §6.2).

``42`` is an Integer, ``42L`` a Long, ``42.0D`` a Double, ``42.0F`` a Float and a plain ``42.0`` a BigDecimal
(kept as its text, which Divolte cannot map); a literal too large for its type is refused, as Groovy does.
"""

from __future__ import annotations

import re
import struct
from typing import Any

NUMBER = re.compile(
    r"0[xX][0-9a-fA-F](?:[0-9a-fA-F_]*[0-9a-fA-F])?[lLiIgG]?"
    r"|0[bB][01](?:[01_]*[01])?[lLiIgG]?"
    r"|\d(?:[\d_]*\d)?(?:\.\d(?:[\d_]*\d)?)?(?:[eE][+-]?\d+)?[lLiIgGdDfF]?"
)


def float32(value: float) -> float:
    """The nearest Java float, as a Python float (``42.1F`` is not the double ``42.1``)."""
    try:
        result: float = struct.unpack("<f", struct.pack("<f", value))[0]
    except OverflowError:
        raise ValueError("too large for a float") from None
    return result


def _integer(digits: str, base: int, suffix: str) -> tuple[Any, str]:
    value = int(digits.replace("_", ""), base)
    kind = {"l": "Long", "i": "Integer", "g": "BigInteger", "d": "Double", "f": "Float"}.get(suffix.lower())
    if kind == "Double":
        return float(value), kind
    if kind == "Float":
        return float32(float(value)), kind
    if kind is None:  # Groovy picks the smallest of Integer, Long and BigInteger that holds the value
        kind = "Integer" if value < 2**31 else "Long" if value < 2**63 else "BigInteger"
    # The magnitude of Integer.MIN_VALUE and Long.MIN_VALUE is one more than the maximum: the parser applies
    # the minus of -2147483648 and -9223372036854775808L.
    limit = {"Integer": 2**31, "Long": 2**63}.get(kind)
    if limit is not None and value > limit:
        raise ValueError(f"{digits} is too large for {'an Integer' if kind == 'Integer' else 'a Long'}")
    return value, kind


def number_value(text: str) -> tuple[Any, str]:
    """The value and Groovy type of a number literal; ValueError when Groovy refuses it too."""
    lower = text.lower()
    hexadecimal = lower.startswith("0x")
    suffix = text[-1] if lower[-1] in ("lig" if hexadecimal else "ligdf") else ""
    body = text[: len(text) - len(suffix)]
    if hexadecimal:
        return _integer(body[2:], 16, suffix)
    if lower.startswith("0b"):
        return _integer(body[2:], 2, suffix)
    if "." in body or "e" in body.lower():
        decimal = body.replace("_", "")
        kind = suffix.lower()
        if kind == "d":
            value = float(decimal)
            if value == float("inf"):
                raise ValueError(f"{text} is too large for a Double")
            return value, "Double"
        if kind == "f":
            return float32(float(decimal)), "Float"
        if kind in ("l", "i"):
            raise ValueError(f"{text}: a decimal number cannot have the suffix {suffix}")
        return decimal, "BigDecimal"
    if len(body) > 1 and body[0] == "0":
        if not set(body.replace("_", "")) <= set("01234567"):
            raise ValueError(f"{text} is not a valid octal number")
        return _integer(body[1:], 8, suffix)
    return _integer(body, 10, suffix)
