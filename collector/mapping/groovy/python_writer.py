"""Python source text for a Groovy mapping, as ``divolte-collector convert-mapping`` prints it.

The Groovy translator (``groovy/__init__.py``) reports every statement it evaluates here, spelled in the Python DSL
(``map_(…).onto(…)``, ``with when(…):``, ``parse(…).to('int32')``); Groovy comments are carried over in
place and blank lines between statements kept, so the result reads like the file it came from.
"""

from __future__ import annotations

import keyword

from collector.mapping.groovy.lexer import Comment

INDENT = "    "


def python_string(text: str) -> str:
    """A Python literal for ``text``: a raw string when that spares backslashes (regular expressions)."""
    if "\\" in text and text.isprintable() and not text.endswith("\\"):
        for quote in ("'", '"'):
            if quote not in text:
                return f"r{quote}{text}{quote}"
    return repr(text)


class PythonWriter:
    """Lines of Python with their indentation, interleaved with the Groovy file's comments by line number."""

    def __init__(self, comments: tuple[Comment, ...], blank_lines: set[int], reserved: set[str]) -> None:
        self.lines: list[str] = []
        self.indent = 0
        self._comments = comments
        self._next_comment = 0
        self._blank_lines = blank_lines
        self._last_line = 0
        self._reserved = reserved | set(keyword.kwlist) | set(keyword.softkwlist)
        self._names: dict[str, str] = {}

    def variable(self, groovy_name: str) -> str:
        """The Python name for a Groovy variable: the same, unless it would hide a DSL name or is a keyword."""
        if groovy_name not in self._names:
            base = groovy_name.replace("$", "_")
            candidate, n = base, 1
            taken = self._reserved | set(self._names.values())
            while candidate in taken:
                candidate = f"{base}_" if n == 1 else f"{base}_{n}"
                n += 1
            self._names[groovy_name] = candidate
        return self._names[groovy_name]

    def _separate(self, line: int) -> None:
        gap = any(blank in self._blank_lines for blank in range(self._last_line + 1, line))
        if gap and self.lines and self.lines[-1] and not self.lines[-1].endswith(":"):
            self.lines.append("")
        self._last_line = max(self._last_line, line)

    def _flush_comments(self, before: int) -> None:
        while self._next_comment < len(self._comments) and self._comments[self._next_comment].line < before:
            comment = self._comments[self._next_comment]
            self._next_comment += 1
            self._separate(comment.line)
            self.lines.append(f"{INDENT * self.indent}# {comment.text}".rstrip())

    def emit(self, text: str, line: int) -> None:
        """A statement that came from Groovy line ``line``; a comment at the end of that line follows it."""
        self._flush_comments(line)
        self._separate(line)
        self.lines.append(INDENT * self.indent + text)
        while self._next_comment < len(self._comments) and self._comments[self._next_comment].line == line:
            self.lines[-1] += f"  # {self._comments[self._next_comment].text}"
            self._next_comment += 1

    def open_block(self, text: str, line: int) -> int:
        self.emit(text + ":", line)
        self.indent += 1
        return len(self.lines)

    def close_block(self, start: int) -> None:
        if not any(line.strip() and not line.strip().startswith("#") for line in self.lines[start:]):
            self.lines.append(INDENT * self.indent + "pass")
        self.indent -= 1

    def text(self, header: str) -> str:
        self._flush_comments(10**9)
        body = "\n".join(self.lines).strip("\n")
        return f"{header}\n\n{body}\n" if body else f"{header}\n"
