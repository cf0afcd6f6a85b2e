"""Read the text of a JsonPath filter (what is inside ``[?( … )]``) into predicates, as Jayway 2.4 reads it.

The reader follows Jayway's ``FilterCompiler``: ``||`` binds looser than ``&&``, ``!`` negates a
parenthesised expression, a path alone tests existence (``!`` before it tests absence, and is ignored
before a path that is then compared), and a path operand runs until a space, a relational character
(``<>=~!``) or a closing parenthesis, so ``@.a&&@.b`` without spaces is one odd path, as in Jayway.
Literals are strings in either quotes, numbers (as Java ``BigDecimal``), ``true``, ``false``, ``null``,
lists and objects (read permissively, single quotes allowed, like json-smart) and ``/regex/`` with an
optional ``i``. Operators Jayway has but this does not (``===``, ``subsetof``, ``anyof`` …) are refused,
so a mapping that uses them fails at start-up instead of silently selecting something else.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from collector.mapping.java.jsonpath.filters import (
    BIG_DECIMAL,
    AllOf,
    AnyOf,
    Compare,
    Exists,
    Node,
    Not,
    Operand,
    Predicate,
)
from collector.mapping.java.jsonpath.text import next_unescaped, unescape

_OPERATOR_CHARS = "<>=~!"
_WORD_OPERATORS = frozenset({"in", "nin", "size", "empty"})
_SYMBOL_OPERATORS = frozenset({"==", "!=", "<", "<=", ">", ">=", "=~"})
_UNSUPPORTED_OPERATORS = frozenset({"===", "!==", "ALL", "CONTAINS", "SUBSETOF", "ANYOF", "NONEOF", "TYPE", "MATCHES"})
_NUMBER_CHARS = frozenset("0123456789-+.eE")
_JSON_SCALAR = re.compile(r"-?[0-9.eE+-]+|true|false|null")


class FilterSyntaxError(ValueError):
    """A filter expression cannot be compiled; ``position`` is the offset in the filter text."""

    def __init__(self, reason: str, position: int) -> None:
        super().__init__(reason)
        self.reason = reason
        self.position = position


class _LiteralParser:
    """A permissive JSON reader for list/object literals (single-quoted strings allowed, like json-smart)."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def skip(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos] in " \t\r\n":
            self.pos += 1

    def parse(self) -> Any:
        value = self.value()
        self.skip()
        if self.pos != len(self.text):
            raise ValueError("unexpected text after the JSON literal")
        return value

    def value(self) -> Any:
        self.skip()
        if self.pos >= len(self.text):
            raise ValueError("unexpected end of the JSON literal")
        char = self.text[self.pos]
        if char in "[{":
            return self.container(char)
        if char in "'\"":
            end = next_unescaped(self.text, self.pos, char)
            if end < 0:
                raise ValueError("unterminated string in the JSON literal")
            raw = self.text[self.pos + 1 : end]
            self.pos = end + 1
            return unescape(raw)
        match = _JSON_SCALAR.match(self.text, self.pos)
        if match is None:
            raise ValueError(f"unexpected {char!r} in the JSON literal")
        self.pos = match.end()
        return json.loads(match.group())

    def container(self, opener: str) -> Any:
        closer = "]" if opener == "[" else "}"
        self.pos += 1
        items: list[Any] = []
        members: dict[str, Any] = {}
        self.skip()
        if self.text.startswith(closer, self.pos):
            self.pos += 1
            return items if opener == "[" else members
        while True:
            if opener == "[":
                items.append(self.value())
            else:
                key = self.value()
                self.skip()
                if not isinstance(key, str) or not self.text.startswith(":", self.pos):
                    raise ValueError("expected a quoted name and ':' in the JSON literal")
                self.pos += 1
                members[key] = self.value()
            self.skip()
            if self.text.startswith(",", self.pos):
                self.pos += 1
                continue
            if self.text.startswith(closer, self.pos):
                self.pos += 1
                return items if opener == "[" else members
            raise ValueError(f"expected ',' or {closer!r} in the JSON literal")


