"""The mapping vectors' cases, the test schema, and events built from them for mapping tests."""

from __future__ import annotations

import urllib.parse

from collector.avro.schemas import load_schema
from collector.enrich.useragent import UserAgentParser
from collector.events import CapturedRequest, DivolteEvent
from collector.mapping.vocabulary import Environment
from collector.protocol.browser_event import parse_browser_event
from tests.paths import FIXTURES
from tests.vectors import load_vectors

VECTORS = load_vectors()["mapping"]


CASES = {case["name"]: case for case in VECTORS["cases"]}


SCHEMA = load_schema(FIXTURES / "TestRecord.avsc")


ENVIRONMENT = Environment(UserAgentParser(100))


def headers() -> tuple[tuple[bytes, bytes], ...]:
    out: list[tuple[bytes, bytes]] = []
    for name, value in VECTORS["request_headers"].items():
        for one in value if isinstance(value, list) else [value]:
            out.append((name.lower().encode(), one.encode()))
    return tuple(out)


def event(location: str | None = None, referer: str | None = None, mincode: str | None = None) -> DivolteEvent:
    query = VECTORS["base_query"][1:]
    for key, value in (("l", location), ("r", referer), ("u", mincode)):
        if value is not None:
            query += f"&{key}={urllib.parse.quote_plus(value)}"
    request = CapturedRequest("browser", query.encode(), headers(), "127.0.0.1", 1412220184999)
    return parse_browser_event(request, use_x_forwarded_for=False)
