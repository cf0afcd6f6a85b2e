"""Tokens of a Groovy mapping script, with Groovy's rules for literals (SPEC §6.2).

Divolte runs mapping scripts with Groovy, so a literal's type is Groovy's: ``42`` is an Integer, ``42L`` a
Long, ``42.0D`` a Double, ``42.0F`` a Float and a plain ``42.0`` a BigDecimal (which Divolte cannot map).
Strings come in single, double and triple quotes, and as slashy ``/…/`` and dollar-slashy ``$/…/$`` strings
(the usual way to write a regex: only ``\\/`` is an escape). A ``$name``, ``$a.b`` or ``${…}`` inside a
double-quoted, slashy or dollar-slashy string makes it a GString (token kind ``gstring``): its parts are
kept, with each interpolated expression's source and position, for the parser to read and the evaluation
to fill in with values known at start-up. Comments are kept aside so that ``convert-mapping`` can carry
them into the Python it prints.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from collector.errors import MappingError
from collector.mapping.groovy.numbers import NUMBER, number_value


@dataclass(frozen=True, slots=True)
class Token:
    kind: str
    """``name``, ``string``, ``gstring``, ``number``, ``op``, ``newline`` or ``eof``."""
    text: str
    line: int
    column: int
    value: Any = None
    """Strings: the text; GStrings: a tuple of text and ``Interpolation`` parts; numbers: the Python value."""
    java: str = ""
    """Literals: Groovy's type (``String``, ``Integer``, ``Long``, ``Float``, ``Double``, ``BigDecimal``…)."""
    space_before: bool = False


@dataclass(frozen=True, slots=True)
class Interpolation:
    """``$name``, ``$a.b`` or ``${expression}`` in a GString: the expression's source and where it starts."""

    source: str
    line: int
    column: int


@dataclass(frozen=True, slots=True)
class Comment:
    line: int
    text: str
    """Without the comment markers; one entry per line of a block comment."""
    trailing: bool
    """True when code precedes the comment on its line."""


OPERATORS = [  # longest first
    ">>>=", "...", "..<", "<=>", "===", "!==", "**=", "<<=", ">>=", ">>>", "==~", "?.", "*.", ".&", ".@", "?:",
    "->", "==", "!=", "<=", ">=", "&&", "||", "++", "--", "+=", "-=", "*=", "/=", "%=", "&=", "|=", "^=", "<<",
    ">>", "**", "=~", "..", "::", "(", ")", "[", "]", "{", "}", ",", ".", ";", ":", "=", "<", ">", "!", "~", "?",
    "+", "-", "*", "/", "%", "&", "|", "^", "@",
]  # fmt: skip
_ENDS_OPERAND = {")", "]", "}"}
_KEYWORDS_BEFORE_OPERAND = {"return", "in", "case", "assert", "throw", "else", "instanceof", "as", "new"}
_ESCAPES = {"b": "\b", "t": "\t", "n": "\n", "f": "\f", "r": "\r", "\\": "\\", "'": "'", '"': '"', "$": "$"}
_IDENTIFIER = re.compile(r"(?:[^\W\d]|\$)[\w$]*")
_PROPERTY_PATH = re.compile(r"[^\W\d]\w*(?:\.[^\W\d]\w*)*")
"""What ``$`` starts in a GString: a name and any ``.name`` after it (Groovy reads ``"$a.b"`` as ``a.b``)."""


class _Parts:
    """A string literal being read: its text, and the interpolations that make it a GString."""

    def __init__(self) -> None:
        self._parts: list[str | Interpolation] = []
        self._chars: list[str] = []
        self.interpolated = False

    def text(self, text: str) -> None:
        self._chars.append(text)

    def interpolate(self, part: Interpolation) -> None:
        self._flush()
        self._parts.append(part)
        self.interpolated = True

    def _flush(self) -> None:
        if self._chars:
            self._parts.append("".join(self._chars))
            self._chars = []

    def joined(self) -> str:
        return "".join(self._chars)

    def parts(self) -> tuple[str | Interpolation, ...]:
        self._flush()
        return tuple(self._parts)


