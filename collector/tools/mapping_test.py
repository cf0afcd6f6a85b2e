"""``divolte-collector mapping-test``: try a mapping on hand-written events, as Divolte's mapping-test-server.

    divolte-collector mapping-test --schema MySchema.avsc --mapping mapping.py --event event.json
    divolte-collector mapping-test --schema MySchema.avsc --mapping mapping.py --port 8390
    divolte-collector mapping-test --config divolte-collector.conf [--name shop] --event event.json
    curl -d '{"location": "https://shop.example.com/?q=shoes", "event_type": "search"}' localhost:8390

With ``--config``, the mapping, its schema and the GeoIP database (``divolte.global.mapper.ip2geo_database``,
which ``ip2geo()`` needs) come from the collector's configuration, as the collector would load them;
``--schema`` and ``--mapping`` then replace the configured ones.

An event is described by a JSON object with Divolte's keys (``page_view_id, location, referer,
viewport_pixel_width, viewport_pixel_height, screen_pixel_width, screen_pixel_height, device_pixel_ratio,
corrupt, party_id, session_id, event_id, new_party_id, first_in_session, event_type, parameters,
remote_host, duplicate``) plus ``headers`` (an object of name → value or list of values), ``user_agent``,
``timestamp`` and ``client_timestamp`` (ms); anything missing gets a plausible value. The answer is the
mapped record as JSON (``null`` when the mapping discards the event), or a 400 naming the bad key.
"""

from __future__ import annotations

import base64
import time
from pathlib import Path
from typing import Any

import orjson

from collector.avro.encode import RecordEncoder
from collector.avro.schemas import default_schema, load_schema
from collector.config.settings import Settings
from collector.enrich.geo import GeoDatabase
from collector.enrich.useragent import UserAgentParser
from collector.errors import ConfigError, MappingError
from collector.events import DivolteEvent
from collector.mapping.base import RecordMapping
from collector.mapping.default import DefaultMapping
from collector.mapping.groovy import load_any_mapping
from collector.mapping.vocabulary import Environment
from collector.protocol import identifiers

EVENT_KEYS = {
    "page_view_id": str, "location": str, "referer": str, "viewport_pixel_width": int,
    "viewport_pixel_height": int, "screen_pixel_width": int, "screen_pixel_height": int,
    "device_pixel_ratio": int, "corrupt": bool, "party_id": str, "session_id": str, "event_id": str,
    "new_party_id": bool, "first_in_session": bool, "event_type": str, "parameters": object,
    "remote_host": str, "duplicate": bool, "headers": dict, "user_agent": str, "timestamp": int,
    "client_timestamp": int,
}  # fmt: skip


def _header_bytes(value: str) -> bytes:
    """A described header value as the bytes a client would send: ISO-8859-1, which the collector reads back
    character for character; text beyond it goes as UTF-8 (and then reads as Divolte's server reads it)."""
    try:
        return value.encode("latin-1")
    except UnicodeEncodeError:
        return value.encode("utf-8")


def event_from_description(description: Any) -> DivolteEvent:
    """Build an event from a JSON description; a ValueError names the offending key."""
    if not isinstance(description, dict):
        raise ValueError("the event must be a JSON object")
    for key, value in description.items():
        expected = EVENT_KEYS.get(key)
        if expected is None:
            raise ValueError(f"unknown key '{key}'; known keys: {', '.join(EVENT_KEYS)}")
        if expected is not object and value is not None and not isinstance(value, expected):
            raise ValueError(f"'{key}' must be a {expected.__name__}, not {value!r}")
        if expected is int and isinstance(value, bool):
            raise ValueError(f"'{key}' must be a number, not {value!r}")
    now = int(time.time() * 1000)
    get = description.get
    headers: list[tuple[bytes, bytes]] = []
    for name, values in (get("headers") or {}).items():
        for value in values if isinstance(values, list) else [values]:
            headers.append((name.lower().encode("latin-1"), _header_bytes(str(value))))
    user_agent = get("user_agent")
    if user_agent is not None:
        headers.append((b"user-agent", _header_bytes(user_agent)))
    page_view = get("page_view_id") or "0:" + identifiers.generate(now).id
    return DivolteEvent(
        source="mapping-test",
        event_source="browser",
        party_id=get("party_id") or identifiers.generate(now).value,
        session_id=get("session_id") or identifiers.generate(now).value,
        event_id=get("event_id") or page_view + "0",
        page_view_id=page_view,
        corrupt=bool(get("corrupt")),
        new_party=bool(get("new_party_id")),
        first_in_session=bool(get("first_in_session")),
        timestamp=get("timestamp") or now,
        client_timestamp=get("client_timestamp") or now,
        remote_host=get("remote_host") or "127.0.0.1",
        headers=tuple(headers),
        location=get("location"),
        referer=get("referer"),
        viewport_pixel_width=get("viewport_pixel_width"),
        viewport_pixel_height=get("viewport_pixel_height"),
        screen_pixel_width=get("screen_pixel_width"),
        screen_pixel_height=get("screen_pixel_height"),
        device_pixel_ratio=get("device_pixel_ratio"),
        event_type=get("event_type"),
        parameters=get("parameters"),
        duplicate=bool(get("duplicate")),
    )


