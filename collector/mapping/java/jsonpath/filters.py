"""Evaluate JsonPath filter expressions (``[?(@.price < 10 && @.tags)]``) with Jayway 2.4's rules.

A mapping's ``eventParameters().path('$.items[?(@.count > 1)]')`` selects with these filters, so they
must select the same items Divolte's Jayway JsonPath selects. Jayway's comparison rules are not Python's,
and the differences decide results, so they are kept:

* ``==`` between a number and a string compares numerically when the number is on the left
  (``1 == '1'`` holds) but textually when the string is on the left (``'1.0' == 1`` does not);
  numbers compare by value (``1 == 1.0``); a missing value equals nothing, so ``@.x != 1`` also
  selects items without ``x``; lists and objects selected by paths compare by value and type, while
  a list or object written in the filter equals nothing (Jayway compares it as unparsed text);
* ``in``/``nin`` take a list written in the filter; with a list selected by a path, or a written list
  holding lists or objects, Jayway 2.4 fails and the whole read yields nothing (``Aborted``);
* ``<``, ``<=``, ``>``, ``>=`` only compare number with number and string with string (by UTF-16 code
  units, as Java does); anything else is false;
* ``@.x`` alone tests that ``x`` exists, even when it is ``null``; ``!@.x`` that it does not;
* ``!( … )`` negates.

Supported operators: ``== != < <= > >= =~ in nin size empty``. Regular expressions use Python's ``re``
with full-string matching (Java's ``matches()``), flag ``i`` only. ``filter_syntax`` reads the text and
refuses anything else when the mapping is compiled. Every rule here was checked against the Jayway 2.4.0
jar with Jackson 2.9 nodes, as Divolte configures it.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Protocol

from collector.mapping.java.jsonpath.text import unescape
from collector.mapping.java.numbers import java_double_to_string

Node = tuple[str, Any]
"""A filter value: (kind, value) with kind ``undefined``, ``null``, ``bool``, ``number`` (a ``Decimal``),
``string``, ``json`` (a list or dict selected by a path), ``literal`` (a list or dict written in the
filter), ``pattern`` (a compiled ``re.Pattern``) or ``path`` (a string in a written list that Jayway
takes for a path; it equals nothing)."""

UNDEFINED: Node = ("undefined", None)
BIG_DECIMAL = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
"""What Java's ``new BigDecimal(text)`` accepts (with ASCII digits)."""


class Rejected(Exception):
    """A filter cannot be applied to an item (Jayway's ``InvalidPathException``): the item is not selected."""


class Aborted(Exception):
    """Jayway fails with another exception, which ``SUPPRESS_EXCEPTIONS`` turns into no result for the read."""


class Operand(Protocol):
    """A path inside a filter, evaluated against the current item (``@``) or the document (``$``)."""

    def operand_value(self, item: Any, root: Any) -> Node:
        """Return the value the path selects, as a filter node (``UNDEFINED`` when nothing matches)."""
        ...

    def operand_exists(self, item: Any, root: Any) -> bool:
        """Tell whether the path selects something, requiring every property on the way to exist."""
        ...


def to_node(value: Any) -> Node:
    """Turn a JSON value from the document into a filter node."""
    if value is None:
        return ("null", None)
    if isinstance(value, bool):
        return ("bool", value)
    if isinstance(value, int):
        return ("number", Decimal(value))
    if isinstance(value, float):
        return ("number", Decimal(java_double_to_string(value)))
    if isinstance(value, str):
        return ("string", value)
    return ("json", value)


class Predicate(ABC):
    """A compiled filter expression."""

    @abstractmethod
    def test(self, item: Any, root: Any) -> bool:
        """Tell whether ``item`` is selected; may raise ``Rejected``."""


@dataclass(frozen=True)
class AnyOf(Predicate):
    """``a || b || …``."""

    parts: tuple[Predicate, ...]

    def test(self, item: Any, root: Any) -> bool:
        return any(part.test(item, root) for part in self.parts)


@dataclass(frozen=True)
class AllOf(Predicate):
    """``a && b && …``."""

    parts: tuple[Predicate, ...]

    def test(self, item: Any, root: Any) -> bool:
        return all(part.test(item, root) for part in self.parts)


@dataclass(frozen=True)
class Not(Predicate):
    """``!( … )``."""

    part: Predicate

    def test(self, item: Any, root: Any) -> bool:
        return not self.part.test(item, root)


@dataclass(frozen=True)
class Exists(Predicate):
    """``@.x`` (or, with ``expected`` false, ``!@.x``)."""

    path: Operand
    expected: bool

    def test(self, item: Any, root: Any) -> bool:
        return self.path.operand_exists(item, root) == self.expected


@dataclass(frozen=True)
class Compare(Predicate):
    """``left <operator> right``."""

    left: Operand | Node
    operator: str
    right: Operand | Node

    def test(self, item: Any, root: Any) -> bool:
        left = self.left if isinstance(self.left, tuple) else self.left.operand_value(item, root)
        right = self.right if isinstance(self.right, tuple) else self.right.operand_value(item, root)
        return OPERATIONS[self.operator](left, right)


