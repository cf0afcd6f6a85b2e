"""Decode mincode, divolte.js's compact URL-friendly encoding of custom event parameters (``u``).

A mincode text is a sequence of records, each starting with a one-character type:

    s<string>!  string        t  true         d<base-36 integer>!  integer
    (  …  )     object        f  false        j<JSON number>!      number
    a  …  .     array         n  null         o                    empty object

Strings end at an unescaped ``!``; ``~`` escapes the next character (the encoder only ever writes ``~~`` and
``~!``). Inside an object every record except ``)`` carries its property name right after the type
character, as an escaped string: ``(sfoo!bar!dbaz!16!)`` is ``{"foo": "bar", "baz": 42}``.

Only the first value is read and anything after it is ignored, as Divolte's Jackson-based parser does.
Any error raises ``MincodeError``; the caller then treats the parameters as absent, as Divolte does.

Choices where Python differs from Divolte's Java (documented so the mapping layer knows what it gets):

* ``j`` numbers: Divolte keeps a ``BigDecimal`` and calls it an integer iff its scale is 0 (no fractional
  digits left after applying the exponent: ``j12!``, ``j1.5e1!`` are integers 12 and 15). We apply the same
  rule and return an ``int``; every other number becomes a ``float`` (nearest double, as the ``BigDecimal``
  becomes when mapped onto an Avro ``double``). Exactness beyond a double is lost, e.g. ``-7.83E-9`` stays
  ``-7.83e-09``; out-of-double-range values become ``±inf``. Digits must be ASCII (``BigDecimal`` would
  also take other Unicode decimal digits; divolte.js never writes them).
* ``d`` integers, like Java's ``BigInteger``, have no size limit: beyond 64 bits they are plain Python
  ints, which a JSON or Avro writer may refuse; the mapping layer decides.
* ``o`` (empty object) decodes to ``{}`` as documented. Divolte's own parser at its last commit mishandles
  it (its pending end marker is ``.`` where objects now end with ``)``), so ``o`` is an error there;
  divolte.js never sends ``o``, so no real traffic depends on the difference.
* Nesting deeper than ``MAX_DEPTH`` raises ``MincodeError``. The decoder is iterative, so depth costs no
  stack; the limit protects whoever walks or serialises the result (Jackson 2.15+ has the same default).
"""

from __future__ import annotations

import re
from typing import Any

from collector.protocol.base36 import INT_MAX, INT_MIN, parse_bigint36

MAX_DEPTH = 1000
"""Deepest nesting of arrays and objects accepted."""

_NUMBER = re.compile(r"([+-]?)([0-9]*)(?:\.([0-9]*))?(?:[eE]([+-]?[0-9]+))?")
"""Java ``BigDecimal`` syntax (ASCII digits): sign, integer part, optional fraction, optional exponent."""
_MAX_EXPONENT_DIGITS = 12
"""An exponent with more significant digits cannot give a scale that fits Java's ``int``."""


class MincodeError(ValueError):
    """The text is not valid mincode; the message says what is wrong and where."""


def _read_string(text: str, pos: int) -> tuple[str, int]:
    """Read an escaped string starting at ``pos``; return it and the position after its closing ``!``.

    ``~`` is searched for only up to the candidate closing ``!``, and a new ``!`` only when the candidate
    turned out to be escaped, so every character is scanned a bounded number of times: hostile input
    full of escapes is still read in linear time.
    """
    end = text.find("!", pos)
    if end < 0:
        raise MincodeError(f"unterminated string starting at offset {pos}")
    parts: list[str] = []
    tilde = text.find("~", pos, end)
    while tilde >= 0:
        # tilde < end, so the escaped character exists (it may be the candidate '!').
        parts.append(text[pos:tilde])
        parts.append(text[tilde + 1])
        pos = tilde + 2
        if pos > end:
            end = text.find("!", pos)
            if end < 0:
                raise MincodeError(f"unterminated string starting at offset {pos}")
        tilde = text.find("~", pos, end)
    if not parts:
        return text[pos:end], end + 1
    parts.append(text[pos:end])
    return "".join(parts), end + 1


