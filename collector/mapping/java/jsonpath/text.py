"""Read backslash escapes in JsonPath names and string literals the way Jayway's ``Utils.unescape`` does.

Quoted names (``$['it\\'s']``) and filter strings (``@.a == 'x\\ny'``) are unescaped by Jayway with its own
rules (``\\uXXXX``, the usual single-letter escapes, any other escaped character kept), which differ from
JSON's; both the path and the filter readers need them, so they live here.
"""

from __future__ import annotations


def unescape(text: str) -> str:
    """Resolve backslash escapes in a quoted name or string literal the way Jayway's ``Utils.unescape`` does.

    ``\\n \\t \\r \\f \\b \\uXXXX`` and ``\\`` before any other character (which is kept); a trailing
    backslash stays. Raises ``ValueError`` for a malformed ``\\u`` escape.
    """
    if "\\" not in text:
        return text
    out: list[str] = []
    simple = {"r": "\r", "f": "\f", "t": "\t", "n": "\n", "b": "\b"}
    pos = 0
    while pos < len(text):
        char = text[pos]
        if char != "\\":
            out.append(char)
            pos += 1
            continue
        if pos + 1 >= len(text):
            out.append("\\")
            break
        escaped = text[pos + 1]
        if escaped == "u":
            digits = text[pos + 2 : pos + 6]
            if len(digits) < 4 or not all(c in "0123456789abcdefABCDEF" for c in digits):
                raise ValueError(f"malformed \\u escape {text[pos : pos + 6]!r}")
            out.append(chr(int(digits, 16)))
            pos += 6
            continue
        out.append(simple.get(escaped, escaped))
        pos += 2
    return "".join(out)


def next_unescaped(text: str, start: int, char: str) -> int:
    """Return the index of the first ``char`` after ``start`` not preceded by a backslash, or -1."""
    pos = start + 1
    while pos < len(text):
        if text[pos] == "\\":
            pos += 2
            continue
        if text[pos] == char:
            return pos
        pos += 1
    return -1