class Lexer:
    def __init__(self, source: str, file: str, line: int = 1, column: int = 1) -> None:
        """``line`` and ``column``: where ``source`` starts in the file (a GString's ``${…}`` starts mid-line)."""
        self.source = source.replace("\r\n", "\n").replace("\r", "\n")
        self.file = file
        self.pos = 0
        self.first_line, self.first_column = line, column
        self.line = line
        self.line_start = 1 - column
        self.tokens: list[Token] = []
        self.comments: list[Comment] = []
        self.token_start = (line, column)

    def error(self, message: str, pos: int | None = None) -> MappingError:
        pos = self.pos if pos is None else pos
        newlines = self.source.count("\n", 0, pos)
        column = pos - (self.source.rfind("\n", 0, pos) + 1) + 1
        if not newlines:
            column += self.first_column - 1
        return MappingError(f"{self.file}:{self.first_line + newlines}:{column}: {message}")

    def _column(self, pos: int) -> int:
        return pos - self.line_start + 1

    def _newline(self, pos: int) -> None:
        self.line += 1
        self.line_start = pos + 1

    def _operand_expected(self, space_before: bool, next_char: str) -> bool:
        """Whether a ``/`` here starts a slashy string rather than being a division (as Groovy decides)."""
        if not self.tokens or self.tokens[-1].kind == "newline":
            return True
        last = self.tokens[-1]
        if last.kind == "name":
            if last.text in _KEYWORDS_BEFORE_OPERAND:
                return True
            return space_before and not next_char.isspace() and next_char != "="  # `match /re/ against …`
        return not (last.kind in ("number", "string") or last.text in _ENDS_OPERAND)

    def tokenize(self) -> tuple[list[Token], list[Comment]]:
        src = self.source
        if src.startswith("#!"):
            self.pos = src.find("\n") if "\n" in src else len(src)
        space_before = False
        while self.pos < len(src):
            char = src[self.pos]
            start = self.pos
            self.token_start = (self.line, self._column(start))
            if char == "\n":
                self._add("newline", "\n", start, space_before)
                self._newline(self.pos)
                self.pos += 1
                space_before = False
                continue
            if char in " \t\f":
                self.pos += 1
                space_before = True
                continue
            if src.startswith("//", self.pos):
                end = src.find("\n", self.pos)
                end = len(src) if end < 0 else end
                self._comment(src[self.pos + 2 : end], start)
                self.pos = end
                continue
            if src.startswith("/*", self.pos):
                end = src.find("*/", self.pos + 2)
                if end < 0:
                    raise self.error("this /* comment is never closed with */")
                text = src[self.pos + 2 : end]
                self._comment(text, start)
                for offset, ch in enumerate(text):
                    if ch == "\n":
                        self._newline(self.pos + 2 + offset)
                self.pos = end + 2
                space_before = True
                continue
            next_char = src[self.pos + 1] if self.pos + 1 < len(src) else ""
            if char in "'\"":
                self._quoted(char)
            elif char == "/" and self._operand_expected(space_before, next_char):
                self._slashy()
            elif src.startswith("$/", self.pos) and self._operand_expected(space_before, "x"):
                self._dollar_slashy()
            elif char.isdigit():
                self._number()
            elif match := _IDENTIFIER.match(src, self.pos):
                self.pos = match.end()
                self._add("name", match.group(), start, space_before)
            else:
                for op in OPERATORS:
                    if src.startswith(op, self.pos):
                        self.pos += len(op)
                        self._add("op", op, start, space_before)
                        break
                else:
                    raise self.error(f"unexpected character {char!r}")
            space_before = False
        self.token_start = (self.line, self._column(self.pos))
        self._add("newline", "\n", self.pos, False)
        self.tokens.append(Token("eof", "", self.line, self._column(self.pos)))
        return self.tokens, self.comments

    def _add(self, kind: str, text: str, start: int, space: bool, value: Any = None, java: str = "") -> None:
        line, column = self.token_start
        self.tokens.append(Token(kind, text, line, column, value, java, space))

    def _comment(self, text: str, start: int) -> None:
        line = self.line
        trailing = self.source[self.source.rfind("\n", 0, start) + 1 : start].strip() != ""
        parts = [part.strip() for part in text.split("\n")]
        parts = [part[1:].strip() if offset and part.startswith("*") else part for offset, part in enumerate(parts)]
        parts[0] = parts[0].lstrip("*").strip()  # /** doc comments
        first = next((offset for offset, part in enumerate(parts) if part), len(parts))
        last = max((offset for offset, part in enumerate(parts) if part), default=-1)
        for offset in range(first, last + 1):  # without the empty lines that open and close a /* … */ block
            self.comments.append(Comment(line + offset, parts[offset], trailing and offset == 0))

    def _escape(self, pos: int) -> tuple[str, int]:
        """One escape sequence at ``pos`` (the backslash) in a quoted string: the character and the next position."""
        src = self.source
        char = src[pos + 1] if pos + 1 < len(src) else ""
        if char in _ESCAPES:
            return _ESCAPES[char], pos + 2
        if char == "u":
            digits = src[pos + 2 : pos + 6]
            if len(digits) == 4 and all(c in "0123456789abcdefABCDEF" for c in digits):
                return chr(int(digits, 16)), pos + 6
        if char in "01234567":
            match = re.compile(r"[0-3][0-7]{0,2}|[4-7][0-7]?").match(src, pos + 1)
            assert match is not None
            return chr(int(match.group(), 8)), match.end()
        if char == "\n":
            self._newline(pos + 1)
            return "", pos + 2
        raise self.error(
            f"'\\{char}' is not an escape Groovy knows in a quoted string; write '\\\\{char}' for a backslash, "
            "or use a slashy string /…/ for a regular expression",
            pos,
        )

    def _quoted(self, quote: str) -> None:
        src, start = self.source, self.pos
        triple = src.startswith(quote * 3, start)
        delimiter = quote * 3 if triple else quote
        pos = start + len(delimiter)
        out = _Parts()
        while True:
            if pos >= len(src) or (not triple and src[pos] == "\n"):
                raise self.error(f"this string is never closed with {delimiter}", start)
            if src.startswith(delimiter, pos):
                break
            char = src[pos]
            if char == "\\":
                text, pos = self._escape(pos)
                out.text(text)
                continue
            if char == "$" and quote == '"':
                pos = self._interpolation(pos, out, delimiter, always=True)
                continue
            if char == "\n":
                self._newline(pos)
            out.text(char)
            pos += 1
        self.pos = pos + len(delimiter)
        self._add_string(start, out)

    def _add_string(self, start: int, parts: _Parts) -> None:
        kind, value, java = (
            ("gstring", parts.parts(), "GString") if parts.interpolated else ("string", parts.joined(), "String")
        )
        self._add(kind, self.source[start : self.pos], start, self._space(start), value, java)

    def _space(self, start: int) -> bool:
        return start > 0 and self.source[start - 1] in " \t"

    def _interpolation(self, pos: int, out: _Parts, closing: str, always: bool = False) -> int:
        """A ``$`` at ``pos`` in a GString: add the part it starts (or the ``$`` itself), return the next position.

        Groovy reads ``${expression}`` and ``$name`` followed by ``.name`` parts (a property path); in slashy
        strings a ``$`` before anything else is a plain dollar sign (a regex's end anchor), in double quotes it
        is an error (``always``).
        """
        src = self.source
        after = src[pos + 1] if pos + 1 < len(src) else ""
        line, column = self.line, self._column(pos)
        if after == "{":
            depth, end = 0, pos + 1
            while end < len(src):
                depth += {"{": 1, "}": -1}.get(src[end], 0)
                if depth == 0:
                    break
                end += 1
            else:
                raise self.error("this ${ is never closed with }", pos)
            inner = src[pos + 2 : end]
            if not inner.strip():
                raise self.error("an empty ${} interpolates nothing: write the expression inside the braces", pos)
            for offset, char in enumerate(inner):
                if char == "\n":
                    self._newline(pos + 2 + offset)
            out.interpolate(Interpolation(inner, line, column + 2))
            return end + 1
        match = _PROPERTY_PATH.match(src, pos + 1)
        if match is not None and not src.startswith(closing, pos + 1):
            out.interpolate(Interpolation(match.group(), line, column + 1))
            return match.end()
        if always:
            raise self.error("a $ in a double-quoted string starts an interpolation ($name or ${…}): write \\$ "
                             "for a dollar sign, or use single quotes", pos)  # fmt: skip
        out.text("$")
        return pos + 1

    def _slashy(self) -> None:
        src, start = self.source, self.pos
        pos = start + 1
        out = _Parts()
        while True:
            if pos >= len(src):
                raise self.error("this slashy string /… is never closed with /", start)
            char = src[pos]
            if char == "/":
                break
            if char == "\\" and src.startswith("/", pos + 1):
                out.text("/")
                pos += 2
                continue
            if char == "\\" and src.startswith("$", pos + 1):  # a regex's escaped dollar sign, not an interpolation
                out.text("\\$")
                pos += 2
                continue
            if char == "$":
                pos = self._interpolation(pos, out, "/")
                continue
            if char == "\n":
                self._newline(pos)
            out.text(char)
            pos += 1
        self.pos = pos + 1
        self._add_string(start, out)

    def _dollar_slashy(self) -> None:
        src, start = self.source, self.pos
        pos = start + 2
        out = _Parts()
        while True:
            if pos >= len(src):
                raise self.error("this dollar-slashy string $/… is never closed with /$", start)
            if src.startswith("/$", pos):
                break
            if src.startswith("$$", pos) or src.startswith("$/", pos):
                out.text(src[pos + 1])
                pos += 2
                continue
            if src[pos] == "$":
                pos = self._interpolation(pos, out, "/$")
                continue
            if src[pos] == "\n":
                self._newline(pos)
            out.text(src[pos])
            pos += 1
        self.pos = pos + 2
        self._add_string(start, out)

    def _number(self) -> None:
        start = self.pos
        match = NUMBER.match(self.source, start)
        assert match is not None
        text = match.group()
        end = match.end()
        if end < len(self.source) and (self.source[end].isalnum() or self.source[end] in "_$"):
            raise self.error(f"'{text}{self.source[end]}' is not a number Groovy knows", start)
        try:
            value, java = number_value(text)
        except ValueError as exc:
            raise self.error(str(exc), start) from None
        self.pos = end
        self._add("number", text, start, self._space(start), value, java)


def tokenize(source: str, file: str, line: int = 1, column: int = 1) -> tuple[list[Token], list[Comment]]:
    return Lexer(source, file, line, column).tokenize()
