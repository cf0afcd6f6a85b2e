"""Copy configuration files into a scratch folder in the form pyhocon reads correctly and quickly.

Three rewrites, all keeping every line where it was (so pyhocon's line numbers stay true):

* ``include classpath("x")`` (which pyhocon does not know), ``include file("x")`` and ``include "x"``
  become includes of the absolute path of the staged copy of ``x``. A classpath name is looked up in
  ``collector/resources`` first, then beside the including file; a plain name the other way round.
* Comments are dropped (the line stays, empty): pyhocon spends most of its time on them.
* Environment substitutions are applied as text. pyhocon loses an earlier value when an object that sets
  ``port = 1`` then ``port = ${?DIVOLTE_PORT}`` is merged over another that did the same (which happens
  whenever ``reference.conf`` is layered twice, or a user copies its idiom), leaving null. So
  ``${?X}`` / ``${X}`` with ``X`` in the environment becomes the quoted value, and ``key = ${?X}`` with
  ``X`` absent is blanked out, which is what HOCON means by it. Other substitutions are left to pyhocon.
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection, Mapping
from pathlib import Path

RESOURCES = Path(__file__).resolve().parent.parent / "resources"
_MAX_INCLUDE_DEPTH = 32

# An include directive where HOCON allows one: at the start of a line, or after `{` or `,`.
INCLUDE = re.compile(
    r"(?P<lead>^[ \t]*|[{,][ \t]*)include[ \t]+"
    r"(?P<required>required[ \t]*\([ \t]*)?"
    r"(?:(?P<kind>classpath|file|url)[ \t]*\([ \t]*)?"
    r'"(?P<name>(?:[^"\\\n]|\\.)*)"'
    r"(?(kind)[ \t]*\))(?(required)[ \t]*\))",
    re.MULTILINE,
)
# What the substitution scanner must step over: strings and comments, where `${` means nothing.
_LEXEME = re.compile(r'"""|"|//|#|\$\{(?P<optional>\?)?(?P<name>[^}\n]*)\}')
_QUOTED_REST = re.compile(r'(?:[^"\\\n]|\\.)*"?')
# `key = ` (or `key :`) right before a substitution, at a line start or after `{` or `,`.
_ASSIGNMENT_BEFORE = re.compile(
    r'(?:^|[{,])(?P<assignment>[ \t]*(?:"(?:[^"\\]|\\.)*"|[^\s"{}\[\],=:#]+)[ \t]*[=:][ \t]*)$', re.MULTILINE
)
_VALUE_ENDS_AFTER = re.compile(r"[ \t]*(?:$|[},]|//|#)", re.MULTILINE)


def blank_includes(text: str) -> str:
    """``text`` with every include directive replaced by spaces (to parse one file on its own)."""
    return INCLUDE.sub(lambda m: m["lead"] + " " * (len(m[0]) - len(m["lead"])), text)


