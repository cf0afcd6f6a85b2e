"""Load the shared Divolte test vectors and fixtures (``test-vectors.json``, JSON files with comments).

The shared folder sits next to the repository (``../shared/divolte``); set ``DIVOLTE_SHARED`` to use
another copy.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from collector.avro.schemas import strip_json_comments
from tests.paths import SHARED

__all__ = ["SHARED", "browser_query", "load_json_with_comments", "load_vectors"]


def load_json_with_comments(path: Path | str) -> Any:
    """Parse a JSON file that may contain ``//`` line comments."""
    return json.loads(strip_json_comments(Path(path).read_text(encoding="utf-8")))


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
