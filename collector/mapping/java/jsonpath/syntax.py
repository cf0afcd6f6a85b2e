"""Read the text of a JsonPath into steps, with Jayway 2.4's grammar, and refuse what it cannot mean.

Divolte compiles every ``eventParameters().path(…)`` when the mapping loads, so a malformed path stops the
collector from starting, with the position of the problem; so does this. The grammar is Jayway's: ``$``
or ``@`` then steps (``.name``, ``..name``, ``.*``, ``['a','b']``, ``[0]``, ``[0,2]``, ``[1:3]``, ``[*]``,
``[?( … )]``); a path without a root is read as ``$.`` + path, looking for the root before trimming
(so ``" $.a"`` is refused, as in Jayway). Where Jayway is lenient by accident it is not imitated: after a
bracket or ``*`` step only ``.``, ``[`` or the end may follow (Jayway reads ``$['a']bc`` as ``$.a.bc`` but
drops a single last character, reading ``$[0]*`` as ``$[0]``). Functions (``length()`` …) are not
implemented and ``[?]`` placeholders cannot work in a mapping (nothing supplies their predicates), so
both are refused rather than left to fail on every event.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import NoReturn

from collector.errors import MappingError
from collector.mapping.java.jsonpath.filter_syntax import FilterCompiler, FilterSyntaxError
from collector.mapping.java.jsonpath.filters import Operand, Predicate
from collector.mapping.java.jsonpath.text import next_unescaped, unescape

_JAVA_WHITESPACE = "".join(chr(code) for code in range(33))
"""What Java's ``String.trim()`` removes: every character up to and including the space."""
_INT32 = (-(2**31), 2**31 - 1)


@dataclass(frozen=True)
class Property:
    """``.name`` or ``['a','b']``: one or more property names."""

    names: tuple[str, ...]


@dataclass(frozen=True)
class Index:
    """``[0]`` or ``[0,-1]``: one or more array indexes (negative ones count from the end)."""

    indexes: tuple[int, ...]


@dataclass(frozen=True)
class Slice:
    """``[1:3]``, ``[-2:]``, ``[:2]``: a range of array indexes."""

    start: int | None
    stop: int | None


@dataclass(frozen=True)
class Wildcard:
    """``.*`` or ``[*]``: every member of an object or element of an array."""


@dataclass(frozen=True)
class Scan:
    """``..``: every object and array below, offered to the next step."""


@dataclass(frozen=True)
class Filter:
    """``[?( … )]``: the object, or the array elements, that pass a predicate."""

    predicate: Predicate


Token = Property | Index | Slice | Wildcard | Scan | Filter


def token_definite(token: Token, leaf: bool) -> bool:
    """Tell whether a step selects at most one value (Jayway's ``isTokenDefinite``)."""
    if isinstance(token, Property):
        return len(token.names) == 1 or leaf
    if isinstance(token, Index):
        return len(token.indexes) == 1
    return False


def parse_path(expression: str, compile_operand: Callable[[str], Operand]) -> tuple[tuple[Token, ...], bool, bool]:
    """Read a path into its steps; return them, whether the path is definite and whether it starts at ``@``.

    ``compile_operand`` compiles the paths inside filters. Raises ``MappingError`` naming the position.
    """
    return _Reader(expression, compile_operand).read()