def _integer(payload: str, offset: int) -> int:
    """Decode a ``d`` payload: a signed base-36 integer of any size (Java ``BigInteger(s, 36)``)."""
    value = parse_bigint36(payload)
    if value is None:
        raise MincodeError(f"invalid integer record {payload!r} at offset {offset}")
    return value


def _number(payload: str, offset: int) -> int | float:
    """Decode a ``j`` payload: an ``int`` when Java's ``BigDecimal`` scale is 0, else a ``float``."""
    match = _NUMBER.fullmatch(payload)
    if match is None or not (match.group(2) or match.group(3)):
        raise MincodeError(f"invalid number record {payload!r} at offset {offset}")
    sign, whole, fraction, exponent = match.groups()
    fraction = fraction or ""
    exponent = exponent or "0"
    if len(exponent.lstrip("+-").lstrip("0")) > _MAX_EXPONENT_DIGITS:
        raise MincodeError(f"number record {payload!r} out of range at offset {offset}")
    scale = len(fraction) - int(exponent)
    if not INT_MIN <= scale <= INT_MAX:
        raise MincodeError(f"number record {payload!r} out of range at offset {offset}")
    if scale == 0:
        value = _decimal_int((whole + fraction).lstrip("0") or "0")
        return -value if sign == "-" else value
    return float(payload)


def _decimal_int(digits: str) -> int:
    """Convert decimal digits of any length (Python refuses ``int()`` on more than 4300 at once)."""
    chunk = 4000
    if len(digits) <= chunk:
        return int(digits)
    value = 0
    for start in range(0, len(digits), chunk):
        part = digits[start : start + chunk]
        value = value * 10 ** len(part) + int(part)
    return value


def decode(text: str) -> Any:
    """Decode the first mincode value in ``text`` into JSON-like Python values.

    Returns a ``dict``, ``list``, ``str``, ``int``, ``float``, ``bool`` or ``None``; raises ``MincodeError``.
    """
    # Open containers, innermost last, with the property name each will be stored under in its parent
    # ("" under an array parent, where names are not used).
    stack: list[tuple[dict[str, Any] | list[Any], str]] = []
    pos = 0
    length = len(text)
    while True:
        if pos >= length:
            raise MincodeError("unexpected end of input" + (" inside an object or array" if stack else ""))
        record = text[pos]
        start = pos
        pos += 1
        parent = stack[-1][0] if stack else None
        value: Any
        name = ""
        if record == ")":
            if not isinstance(parent, dict):
                raise MincodeError(f"end of object outside an object at offset {start}")
            value, name = stack.pop()
        else:
            if isinstance(parent, dict):
                name, pos = _read_string(text, pos)
            if record == "s":
                value, pos = _read_string(text, pos)
            elif record == "d":
                payload, pos = _read_string(text, pos)
                value = _integer(payload, start)
            elif record == "j":
                payload, pos = _read_string(text, pos)
                value = _number(payload, start)
            elif record == "t":
                value = True
            elif record == "f":
                value = False
            elif record == "n":
                value = None
            elif record == "o":
                value = {}
            elif record == "(" or record == "a":
                if len(stack) >= MAX_DEPTH:
                    raise MincodeError(f"nesting deeper than {MAX_DEPTH} at offset {start}")
                stack.append(({} if record == "(" else [], name))
                continue
            elif record == ".":
                if not isinstance(parent, list):
                    raise MincodeError(f"end of array outside an array at offset {start}")
                value, name = stack.pop()
            else:
                raise MincodeError(f"unknown record type {record!r} at offset {start}")
        if not stack:
            return value
        container = stack[-1][0]
        if isinstance(container, dict):
            container[name] = value
        else:
            container.append(value)
