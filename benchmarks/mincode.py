"""A Python port of divolte.js's ``mincode()`` encoder, for building benchmark corpora.

The collector only ever *decodes* mincode; the load generator needs to *encode* custom-event parameters the
way the tracker does, so that the corpus exercises the same bytes real browsers send. This follows
``static/divolte.js`` record for record, including JavaScript's number formatting (``String(n)``,
``n.toExponential()``, ``n.toString(36)``) and ``Object.keys`` order (integer-like keys first, ascending).
It is checked against the ``mincode_js_encoder`` test vectors in ``tests/unit/test_bench_mincode.py``.
"""

from __future__ import annotations

import datetime
import decimal
import math
from typing import Any

UNDEFINED: Any = type("Undefined", (), {"__repr__": lambda self: "undefined"})()
"""JavaScript's ``undefined``: what JSON (and mincode) leave out."""

_DIGITS36 = "0123456789abcdefghijklmnopqrstuvwxyz"
_MAX_ARRAY_INDEX = 2**32 - 2


def _string(text: str) -> str:
    """``mincodeString``: escape ``~`` and ``!`` with ``~``, terminate with ``!``."""
    return text.replace("~", "~~").replace("!", "~!") + "!"


def _shortest_digits(value: float) -> tuple[str, int]:
    """The shortest round-trip digits ``d`` of ``|value|`` and ``n`` with ``|value| = 0.d × 10^n`` (ECMA-262)."""
    _sign, digits, exponent = decimal.Decimal(repr(abs(value))).normalize().as_tuple()
    text = "".join(map(str, digits))
    assert isinstance(exponent, int)
    return text, exponent + len(text)


def js_number_to_string(value: float) -> str:
    """JavaScript's ``String(value)`` for a finite number (``Number::toString`` with radix 10)."""
    if value == 0:
        return "0"
    sign = "-" if value < 0 else ""
    digits, n = _shortest_digits(value)
    k = len(digits)
    if k <= n <= 21:
        return sign + digits + "0" * (n - k)
    if 0 < n <= 21:
        return sign + digits[:n] + "." + digits[n:]
    if -6 < n <= 0:
        return sign + "0." + "0" * -n + digits
    return sign + _exponential(digits, n)


def js_to_exponential(value: float) -> str:
    """JavaScript's ``value.toExponential()`` (no argument: as many digits as needed) for a finite number."""
    if value == 0:
        return "0e+0"
    sign = "-" if value < 0 else ""
    digits, n = _shortest_digits(value)
    return sign + _exponential(digits, n)


def _exponential(digits: str, n: int) -> str:
    mantissa = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
    exponent = n - 1
    return f"{mantissa}e{'+' if exponent >= 0 else '-'}{abs(exponent)}"


def js_integer_to_base36(value: int) -> str:
    """``n.toString(36)`` for an integral number."""
    if value == 0:
        return "0"
    magnitude = abs(value)
    out = []
    while magnitude:
        magnitude, digit = divmod(magnitude, 36)
        out.append(_DIGITS36[digit])
    return ("-" if value < 0 else "") + "".join(reversed(out))


def _number(value: float, named: str) -> str:
    if not math.isfinite(value):
        return "n" + named
    plain = js_number_to_string(value)
    exponential = js_to_exponential(value)
    shortest = exponential if len(exponential) < len(plain) else plain
    if value % 1 == 0:
        base36 = js_integer_to_base36(int(value))
        if len(base36) <= len(shortest):
            return "d" + named + base36 + "!"
    return "j" + named + shortest + "!"


def _object_keys(value: dict[str, Any]) -> list[str]:
    """``Object.keys`` order: array-index keys ascending first, then the others in insertion order."""
    indices = [k for k in value if k.isdigit() and (k == "0" or k[0] != "0") and int(k) <= _MAX_ARRAY_INDEX]
    others = [k for k in value if k not in set(indices)]
    return sorted(indices, key=int) + others


def _to_json(value: datetime.datetime) -> str:
    """``Date.prototype.toJSON``: ISO 8601 in UTC with milliseconds."""
    utc = value.astimezone(datetime.UTC) if value.tzinfo else value
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def mincode(value: Any, name: str | None = None) -> str | None:
    """Encode ``value`` as divolte.js does; ``None`` where JavaScript gives ``undefined``.

    Python values stand for their JavaScript counterparts: ``dict`` (object), ``list`` (array), ``str``,
    ``bool``, ``int``/``float`` (number), ``None`` (null), ``datetime`` (Date), ``UNDEFINED``.
    """
    named = "" if name is None else _string(name)
    if isinstance(value, datetime.datetime):
        value = _to_json(value)
    if value is UNDEFINED:
        return None
    if isinstance(value, str):
        return "s" + named + _string(value)
    if isinstance(value, bool):
        return ("t" if value else "f") + named
    if isinstance(value, int | float):
        return _number(float(value), named)
    if value is None:
        return "n" + named
    if isinstance(value, list):
        return "a" + named + "".join(mincode(item) or "n" for item in value) + "."
    if isinstance(value, dict):
        return "(" + named + "".join(mincode(value[key], key) or "" for key in _object_keys(value)) + ")"
    raise TypeError(f"no JavaScript counterpart for {type(value).__name__}")
