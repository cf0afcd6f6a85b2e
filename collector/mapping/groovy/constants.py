"""Groovy's semantics for values known at start-up: what ``==``, ``&&``, ``!``, ``?:`` and a GString make of them.

A mapping script runs once; the values it can compute with are its literals, lists of them, GStrings
built from them and the results of comparing them (Divolte's value functions, by contrast, yield values
per event, which the DSL's ``.equalTo()``, ``.and()``, ``not`` compare later). These follow Groovy:
``==`` compares numbers by value across types (``1 == 1L``), strings and GStrings by their text, lists
element by element; Groovy truth makes ``null``, ``false``, ``0``, ``''`` and ``[]`` false; a GString
writes each value as Java's ``toString`` does (``null``, ``1.0E10``, ``[a, b]``).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from collector.mapping.groovy.numbers import float32
from collector.mapping.groovy.python_writer import python_string
from collector.mapping.groovy.vocabulary import Value

NUMBERS = ("Integer", "Long", "BigInteger", "Float", "Double", "BigDecimal")
CONSTANTS = {"String", "GString", "Boolean", "null", "List", *NUMBERS}
"""Groovy types of the values a script knows at start-up (a Value with any other ``java`` is not a constant)."""
NULL = Value(None, "None", "null", "null")


def is_constant(value: Value) -> bool:
    """Known at start-up: a literal, a GString, a comparison's result, a list of these (``[location()]`` is not)."""
    if value.java == "List":
        return all(map(is_constant, value.obj))
    return value.java in CONSTANTS


def _java_double(number: float) -> str:
    """Java's ``Double.toString``: plain between 10^-3 and 10^7, else ``d.dddE±n``; always a fraction digit."""
    if number != number or number in (float("inf"), float("-inf")):
        return {"nan": "NaN", "inf": "Infinity", "-inf": "-Infinity"}[repr(number)]
    if number == 0:
        return "-0.0" if repr(number).startswith("-") else "0.0"
    if 1e-3 <= abs(number) < 1e7:
        return repr(number)  # Python writes these plainly too, with the same shortest digits
    exact = Decimal(repr(number))
    digits = "".join(map(str, exact.as_tuple().digits)).rstrip("0") or "0"
    sign = "-" if number < 0 else ""
    return f"{sign}{digits[0]}.{digits[1:] or '0'}E{exact.adjusted()}"


def _java_float(number: float) -> str:
    """Java's ``Float.toString``: as a double, but with the fewest digits that read back as the same float."""
    for precision in range(1, 10):
        shortest = float(f"{number:.{precision}g}")
        if float32(shortest) == number:
            return _java_double(shortest)
    return _java_double(number)


def to_string(value: Value) -> str:
    """The text Groovy puts in a GString for ``value`` (Java's ``toString``; a list as ``[a, b]``)."""
    java, obj = value.java, value.obj
    if java == "null":
        return "null"
    if java == "Boolean":
        return "true" if obj else "false"
    if java in ("Integer", "Long", "BigInteger"):
        return str(obj)
    if java == "Double":
        return _java_double(obj)
    if java == "Float":
        return _java_float(obj)
    if java == "BigDecimal":
        return str(Decimal(obj))
    if java == "List":
        return "[" + ", ".join(to_string(item) for item in obj) + "]"
    return str(obj)


def truth(value: Value) -> bool:
    """Groovy truth: null, false, zero, an empty string and an empty list are false."""
    java, obj = value.java, value.obj
    if java == "BigDecimal":
        return Decimal(obj) != 0
    if java in ("String", "GString", "List"):
        return len(obj) > 0
    return bool(obj)


def _number(value: Value) -> Any:
    return Decimal(value.obj) if value.java == "BigDecimal" else value.obj


def equal(left: Value, right: Value) -> bool:
    """Groovy's ``==``: numbers by value (as doubles when either is a Float or Double), text by text, lists
    element by element; values of unrelated types are never equal."""
    if left.java == "null" or right.java == "null":
        return left.java == right.java
    if left.java in NUMBERS and right.java in NUMBERS:
        if {"Float", "Double"} & {left.java, right.java}:
            return float(_number(left)) == float(_number(right))
        return bool(_number(left) == _number(right))
    texts = ("String", "GString")
    if left.java in texts and right.java in texts:
        return bool(left.obj == right.obj)
    if left.java == right.java == "List":
        return len(left.obj) == len(right.obj) and all(map(equal, left.obj, right.obj))
    return left.java == right.java and bool(left.obj == right.obj)


def boolean(result: bool) -> Value:
    return Value(result, repr(result), "Boolean", "true" if result else "false")


def string(text: str, java: str = "String") -> Value:
    """A computed String (or GString), spelled for Python and for messages."""
    quoted = '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return Value(text, python_string(text), java, quoted if java == "GString" else repr(text))


def list_value(items: list[Value]) -> Value:
    text = "[" + ", ".join(to_string(item) if is_constant(item) else item.py for item in items) + "]"
    return Value(items, "[" + ", ".join(item.py for item in items) + "]", "List", text)