def _strict_equal(left: Any, right: Any) -> bool:
    """Java ``equals`` on parsed JSON: like ``==`` but booleans, integers and decimals never equal each other."""
    if type(left) is not type(right):
        return False
    if isinstance(left, list):
        return len(left) == len(right) and all(map(_strict_equal, left, right))
    if isinstance(left, dict):
        return left.keys() == right.keys() and all(_strict_equal(left[key], right[key]) for key in left)
    return bool(left == right)


def _as_number(node: Node) -> Decimal | None:
    """``asNumberNode()``: numbers as they are, strings parsed as a Java ``BigDecimal``, else None."""
    kind, value = node
    if kind == "number":
        number: Decimal = value
        return number
    if kind == "string" and BIG_DECIMAL.fullmatch(value):
        return Decimal(value)
    return None


def _node_equals(left: Node, right: Node) -> bool:
    """``left.equals(right)`` for Jayway's value nodes (deliberately asymmetric between numbers and strings)."""
    kind, value = left
    if kind == "number":
        other = _as_number(right) if right[0] in ("number", "string") else None
        return other is not None and value == other
    if kind == "string":
        if right[0] == "number":
            return bool(value == str(right[1]))
        return right[0] == "string" and value == right[1]
    if kind in ("bool", "null"):
        return right[0] == kind and value == right[1]
    if kind == "json":
        # Jayway keeps a literal list or object as unparsed text, so it never equals a selected value.
        return right[0] == "json" and _strict_equal(value, right[1])
    return False


def _utf16(text: str) -> bytes:
    """Text as big-endian UTF-16, whose byte order is Java's ``String.compareTo`` order."""
    return text.encode("utf-16-be", "surrogatepass")


def _ordering(test: Callable[[int], bool]) -> Callable[[Node, Node], bool]:
    """Build ``<``-style operators: numbers with numbers, strings with strings, otherwise false."""

    def compare(left: Node, right: Node) -> bool:
        if left[0] == right[0] == "number":
            return test((left[1] > right[1]) - (left[1] < right[1]))
        if left[0] == right[0] == "string":
            a, b = _utf16(left[1]), _utf16(right[1])
            return test((a > b) - (a < b))
        return False

    return compare


def _regex_input(node: Node) -> str:
    """The text a regular expression is matched against: strings, numbers and booleans; otherwise ``""``."""
    if node[0] == "string":
        return str(node[1])
    if node[0] == "number":
        return str(node[1])
    if node[0] == "bool":
        return "true" if node[1] else "false"
    return ""


def _matches(left: Node, right: Node) -> bool:
    if (left[0] == "pattern") == (right[0] == "pattern"):
        return False
    pattern, subject = (left, right) if left[0] == "pattern" else (right, left)
    return pattern[1].fullmatch(_regex_input(subject)) is not None


def _list_element(value: Any) -> Node:
    """Jayway's ``toValueNode`` for an element of a literal list, where strings get a second reading."""
    if isinstance(value, list | dict):
        raise Aborted("Jayway cannot compare with a nested list or object")
    if not isinstance(value, str):
        return to_node(value)
    if value.startswith(("$", "@")):
        return ("path", value)  # becomes a path that equals nothing
    stripped = value.strip()
    if len(stripped) > 1 and (stripped[0], stripped[-1]) in (("[", "]"), ("{", "}")):
        return ("literal", stripped)
    if len(value) > 1 and value[0] == value[-1] and value[0] in "'\"":
        try:
            return ("string", unescape(value[1:-1]))
        except ValueError as exc:
            raise Aborted(str(exc)) from exc
    return ("string", value)


def _contained(left: Node, right: Node) -> bool:
    if right[0] == "json":
        if isinstance(right[1], list):
            raise Aborted("Jayway 2.4 fails on 'in' with a list selected by a path")
        return False
    if right[0] != "literal":
        raise Rejected("'in' needs a list on its right")
    if not isinstance(right[1], list):
        return False
    return any(_node_equals(left, _list_element(element)) for element in right[1])


def _size(left: Node, right: Node) -> bool:
    if right[0] != "number":
        return False
    expected = int(right[1])
    if left[0] == "string":
        return len(_utf16(left[1])) // 2 == expected
    if left[0] in ("json", "literal") and isinstance(left[1], list):
        return len(left[1]) == expected
    return False


def _empty(left: Node, right: Node) -> bool:
    if left[0] not in ("string", "json", "literal"):
        return False
    if right[0] != "bool":
        raise Rejected("'empty' needs true or false on its right")
    return (len(left[1]) == 0) is bool(right[1])


OPERATIONS: dict[str, Callable[[Node, Node], bool]] = {
    "==": _node_equals,
    "!=": lambda left, right: not _node_equals(left, right),
    "<": _ordering(lambda c: c < 0),
    "<=": _ordering(lambda c: c <= 0),
    ">": _ordering(lambda c: c > 0),
    ">=": _ordering(lambda c: c >= 0),
    "=~": _matches,
    "in": _contained,
    "nin": lambda left, right: not _contained(left, right),
    "size": _size,
    "empty": _empty,
}