class Stage:
    """The staged copies of every file reached from the ones staged explicitly."""

    def __init__(self, folder: Path, env: Mapping[str, str], keep: Collection[str]) -> None:
        self.folder = folder
        self.env = env
        self.keep = keep
        """Substitution names that are configuration paths, never to be read from the environment."""
        self.problems: list[str] = []
        self.originals: dict[Path, Path] = {}
        """staged copy → original file, to name the original in messages."""
        self.substituted: set[str] = set()
        """Names that were taken as environment variables (checked afterwards against the config's keys)."""
        self._staged: dict[Path, Path] = {}
        self._active: list[Path] = []

    def file(self, source: Path) -> Path | None:
        """Stage ``source`` and everything it includes; the staged copy, or None after a problem."""
        if source in self._staged:
            return self._staged[source]
        if source in self._active:
            chain = " → ".join(str(p) for p in [*self._active, source])
            self.problems.append(f"{source}: include cycle ({chain}); remove one of these includes")
            return None
        if len(self._active) >= _MAX_INCLUDE_DEPTH:
            self.problems.append(f"{source}: includes nested more than {_MAX_INCLUDE_DEPTH} deep")
            return None
        try:
            text = source.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            self.problems.append(f"{source}: cannot read the file ({exc}); check its permissions and encoding")
            return None
        self._active.append(source)
        try:
            rewritten = INCLUDE.sub(lambda match: self._include(match, source), text)
        finally:
            self._active.pop()
        rewritten = self._rewrite_lexemes(rewritten)
        staged = self.folder / f"{len(self._staged)}-{source.name}"
        staged.write_text(rewritten, encoding="utf-8")
        self._staged[source] = staged
        self.originals[staged] = source
        return staged

    def _include(self, match: re.Match[str], including: Path) -> str:
        kind, name = match["kind"], _unescape(match["name"])
        blank = match["lead"] + " " * (len(match[0]) - len(match["lead"]))
        if kind == "url" or (kind is None and re.match(r"(?i)(https?|file)://", name)):
            self.problems.append(
                f"{including}: include of the URL {name!r} is not supported (nothing is fetched over the "
                "network); copy that file next to this one and include it by name"
            )
            return blank
        target = _find_include(kind, name, including.parent)
        if target is None:
            if match["required"] is None:
                return blank  # Typesafe Config silently skips a missing optional include.
            self.problems.append(
                f"{including}: required include {name!r} was not found (looked in {RESOURCES} and "
                f"{including.parent}); create it or remove the include"
            )
            return blank
        staged = self.file(target)
        return f"{match['lead']}include required({_hocon_string(str(staged))})" if staged else blank

    def _rewrite_lexemes(self, text: str) -> str:
        """Drop comments (pyhocon parses them slowly; reference.conf is mostly comments) and apply the
        environment to substitutions, stepping over quoted strings."""
        edits: list[tuple[int, int, str]] = []
        position = 0
        while (lexeme := _LEXEME.search(text, position)) is not None:
            position = lexeme.end()
            token = lexeme[0]
            if token == '"""':
                end = text.find('"""', position)
                position = len(text) if end < 0 else end + 3
                while position < len(text) and text[position] == '"':
                    position += 1
            elif token == '"':
                rest = _QUOTED_REST.match(text, position)
                position = rest.end() if rest else len(text)
            elif token in ("//", "#"):
                end = text.find("\n", position)
                position = len(text) if end < 0 else end
                edits.append((lexeme.start(), position, ""))
            else:
                edit = self._environment_edit(text, lexeme)
                if edit is not None:
                    edits.append(edit)
        pieces, kept_from = [], 0
        for start, end, replacement in edits:
            pieces += [text[kept_from:start], replacement]
            kept_from = end
        return "".join([*pieces, text[kept_from:]])

    def _environment_edit(self, text: str, substitution: re.Match[str]) -> tuple[int, int, str] | None:
        name = substitution["name"].strip()
        if name in self.keep:
            return None
        if name in self.env:
            self.substituted.add(name)
            return substitution.start(), substitution.end(), _hocon_string(self.env[name])
        if not substitution["optional"]:
            return None  # pyhocon reports it, unless it is a configuration path
        line_start = text.rfind("\n", 0, substitution.start()) + 1
        before = _ASSIGNMENT_BEFORE.search(text, line_start, substitution.start())
        if before is None or not _VALUE_ENDS_AFTER.match(text, substitution.end()):
            return None  # part of a concatenation or a list: left to pyhocon
        self.substituted.add(name)
        start = before.start("assignment")
        return start, substitution.end(), " " * (substitution.end() - start)


def _hocon_string(text: str) -> str:
    """``text`` as a quoted HOCON string (JSON quoting, but pyhocon does not decode ``\\u`` escapes)."""
    return json.dumps(text, ensure_ascii=False)


def _find_include(kind: str | None, name: str, here: Path) -> Path | None:
    """Where an included name lives: classpath names in our resources first, then beside the includer."""
    relative = Path(name)
    if relative.is_absolute():
        bases = [Path("/")]
    elif kind == "classpath":
        bases = [RESOURCES, here]
    elif kind == "file":
        bases = [here]
    else:
        bases = [here, RESOURCES]
    suffixes = [""] if relative.suffix in (".conf", ".json") else ["", ".conf", ".json"]
    for base in bases:
        for suffix in suffixes:
            candidate = base / (name + suffix)
            if candidate.is_file():
                return candidate.resolve()
    return None


def _unescape(quoted_body: str) -> str:
    try:
        value = json.loads(f'"{quoted_body}"')
    except ValueError:
        return quoted_body
    return value if isinstance(value, str) else quoted_body