class FilterCompiler:
    """Recursive-descent compiler for the text inside ``[?( … )]``; positions are offsets into that text."""

    def __init__(self, text: str, compile_operand: Callable[[str], Operand]) -> None:
        self.text = text
        self.pos = 0
        self.compile_operand = compile_operand

    def fail(self, reason: str, position: int | None = None) -> FilterSyntaxError:
        return FilterSyntaxError(reason, self.pos if position is None else position)

    def skip(self) -> int:
        while self.pos < len(self.text) and self.text[self.pos] == " ":
            self.pos += 1
        return self.pos

    def peek(self) -> str:
        return self.text[self.pos] if self.skip() < len(self.text) else ""

    def compile(self) -> Predicate:
        predicate = self.read_or()
        if self.skip() < len(self.text):
            raise self.fail(f"expected the end of the filter instead of {self.text[self.pos :]!r}")
        return predicate

    def read_or(self) -> Predicate:
        parts = [self.read_and()]
        while self.text.startswith("||", self.skip()):
            self.pos += 2
            parts.append(self.read_and())
        return parts[0] if len(parts) == 1 else AnyOf(tuple(parts))

    def read_and(self) -> Predicate:
        parts = [self.read_operand()]
        while self.text.startswith("&&", self.skip()):
            self.pos += 2
            parts.append(self.read_operand())
        return parts[0] if len(parts) == 1 else AllOf(tuple(parts))

    def read_operand(self) -> Predicate:
        start = self.skip()
        if self.peek() == "!":
            self.pos += 1
            if self.peek() not in ("@", "$"):
                return Not(self.read_operand())
            self.pos = start
        if self.peek() == "(":
            self.pos += 1
            predicate = self.read_or()
            if self.peek() != ")":
                raise self.fail("expected ')'")
            self.pos += 1
            return predicate
        return self.read_relation()

    def read_relation(self) -> Predicate:
        negated = self.peek() == "!"
        if negated:
            self.pos += 1
        left = self.read_value()
        save = self.pos
        operator = self.read_operator()
        if operator is None:
            self.pos = save
            if isinstance(left, tuple):
                raise self.fail("expected a relational operator after a literal", save)
            return Exists(left, expected=not negated)
        return Compare(left, operator, self.read_value())

    def read_operator(self) -> str | None:
        begin = self.skip()
        end = begin
        if end < len(self.text) and self.text[end] in _OPERATOR_CHARS:
            while end < len(self.text) and self.text[end] in _OPERATOR_CHARS:
                end += 1
        else:
            while end < len(self.text) and self.text[end] != " ":
                end += 1
        word = self.text[begin:end]
        if word in _SYMBOL_OPERATORS or word.lower() in _WORD_OPERATORS:
            self.pos = end
            return word.lower()
        if word.upper() in _UNSUPPORTED_OPERATORS:
            raise self.fail(f"the filter operator {word!r} is not supported", begin)
        return None

    def read_value(self) -> Operand | Node:
        char = self.peek()
        if char in ("@", "$"):
            return self.read_path()
        if char == "!":
            raise self.fail("unexpected '!'")
        return self.read_literal()

    def read_path(self) -> Operand:
        begin = self.pos
        pos = begin + 1
        text = self.text
        while pos < len(text):
            if text[pos] == "[":
                close = text.find("]", pos)
                if close < 0:
                    raise self.fail("square brackets do not match", pos)
                pos = close + 1
                if pos >= len(text):
                    break
            if text[pos] in _OPERATOR_CHARS or text[pos] in " )":
                break
            pos += 1
        self.pos = pos
        return self.compile_operand(text[begin:pos])

    def read_literal(self) -> Node:
        text = self.text
        begin = self.pos
        char = self.peek()
        if char in ("'", '"'):
            end = next_unescaped(text, begin, char)
            if end < 0:
                raise self.fail(f"string not closed; expected {char}")
            self.pos = end + 1
            try:
                return ("string", unescape(text[begin + 1 : end]))
            except ValueError as exc:
                raise self.fail(str(exc), begin) from exc
        for word, node in (("true", ("bool", True)), ("false", ("bool", False)), ("null", ("null", None))):
            if char == word[0]:
                if not text.startswith(word, begin):
                    raise self.fail(f"expected {word}")
                self.pos = begin + len(word)
                return node
        if char and char in "[{":
            return self.read_json(begin)
        if char == "/":
            return self.read_pattern(begin)
        end = begin
        while end < len(text) and text[end] in _NUMBER_CHARS:
            end += 1
        if not BIG_DECIMAL.fullmatch(text[begin:end]):
            raise self.fail("expected a path, a string, a number, true, false, null, a list or a /regex/")
        self.pos = end
        return ("number", Decimal(text[begin:end]))

    def read_json(self, begin: int) -> Node:
        opener = self.text[begin]
        closer = "]" if opener == "[" else "}"
        depth = 0
        pos = begin
        while pos < len(self.text):
            char = self.text[pos]
            if char in ("'", '"'):
                pos = next_unescaped(self.text, pos, char)
                if pos < 0:
                    break
            elif char == opener:
                depth += 1
            elif char == closer:
                depth -= 1
                if depth == 0:
                    try:
                        value = _LiteralParser(self.text[begin : pos + 1]).parse()
                    except ValueError as exc:
                        raise self.fail(str(exc), begin) from exc
                    self.pos = pos + 1
                    return ("literal", value)
            pos += 1
        raise self.fail(f"JSON literal not closed; expected {closer!r}", begin)

    def read_pattern(self, begin: int) -> Node:
        end = next_unescaped(self.text, begin, "/")
        if end < 0:
            raise self.fail("pattern not closed; expected /")
        flags = 0
        pos = end + 1
        if self.text.startswith("i", pos):
            flags = re.IGNORECASE
            pos += 1
        try:
            pattern = re.compile(self.text[begin + 1 : end], flags)
        except re.error as exc:
            raise self.fail(f"invalid regular expression: {exc}", begin) from exc
        self.pos = pos
        return ("pattern", pattern)
