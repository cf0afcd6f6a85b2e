"""Load Divolte's test vectors (``tests/data/test-vectors.json``) and fixtures (JSON files with comments)."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from collector.avro.schemas import strip_json_comments
from tests.paths import VECTORS_FILE

__all__ = ["browser_query", "load_json_with_comments", "load_vectors", "vector_case"]


def load_json_with_comments(path: Path | str) -> Any:
    """Parse a JSON file that may contain ``//`` line comments."""
    return json.loads(strip_json_comments(Path(path).read_text(encoding="utf-8")))


@cache
def load_vectors() -> dict[str, Any]:
    """Return ``test-vectors.json`` as a dict (parsed once per test session)."""
    vectors: dict[str, Any] = json.loads(VECTORS_FILE.read_text(encoding="utf-8"))
    return vectors


def vector_case(group: str, name: str) -> dict[str, Any]:
    """Return the case called ``name`` in the ``group`` section (e.g. ``browser_checksum``)."""
    for case in load_vectors()[group]["cases"]:
        if case.get("name") == name:
            found: dict[str, Any] = case
            return found
    raise KeyError(f"no case {name!r} in {group!r}")


def browser_query(group: str, name: str) -> str:
    """Return the query of the case called ``name`` in the ``group`` section."""
    return str(vector_case(group, name)["query"])
