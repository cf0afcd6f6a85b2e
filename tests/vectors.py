"""Load the shared Divolte test vectors and fixtures (``test-vectors.json``, JSON files with comments).

The shared folder sits next to the repository (``../shared/divolte``); set ``DIVOLTE_SHARED`` to use
another copy.
"""

from __future__ import annotations

import json
import os
from functools import cache
from pathlib import Path
from typing import Any


def _shared() -> Path:
    """Return the shared Divolte data folder: ``$DIVOLTE_SHARED`` if set, else beside the repository."""
    override = os.environ.get("DIVOLTE_SHARED")
    if override:
        return Path(override).resolve()
    return Path(__file__).resolve().parents[2] / "shared" / "divolte"


SHARED = _shared()


def strip_line_comments(text: str) -> str:
    """Remove ``//`` comments that are outside JSON strings (a URL inside a string keeps its ``//``)."""
    out: list[str] = []
    in_string = False
    i = 0
    while i < len(text):
        ch = text[i]
        if in_string:
            out.append(ch)
            if ch == "\\":
                out.append(text[i + 1])
                i += 1
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
            out.append(ch)
        elif text.startswith("//", i):
            newline = text.find("\n", i)
            i = len(text) if newline < 0 else newline
            continue
        else:
            out.append(ch)
        i += 1
    return "".join(out)


def load_json_with_comments(path: Path | str) -> Any:
    """Parse a JSON file that may contain ``//`` line comments."""
    return json.loads(strip_line_comments(Path(path).read_text(encoding="utf-8")))


@cache
def load_vectors() -> dict[str, Any]:
    """Return ``test-vectors.json`` as a dict (parsed once per test session)."""
    vectors: dict[str, Any] = json.loads((SHARED / "test-vectors.json").read_text(encoding="utf-8"))
    return vectors


def browser_query(group: str, name: str) -> str:
    """Return the query of the case called ``name`` in the ``group`` section (e.g. ``browser_checksum``)."""
    for case in load_vectors()[group]["cases"]:
        if case.get("name") == name:
            return str(case["query"])
    raise KeyError(f"no case {name!r} in {group!r}")
