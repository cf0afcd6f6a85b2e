"""Split request header occurrences into values the way Divolte's ``HeaderValueParser`` does (SPEC §6.4).

``header('Name')`` in a mapping yields a list of values, not the raw header lines: every occurrence of the
header is split on commas outside double quotes, in order, and empty values are dropped. Mappings written
for Divolte rely on the exact results (``.first()``, ``.get(-1)``, ``.commaSeparated()``), so the quirks of
Divolte's scanner are kept on purpose:

* whitespace (SP and HT only) around a value is removed and any run of it between two parts of a value
  becomes one space, but only once a part has been seen: the flag that inserts the space stays set for the
  rest of the value, so ``foo bar"baz"`` gives ``foo bar baz`` while ``foo"bar"baz`` gives ``foobarbaz``;
* a quoted string loses its quotes, ``\\x`` escapes become ``x``, and whitespace inside it is kept as is;
* an empty quoted string after whitespace still adds the separating space (``a ""`` gives ``"a "``);
* an unterminated quoted string or a trailing backslash yields the text read so far.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

_WHITESPACE = " \t"
_TOKEN_END = ', \t"'


def _skip_whitespace(text: str, pos: int) -> int:
    """Return the position of the first character at or after ``pos`` that is not SP or HT."""
    end = len(text)
    while pos < end and text[pos] in _WHITESPACE:
        pos += 1
    return pos


def _read_quoted(text: str, pos: int, out: list[str]) -> int:
    """Append the content of the quoted string whose opening quote is just before ``pos``; return the end.

    Escapes are resolved; an unterminated string (or a final lone backslash) ends the input quietly.
    """
    end = len(text)
    while pos < end:
        char = text[pos]
        if char == '"':
            return pos + 1
        if char == "\\":
            if pos + 1 < end:
                out.append(text[pos + 1])
            pos += 2
            continue
        out.append(char)
        pos += 1
    return end


def _read_token(text: str, pos: int, out: list[str]) -> int:
    """Append the unquoted run starting at ``pos`` (at least one character); return where it stops."""
    end = len(text)
    stop = pos + 1
    while stop < end and text[stop] not in _TOKEN_END:
        stop += 1
    out.append(text[pos:stop])
    return stop


def _read_value(text: str, pos: int) -> tuple[str, int]:
    """Read one comma-separated value starting at ``pos``; return it (maybe empty) and the next position."""
    end = len(text)
    out: list[str] = []
    pos = _skip_whitespace(text, pos)
    space_pending = False
    while pos < end:
        char = text[pos]
        if char == ",":
            return "".join(out), pos + 1
        if space_pending:
            out.append(" ")
        pos = _read_quoted(text, pos + 1, out) if char == '"' else _read_token(text, pos, out)
        if pos < end and text[pos] in _WHITESPACE:
            space_pending = True
            pos = _skip_whitespace(text, pos)
    return "".join(out), pos


def _values(occurrence: str) -> Iterator[str]:
    """Yield the non-empty values of one header occurrence, in order."""
    pos = 0
    end = len(occurrence)
    while pos < end:
        value, pos = _read_value(occurrence, pos)
        if value:
            yield value


def split_header_values(occurrences: Iterable[str]) -> list[str]:
    """Return the normalised values of every occurrence of one header, in order, empty values dropped."""
    values: list[str] = []
    for occurrence in occurrences:
        values.extend(_values(occurrence))
    return values
