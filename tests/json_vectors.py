"""Issue 16's JSON-source vectors (``tests/data/divolte-json-observed.json``): the bodies as sent, and
Divolte's answers in the form ours are compared in."""

from __future__ import annotations

import json
import math
from typing import Any

from collector.mapping.java.numbers import java_double_to_string
from tests.paths import REPO

OBSERVED: dict[str, Any] = json.loads((REPO / "tests" / "data" / "divolte-json-observed.json").read_text("utf-8"))
PARTY_QUERY = b"p=0%3Ai1t84hgy%3Aparty"


def body_of(case: dict[str, Any]) -> bytes:
    """The bytes of a body vector: the base event with ``set`` applied, or ``body``/``body_hex``, nesting expanded."""
    if "set" in case:
        properties = {**OBSERVED["base_event"]["properties"], **case["set"]}
        text = "{" + ",".join(f'"{key}":{value}' for key, value in properties.items() if value is not None) + "}"
        return text.encode("utf-8")
    if "body_hex" in case:
        return bytes.fromhex(case["body_hex"])
    text = case["body"]
    if "nested" in case:
        nested = case["nested"]
        inner = nested["open"] * nested["depth"] + ("1" if nested["open"].startswith("{") else "")
        text = text.replace("@NESTED@", inner + nested["close"] * nested["depth"])
    return str(text).encode("utf-8")


def jackson_text(value: Any) -> str:
    """A parsed JSON value written as Jackson's ``JsonNode.toString`` writes it (compact, Java doubles)."""
    if isinstance(value, dict):
        return "{" + ",".join(json.dumps(k, ensure_ascii=False) + ":" + jackson_text(v) for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ",".join(jackson_text(item) for item in value) + "]"
    if value is None or isinstance(value, bool):
        return json.dumps(value)
    if isinstance(value, float):
        return ("-" if value < 0 else "") + "Infinity" if math.isinf(value) else java_double_to_string(value)
    if isinstance(value, int):
        return str(value)
    return json.dumps(value, ensure_ascii=False)


def depth(value: Any) -> int:
    """How deeply ``value`` nests arrays and objects (without recursion: vectors nest thousands deep)."""
    deepest, level = 0, [(value, 0)]
    while level:
        item, seen = level.pop()
        if isinstance(item, dict | list):
            deepest = max(deepest, seen + 1)
            level.extend((child, seen + 1) for child in (item.values() if isinstance(item, dict) else item))
    return deepest
