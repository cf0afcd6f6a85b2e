"""Loading Avro schemas from ``.avsc`` files, including the ``//`` comments Java's Avro parser accepts.

Divolte users' schema files (and Divolte's own test schemas) sometimes contain ``//`` or ``/* */``
comments, which Jackson's parser in Java tolerates and plain JSON does not; we strip them outside strings.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import fastavro
import orjson

from collector.errors import MappingError

DEFAULT_SCHEMA_RESOURCE = "DefaultEventRecord.avsc"


def strip_json_comments(text: str) -> str:
    """Remove ``//`` line comments and ``/* */`` block comments that are outside JSON strings."""
    out: list[str] = []
    i, n = 0, len(text)
    in_string = False
    while i < n:
        ch = text[i]
        if in_string:
            out.append(ch)
            if ch == "\\" and i + 1 < n:
                out.append(text[i + 1])
                i += 2
                continue
            if ch == '"':
                in_string = False
            i += 1
        elif ch == '"':
            in_string = True
            out.append(ch)
            i += 1
        elif text.startswith("//", i):
            end = text.find("\n", i)
            i = n if end < 0 else end
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            i = n if end < 0 else end + 2
        else:
            out.append(ch)
            i += 1
    return "".join(out)


@dataclass(frozen=True, slots=True)
class Schema:
    """A parsed Avro record schema: the JSON we write into file headers, and fastavro's parsed form."""

    json: str
    """Canonical-enough JSON text of the schema (written into Avro container headers)."""
    parsed: Any
    """``fastavro.parse_schema`` result, used by the encoder."""
    origin: str

    @property
    def full_name(self) -> str:
        return str(self.parsed["name"])

    @property
    def field_names(self) -> list[str]:
        return [f["name"] for f in self.parsed["fields"]]


def parse_schema_text(text: str, origin: str) -> Schema:
    """Parse schema JSON (comments allowed); a broken schema is a ``MappingError`` naming ``origin``."""
    try:
        raw = orjson.loads(strip_json_comments(text))
    except orjson.JSONDecodeError as exc:
        raise MappingError(f"{origin}: not valid JSON ({exc}). Fix the schema file's syntax.") from exc
    try:
        parsed = fastavro.parse_schema(raw, _write_hint=False)
    except Exception as exc:  # fastavro raises several unrelated types for a bad schema
        raise MappingError(f"{origin}: not a valid Avro schema: {exc}") from exc
    if not isinstance(parsed, dict) or parsed.get("type") != "record":
        raise MappingError(f"{origin}: the top-level Avro type must be a record.")
    return Schema(json=orjson.dumps(raw).decode(), parsed=parsed, origin=origin)


def load_schema(path: str | Path) -> Schema:
    """Read and parse an ``.avsc`` file; a missing or unreadable file is a ``MappingError`` naming it."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise MappingError(f"Cannot read Avro schema file '{path}': {exc.strerror}.") from exc
    return parse_schema_text(text, str(path))


def default_schema() -> Schema:
    """Divolte's ``io.divolte.record.DefaultEventRecord``, bundled verbatim."""
    text = resources.files("collector.resources").joinpath(DEFAULT_SCHEMA_RESOURCE).read_text("utf-8")
    return parse_schema_text(text, f"<built-in {DEFAULT_SCHEMA_RESOURCE}>")