class _Reader:
    """Reads the text of one path into steps, failing with the position of the first problem."""

    def __init__(self, expression: str, compile_operand: Callable[[str], Operand]) -> None:
        self.expression = expression
        self.compile_operand_fn = compile_operand
        if not expression.strip(_JAVA_WHITESPACE):
            self.fail("the path is empty", 0, expression)
        # Like Jayway: the root is looked for before trimming, so " $.a" becomes "$. $.a", which is refused.
        text = expression if expression[0] in "$@" else "$." + expression
        self.text = text.strip(_JAVA_WHITESPACE)
        self.tokens: list[Token] = []

    def fail(self, reason: str, position: int, text: str | None = None) -> NoReturn:
        text = self.text if text is None else text
        shown = "" if text == self.expression else f" (read as {text!r})"
        raise MappingError(f"invalid JsonPath {self.expression!r}{shown}: {reason} at position {position}")

    def skip_spaces(self, position: int) -> int:
        while position < len(self.text) and self.text[position] == " ":
            position += 1
        return position

    def read(self) -> tuple[tuple[Token, ...], bool, bool]:
        text = self.text
        if text.endswith("."):
            self.fail("a path must not end with '.' or '..'", len(text) - 1)
        if len(text) > 1 and text[1] not in ".[":
            self.fail("expected '.' or '[' after the root", 1)
        position = 1
        while position < len(text):
            if text[position] == ".":
                if text.startswith("..", position):
                    self.tokens.append(Scan())
                    position += 2
                else:
                    position += 1
                if text[position] == ".":
                    self.fail("'.' is not valid here", position)
            elif self.tokens and not isinstance(self.tokens[-1], Scan) and text[position] != "[":
                # Jayway reads "$['a']bc" as $.a.bc but silently drops a single last character ("$[0]*" is
                # $[0]); neither is worth imitating, so a step must be followed by '.', '[' or the end.
                self.fail("expected '.' or '[' after a step", position)
            position = self.read_step(position)
        tokens = tuple(self.tokens)
        last = len(tokens) - 1
        definite = all(token_definite(token, index == last) for index, token in enumerate(tokens))
        return tokens, definite, text[0] == "@"

    def read_step(self, position: int) -> int:
        """Read the step at ``position`` (a bracket, ``*`` or a name); return the position after it."""
        text = self.text
        char = text[position]
        if char == "[":
            return self.read_bracket(position)
        if char == "*":
            self.tokens.append(Wildcard())
            return position + 1
        end = position
        while end < len(text) and text[end] not in ".[(":
            if text[end] == " ":
                self.fail("use bracket notation ['my prop'] if a name contains blank characters", end)
            end += 1
        if end < len(text) and text[end] == "(":
            self.fail(f"functions such as {text[position:end]}() are not supported", position)
        self.tokens.append(Property((text[position:end],)))
        return end

    def read_bracket(self, position: int) -> int:
        text = self.text
        inner = self.skip_spaces(position + 1)
        if inner >= len(text):
            self.fail("'[' is not closed", position)
        char = text[inner]
        if char in "'\"":
            return self.read_names(inner, char)
        if char in "0123456789-:":
            return self.read_indexes(position)
        if char == "*":
            close = self.skip_spaces(inner + 1)
            if close >= len(text) or text[close] != "]":
                self.fail("expected ']' after '*'", inner + 1)
            self.tokens.append(Wildcard())
            return close + 1
        if char == "?":
            return self.read_filter(position, inner)
        self.fail("could not parse the step; expected a quote, a digit, '-', ':', '*' or '?'", position)

    def read_names(self, position: int, quote: str) -> int:
        """``['a']``, ``["a"]``, ``['a','b']``: quoted names with backslash escapes."""
        text = self.text
        names: list[str] = []
        while True:
            if position >= len(text) or text[position] != quote:
                self.fail(f"expected a name quoted with {quote}", position)
            end = next_unescaped(text, position, quote)
            if end < 0:
                self.fail(f"name not closed; missing closing {quote}", position)
            try:
                names.append(unescape(text[position + 1 : end]))
            except ValueError as exc:
                self.fail(str(exc), position)
            position = self.skip_spaces(end + 1)
            if position < len(text) and text[position] == "]":
                self.tokens.append(Property(tuple(names)))
                return position + 1
            if position >= len(text) or text[position] != ",":
                self.fail("names must be separated by ',' and closed by ']'", position)
            position = self.skip_spaces(position + 1)

    def read_indexes(self, position: int) -> int:
        """``[0]``, ``[-1]``, ``[0,2]``, ``[1:3]``, ``[-2:]``, ``[:2]``."""
        text = self.text
        close = text.find("]", position)
        if close < 0:
            self.fail("'[' is not closed", position)
        expression = text[position + 1 : close].strip(_JAVA_WHITESPACE)
        if any(char not in "0123456789,-: " for char in expression):
            self.fail(f"invalid array index or slice {expression!r}", position)
        if ":" in expression:
            parts = expression.split(":")
            while parts and parts[-1] == "":
                parts.pop()
            bounds = [self.integer(part, position) if part else None for part in parts[:2]]
            bounds += [None] * (2 - len(bounds))
            if bounds == [None, None]:
                self.fail(f"invalid slice {expression!r}", position)
            self.tokens.append(Slice(bounds[0], bounds[1]))
        else:
            parts = [part.strip(" ") for part in expression.split(",")]
            self.tokens.append(Index(tuple(self.integer(part, position) for part in parts)))
        return close + 1

    def integer(self, text: str, position: int) -> int:
        """Java's ``Integer.parseInt`` on an index: optional ``-``, ASCII digits, in the ``int`` range."""
        digits = text[1:] if text.startswith("-") else text
        if not digits or not digits.isascii() or not digits.isdigit() or len(digits.lstrip("0")) > 10:
            self.fail(f"invalid array index {text!r}", position)
        value = int(text)
        if not _INT32[0] <= value <= _INT32[1]:
            self.fail(f"array index {text!r} is out of range", position)
        return value

    def read_filter(self, position: int, question: int) -> int:
        """``[?( … )]``: find the parenthesised expression (skipping strings and /regex/) and compile it."""
        text = self.text
        open_paren = self.skip_spaces(question + 1)
        if open_paren >= len(text) or text[open_paren] != "(":
            self.fail("filter placeholders [?] are not supported; write the filter inline as [?( … )]", position)
        depth = 0
        cursor = open_paren
        close = -1
        while cursor < len(text):
            char = text[cursor]
            if char in "'\"/":
                cursor = next_unescaped(text, cursor, char)
                if cursor < 0:
                    self.fail(f"no closing {char} in the filter", position)
            elif char == "(":
                depth += 1
            elif char == ")":
                depth -= 1
                if depth == 0:
                    close = cursor
                    break
            cursor += 1
        end = self.skip_spaces(close + 1) if close >= 0 else len(text)
        if close < 0 or end >= len(text) or text[end] != "]":
            self.fail("a filter must look like [?( … )]", position)
        body = text[open_paren + 1 : close]
        try:
            predicate = FilterCompiler(body, self.compile_operand).compile()
        except FilterSyntaxError as exc:
            self.fail(f"in the filter: {exc.reason}", open_paren + 1 + exc.position)
        self.tokens.append(Filter(predicate))
        return end + 1

    def compile_operand(self, text: str) -> Operand:
        """Compile a path used inside a filter (``@.price``, ``$.limit``)."""
        try:
            return self.compile_operand_fn(text)
        except MappingError as exc:
            raise FilterSyntaxError(f"invalid path {text!r} ({exc})", 0) from exc