def _json_default(value: Any) -> Any:
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    raise TypeError


class MappingTester:
    """A loaded mapping plus the encoder of its schema; ``run`` maps one described event.

    Without ``mapping_path`` it is Divolte's built-in mapping (what a configured mapping without
    ``mapping_script_file`` runs, onto the default schema).
    """

    def __init__(
        self, schema_path: str | None, mapping_path: str | None, environment: Environment | None = None
    ) -> None:
        environment = environment or Environment(UserAgentParser(1000))
        if mapping_path is None:
            self.mapping: RecordMapping = DefaultMapping(environment.user_agents)
        else:
            schema = load_schema(schema_path) if schema_path else default_schema()
            self.mapping = load_any_mapping(mapping_path, schema, environment)
        self.encoder = RecordEncoder(self.mapping.schema)

    def run(self, description: Any) -> bytes:
        """The record as JSON; encoding it also proves that the record is valid for the schema."""
        record = self.mapping.map(event_from_description(description))
        if record is not None:
            try:
                self.encoder.encode(record)
            except (ValueError, TypeError) as exc:
                raise MappingError(f"the mapped record is not valid for the schema: {exc}") from exc
        return orjson.dumps(record, default=_json_default, option=orjson.OPT_INDENT_2)


def tester_from_config(
    settings: Settings, name: str | None, schema_path: str | None = None, mapping_path: str | None = None
) -> MappingTester:
    """The tester of the configuration's mapping ``name`` (the only one when None), with the configuration's
    GeoIP database and user-agent cache; ``schema_path`` and ``mapping_path`` replace the configured files."""
    if name is None:
        if len(settings.mappings) != 1:
            raise ConfigError(f"{settings.origin} has the mappings {', '.join(settings.mappings)}: choose one with "
                              "--name")  # fmt: skip
        name = next(iter(settings.mappings))
    if name not in settings.mappings:
        raise ConfigError(f"divolte.mappings.{name} does not exist in {settings.origin}; its mappings: "
                          f"{', '.join(settings.mappings)}")  # fmt: skip
    mapping = settings.mappings[name]
    mapper = settings.global_.mapper
    geo = GeoDatabase.open(mapper.ip2geo_database) if mapper.ip2geo_database else None
    environment = Environment(UserAgentParser(mapper.user_agent_parser.cache_size), geo)
    try:
        return MappingTester(schema_path or mapping.schema_file, mapping_path or mapping.mapping_script_file,
                             environment)  # fmt: skip
    except MappingError as exc:
        raise ConfigError(f"divolte.mappings.{name}: {exc}") from exc


def run_file(tester: MappingTester, event_file: str) -> bytes:
    return tester.run(orjson.loads(Path(event_file).read_bytes()))


def serve(tester: MappingTester, host: str, port: int) -> None:
    """POST a JSON event description to ``/``; get the record back."""
    import uvicorn
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import PlainTextResponse, Response
    from starlette.routing import Route

    async def map_event(request: Request) -> Response:
        try:
            body = tester.run(orjson.loads(await request.body()))
        except (ValueError, MappingError) as exc:  # orjson.JSONDecodeError is a ValueError
            return PlainTextResponse(f"{exc}\n", status_code=400)
        return Response(body, media_type="application/json")

    app = Starlette(routes=[Route("/", map_event, methods=["POST"])])
    uvicorn.run(app, host=host, port=port, log_config=None)
