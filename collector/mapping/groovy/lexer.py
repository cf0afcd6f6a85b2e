"""Tokens of a Groovy mapping script, with Groovy's rules for literals (SPEC §6.2).

Divolte runs mapping scripts with Groovy, so a literal's type is Groovy's: ``42`` is an Integer, ``42L`` a
Long, ``42.0D`` a Double, ``42.0F`` a Float and a plain ``42.0`` a BigDecimal (which Divolte cannot map).
Strings come in single, double and triple quotes, and as slashy ``/…/`` and dollar-slashy ``$/…/$`` strings
(the usual way to write a regex: only ``\\/`` is an escape). A ``$`` that would interpolate (a GString) is
refused here: a mapping's strings are constants. Comments are kept aside so that ``convert-mapping`` can
carry them into the Python it prints.
"""

from __future__ import annotations

import re
import struct
from dataclasses import dataclass
from typing import Any

from collector.errors import MappingError


@dataclass(frozen=True, slots=True)
class Token:
    kind: str
    """``name``, ``string``, ``number``, ``op``, ``newline`` or ``eof``."""
    text: str
    line: int
    column: int
    value: Any = None
    """Strings: the text; numbers: the Python value."""
    java: str = ""
    """Literals: Groovy's type (``String``, ``Integer``, ``Long``, ``Float``, ``Double``, ``BigDecimal``…)."""
    space_before: bool = False


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
_NUMBER = re.compile(
    r"0[xX][0-9a-fA-F](?:[0-9a-fA-F_]*[0-9a-fA-F])?[lLiIgG]?"
    r"|0[bB][01](?:[01_]*[01])?[lLiIgG]?"
    r"|\d(?:[\d_]*\d)?(?:\.\d(?:[\d_]*\d)?)?(?:[eE][+-]?\d+)?[lLiIgGdDfF]?"
)
_IDENTIFIER = re.compile(r"(?:[^\W\d]|\$)[\w$]*")


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


class Lexer:
    def __init__(self, source: str, file: str) -> None:
        self.source = source.replace("\r\n", "\n").replace("\r", "\n")
        self.file = file
        self.pos = 0
        self.line = 1
        self.line_start = 0
        self.tokens: list[Token] = []
        self.comments: list[Comment] = []
        self.token_start = (1, 1)

    def error(self, message: str, pos: int | None = None) -> MappingError:
        pos = self.pos if pos is None else pos
        line = self.source.count("\n", 0, pos) + 1
        column = pos - (self.source.rfind("\n", 0, pos) + 1) + 1
        return MappingError(f"{self.file}:{line}:{column}: {message}")

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
        out: list[str] = []
        while True:
            if pos >= len(src) or (not triple and src[pos] == "\n"):
                raise self.error(f"this string is never closed with {delimiter}", start)
            if src.startswith(delimiter, pos):
                break
            char = src[pos]
            if char == "\\":
                text, pos = self._escape(pos)
                out.append(text)
                continue
            if char == "$" and quote == '"':
                raise self.error(
                    "string interpolation ($…) is not supported: a mapping's strings are constants. Use single "
                    "quotes, or write \\$ for a dollar sign",
                    pos,
                )
            if char == "\n":
                self._newline(pos)
            out.append(char)
            pos += 1
        self.pos = pos + len(delimiter)
        self._add("string", src[start : self.pos], start, self._space(start), "".join(out), "String")

    def _space(self, start: int) -> bool:
        return start > 0 and self.source[start - 1] in " \t"

    def _check_dollar(self, pos: int, closing: str) -> None:
        after = self.source[pos + 1] if pos + 1 < len(self.source) else ""
        if (after.isalpha() or after in "_{") and not self.source.startswith(closing, pos + 1):
            raise self.error(
                "string interpolation ($…) is not supported: a mapping's strings are constants. A regex that "
                "should match a dollar sign writes \\$",
                pos,
            )

    def _slashy(self) -> None:
        src, start = self.source, self.pos
        pos = start + 1
        out: list[str] = []
        while True:
            if pos >= len(src):
                raise self.error("this slashy string /… is never closed with /", start)
            char = src[pos]
            if char == "/":
                break
            if char == "\\" and src.startswith("/", pos + 1):
                out.append("/")
                pos += 2
                continue
            if char == "$":
                self._check_dollar(pos, "/")
            if char == "\n":
                self._newline(pos)
            out.append(char)
            pos += 1
        self.pos = pos + 1
        self._add("string", src[start : self.pos], start, self._space(start), "".join(out), "String")

    def _dollar_slashy(self) -> None:
        src, start = self.source, self.pos
        pos = start + 2
        out: list[str] = []
        while True:
            if pos >= len(src):
                raise self.error("this dollar-slashy string $/… is never closed with /$", start)
            if src.startswith("/$", pos):
                break
            if src.startswith("$$", pos) or src.startswith("$/", pos):
                out.append(src[pos + 1])
                pos += 2
                continue
            if src[pos] == "$":
                self._check_dollar(pos, "/$")
            if src[pos] == "\n":
                self._newline(pos)
            out.append(src[pos])
            pos += 1
        self.pos = pos + 2
        self._add("string", src[start : self.pos], start, self._space(start), "".join(out), "String")

    def _number(self) -> None:
        start = self.pos
        match = _NUMBER.match(self.source, start)
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


def tokenize(source: str, file: str) -> tuple[list[Token], list[Comment]]:
    return Lexer(source, file).tokenize()
