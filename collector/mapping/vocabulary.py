"""The value functions of Divolte's mapping DSL (SPEC §6.3), bound to the enrichment services they need.

``Vocabulary(environment)`` builds producers over events: plain fields (``location()``, ``partyId()``),
request data (``header()``, ``cookie()``, ``userAgent()``), event parameters with JSONPath, URI parsing,
regex matching, number parsing, digests and GeoIP. Each returns a ``Producer`` (``values.py``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from operator import attrgetter
from typing import Any

from collector.enrich.geo import GEO_FIELDS, GeoDatabase
from collector.enrich.useragent import UserAgentParser
from collector.errors import MappingError
from collector.events import DivolteEvent
from collector.mapping.base import decode_header_value
from collector.mapping.headers import split_header_values
from collector.mapping.java import numbers
from collector.mapping.java.digest import Digester
from collector.mapping.java.jsonpath import compile_path
from collector.mapping.java.uri import JavaURI, parse_uri
from collector.mapping.producers import (
    BOOLEAN,
    BYTES,
    DIGESTER,
    DOUBLE,
    FLOAT,
    GEO,
    INT,
    INT_LIST,
    JSON,
    LONG,
    MATCHER,
    QUERY_MAP,
    STRING,
    STRING_LIST,
    URI,
    USER_AGENT,
    BytesProducer,
    MatcherProducer,
    Producer,
    StringListProducer,
    ValueType,
    java_regex,
)
from collector.protocol import mincode


@dataclass(frozen=True, slots=True)
class Environment:
    """Services a mapping may use; ``geo`` is None unless ``ip2geo_database`` is configured."""

    user_agents: UserAgentParser
    geo: GeoDatabase | None = None


def _sub(parent: Producer, name: str, value_type: ValueType, pick: Callable[[Any], Any]) -> Producer:
    fn = parent.fn

    def sub(e: DivolteEvent) -> Any:
        value = fn(e)
        return None if value is None else pick(value)

    return Producer(value_type, f"{parent.describe}.{name}()", sub)


class UserAgentProducer(Producer):
    __slots__ = ()

    def name(self) -> Producer:
        return _sub(self, "name", STRING, attrgetter("name"))

    def family(self) -> Producer:
        return _sub(self, "family", STRING, attrgetter("family"))

    def vendor(self) -> Producer:
        return _sub(self, "vendor", STRING, attrgetter("vendor"))

    def type(self) -> Producer:  # Divolte's name for the agent type
        return _sub(self, "type", STRING, attrgetter("type"))

    def version(self) -> Producer:
        return _sub(self, "version", STRING, attrgetter("version"))

    def deviceCategory(self) -> Producer:
        return _sub(self, "deviceCategory", STRING, attrgetter("device_category"))

    def osFamily(self) -> Producer:
        return _sub(self, "osFamily", STRING, attrgetter("os_family"))

    def osVersion(self) -> Producer:
        return _sub(self, "osVersion", STRING, attrgetter("os_version"))

    def osVendor(self) -> Producer:
        return _sub(self, "osVendor", STRING, attrgetter("os_vendor"))


class QueryProducer(Producer):
    """``uri.query()``: the query string as a map of lists; ``value(k)`` first value, ``valueList(k)`` all."""

    __slots__ = ()

    def value(self, key: str) -> Producer:
        return _sub(self, f"value({key!r})", STRING, lambda q: (q.get(key) or [None])[0])

    def valueList(self, key: str) -> Producer:
        return _sub(self, f"valueList({key!r})", STRING_LIST, lambda q: q.get(key))


class UriProducer(Producer):
    __slots__ = ()

    def path(self) -> Producer:
        return _sub(self, "path", STRING, attrgetter("path"))

    def rawPath(self) -> Producer:
        return _sub(self, "rawPath", STRING, attrgetter("raw_path"))

    def scheme(self) -> Producer:
        return _sub(self, "scheme", STRING, attrgetter("scheme"))

    def host(self) -> Producer:
        return _sub(self, "host", STRING, attrgetter("host"))

    def port(self) -> Producer:
        return _sub(self, "port", INT, attrgetter("port"))

    def decodedQueryString(self) -> Producer:
        return _sub(self, "decodedQueryString", STRING, attrgetter("query"))

    def rawQueryString(self) -> Producer:
        return _sub(self, "rawQueryString", STRING, attrgetter("raw_query"))

    def decodedFragment(self) -> Producer:
        return _sub(self, "decodedFragment", STRING, attrgetter("fragment"))

    def rawFragment(self) -> Producer:
        return _sub(self, "rawFragment", STRING, attrgetter("raw_fragment"))

    def query(self) -> QueryProducer:
        fn = self.fn

        def query(e: DivolteEvent) -> Any:
            uri: JavaURI | None = fn(e)
            return None if uri is None else uri.query_map()

        return QueryProducer(QUERY_MAP, f"{self.describe}.query()", query, memoise=True)


def json_text(node: Any) -> str:
    """Jackson's ``asText()``: value nodes as text, containers as ``""``, JSON null as ``"null"``."""
    if node is None:
        return "null"
    if isinstance(node, bool):
        return "true" if node else "false"
    if isinstance(node, str):
        return node
    if isinstance(node, int):
        return str(node)
    if isinstance(node, float):
        return numbers.java_double_to_string(node)
    return ""


class JsonProducer(Producer):
    """Event parameters (or a part of them): ``value(k)`` as text, ``path('$.json.path')``."""

    __slots__ = ()

    def value(self, key: str) -> Producer:
        def text(tree: Any) -> str:
            # Jackson's path(key).asText(): a missing key or a non-object gives "" (present!), not absent.
            return json_text(tree[key]) if isinstance(tree, dict) and key in tree else ""

        return _sub(self, f"value({key!r})", STRING, text)

    def path(self, expression: str) -> JsonProducer:
        compiled = compile_path(expression)
        fn = self.fn

        def read(e: DivolteEvent) -> Any:
            tree = fn(e)
            if tree is None:
                return None
            present, value = compiled.read(tree)
            return value if present else None

        return JsonProducer(JSON, f"{self.describe}.path({expression!r})", read, memoise=True)


class GeoProducer(Producer):
    """``ip2geo()``: the sub-values of Divolte's CityResponse (``cityName()``, ``countryCode()``, …)."""

    __slots__ = ()

    def __getattr__(self, name: str) -> Callable[[], Producer]:
        if name not in GEO_FIELDS:
            raise AttributeError(f"ip2geo() has no sub-value '{name}'; available: {', '.join(sorted(GEO_FIELDS))}")
        python_type, extract = GEO_FIELDS[name]
        value_type = _GEO_TYPES[python_type]
        return lambda: _sub(self, name, value_type, extract)


_GEO_TYPES: dict[Any, ValueType] = {
    str: STRING, int: INT, float: DOUBLE, bool: BOOLEAN, list[str]: STRING_LIST, list[int]: INT_LIST,
}  # fmt: skip


class DigesterProducer(Producer):
    """``digest('SHA-256'[, seed])``: ``add(piece)`` in order, then ``result()`` (always present)."""

    __slots__ = ("_digester", "_pieces")

    def __init__(self, digester: Digester, pieces: tuple[Producer | str, ...], describe: str) -> None:
        super().__init__(DIGESTER, describe, lambda e: None)
        self._digester = digester
        self._pieces = pieces

    def add(self, piece: Producer | str) -> DigesterProducer:
        if isinstance(piece, Producer) and piece.value_type not in (STRING, JSON, BYTES):
            raise MappingError(
                f"digest pieces must be strings, JSON or bytes; {piece.describe} is a {piece.value_type.name}"
            )
        if not isinstance(piece, Producer | str):
            raise MappingError(f"digest pieces must be producers or string literals, not {piece!r}")
        label = piece.describe if isinstance(piece, Producer) else repr(piece)
        return DigesterProducer(self._digester, (*self._pieces, piece), f"{self.describe}.add({label})")

    def result(self) -> BytesProducer:
        digester, pieces = self._digester, self._pieces

        def result(e: DivolteEvent) -> bytes:
            return digester.digest(_digest_bytes(piece, e) for piece in pieces)

        return BytesProducer(BYTES, f"{self.describe}.result()", result, memoise=True)


def _digest_bytes(piece: Producer | str, event: DivolteEvent) -> bytes:
    if isinstance(piece, str):
        return piece.encode("utf-8")
    value = piece.fn(event)
    if value is None:
        return b""  # absent pieces are skipped
    if isinstance(value, bytes):
        return value
    if piece.value_type is JSON:
        return b"" if isinstance(value, dict | list) else json_text(value).encode("utf-8")
    return str(value).encode("utf-8")


_PARSERS: dict[str, tuple[ValueType, Callable[[str], Any]]] = {
    "int32": (INT, numbers.parse_int32),
    "int64": (LONG, numbers.parse_int64),
    "fp32": (FLOAT, numbers.parse_fp32),
    "fp64": (DOUBLE, numbers.parse_fp64),
    "bool": (BOOLEAN, numbers.parse_bool),
}


def _string(producer: Producer, what: str) -> Producer:
    if not isinstance(producer, Producer) or producer.value_type is not STRING:
        shown = producer.describe if isinstance(producer, Producer) else repr(producer)
        raise MappingError(f"{what} needs a String value; {shown} is not one.")
    return producer


class Parse:
    """``parse(p).to('int32' | 'int64' | 'fp32' | 'fp64' | 'bool' | 'uri')``."""

    def __init__(self, producer: Producer) -> None:
        self.producer = _string(producer, "parse(...)")

    def to(self, kind: str) -> Producer:
        fn = self.producer.fn
        describe = f"parse({self.producer.describe} to {kind})"
        if kind == "uri":
            return UriProducer(URI, describe, lambda e: _apply(parse_uri, fn(e)), memoise=True)
        if kind not in _PARSERS:
            raise MappingError(f"parse(...).to({kind!r}): use one of int32, int64, fp32, fp64, bool, uri.")
        value_type, parser = _PARSERS[kind]
        return Producer(value_type, describe, lambda e: _apply(parser, fn(e)))


def _apply(parser: Callable[[str], Any], value: str | None) -> Any:
    return None if value is None else parser(value)


class Match:
    """``match(regex).against(p)``."""

    def __init__(self, regex: str) -> None:
        self.regex = regex
        self.pattern = java_regex(regex)

    def against(self, producer: Producer) -> MatcherProducer:
        fn = _string(producer, "match(...).against(...)").fn
        fullmatch = self.pattern.fullmatch

        def match(e: DivolteEvent) -> Any:
            value = fn(e)
            return None if value is None else (fullmatch(value) or False)

        return MatcherProducer(MATCHER, f"match({self.regex!r} against {producer.describe})", match, memoise=True)


def _field(name: str, value_type: ValueType, attribute: str) -> Producer:
    return Producer(value_type, f"{name}()", attrgetter(attribute))


def _constant(producer: Producer) -> Callable[[], Producer]:
    """A value function without arguments, such as ``location()``: the same producer on every call."""
    return lambda: producer


def _cookies(event: DivolteEvent) -> dict[str, str]:
    """The request's cookies, parsed once per event however many ``cookie()`` values a mapping reads."""
    cached: dict[str, str] | None = event.memo.get("cookie jar")
    if cached is not None:
        return cached
    jar: dict[str, str] = {}
    event.memo["cookie jar"] = jar
    for name, value in event.headers:
        if name == b"cookie":
            for part in decode_header_value(value).split(";"):
                key, sep, val = part.strip().partition("=")
                if sep and key and key not in jar:
                    jar[key] = val[1:-1] if len(val) > 1 and val[0] == val[-1] == '"' else val
    return jar


class Vocabulary:
    """The value functions a mapping file sees, bound to one ``Environment``."""

    def __init__(self, environment: Environment) -> None:
        self.environment = environment

    def functions(self) -> dict[str, Any]:
        fields = {
            "location": (STRING, "location"), "referer": (STRING, "referer"), "eventType": (STRING, "event_type"),
            "firstInSession": (BOOLEAN, "first_in_session"), "corrupt": (BOOLEAN, "corrupt"),
            "duplicate": (BOOLEAN, "duplicate"), "timestamp": (LONG, "timestamp"),
            "clientTimestamp": (LONG, "client_timestamp"), "remoteHost": (STRING, "remote_host"),
            "viewportPixelWidth": (INT, "viewport_pixel_width"), "viewportPixelHeight": (INT, "viewport_pixel_height"),
            "screenPixelWidth": (INT, "screen_pixel_width"), "screenPixelHeight": (INT, "screen_pixel_height"),
            "devicePixelRatio": (INT, "device_pixel_ratio"), "partyId": (STRING, "party_id"),
            "sessionId": (STRING, "session_id"), "pageViewId": (STRING, "page_view_id"),
            "eventId": (STRING, "event_id"), "eventSource": (STRING, "event_source"),
            "newPartyId": (BOOLEAN, "new_party"),
        }  # fmt: skip
        names: dict[str, Any] = {name: _constant(_field(name, t, attr)) for name, (t, attr) in fields.items()}
        names.update(
            userAgentString=self.userAgentString, userAgent=self.userAgent, cookie=self.cookie, header=self.header,
            eventParameters=self.eventParameters, eventParameter=self.eventParameter, ip2geo=self.ip2geo,
            parse=Parse, match=Match, digest=self.digest,
        )  # fmt: skip
        return names

    @staticmethod
    def userAgentString() -> Producer:
        def first(e: DivolteEvent) -> str | None:
            for name, value in e.headers:
                if name == b"user-agent":
                    return decode_header_value(value)
            return None

        return Producer(STRING, "userAgentString()", first)

    def userAgent(self) -> UserAgentProducer:
        parse = self.environment.user_agents.parse
        ua_fn = self.userAgentString().fn
        return UserAgentProducer(USER_AGENT, "userAgent()", lambda e: _apply(parse, ua_fn(e)), memoise=True)

    @staticmethod
    def cookie(name: str) -> Producer:
        return Producer(STRING, f"cookie({name!r})", lambda e: _cookies(e).get(name))

    @staticmethod
    def header(name: str) -> StringListProducer:
        key = name.lower().encode("latin-1")

        def values(e: DivolteEvent) -> list[str] | None:
            found = [decode_header_value(v) for k, v in e.headers if k == key]
            return split_header_values(found) if found else None

        return StringListProducer(STRING_LIST, f"header({name!r})", values, memoise=True)

    @staticmethod
    def eventParameters() -> JsonProducer:
        def parameters(e: DivolteEvent) -> Any:
            if e.parameters is not None or e.raw_parameters is None:  # JSON events (and mapping-test) arrive parsed
                return e.parameters
                return None
            try:
                return mincode.decode(e.raw_parameters)
            except mincode.MincodeError:
                return None  # Divolte: a parse failure makes the parameters absent

        return JsonProducer(JSON, "eventParameters()", parameters, memoise=True)

    def eventParameter(self, key: str) -> Producer:
        return self.eventParameters().value(key)

    def ip2geo(self, address: Producer | None = None) -> GeoProducer:
        geo = self.environment.geo
        if geo is None:
            raise MappingError(
                "ip2geo() needs a GeoIP database: set divolte.global.mapper.ip2geo_database to a City .mmdb file."
            )
        if address is None:
            return GeoProducer(GEO, "ip2geo()", lambda e: geo.lookup(e.geo_address or e.remote_host), memoise=True)
        fn = _string(address, "ip2geo(...)").fn
        return GeoProducer(GEO, f"ip2geo({address.describe})", lambda e: _apply(geo.lookup, fn(e)), memoise=True)

    @staticmethod
    def digest(algorithm: str, seed: str | None = None) -> DigesterProducer:
        # The label is also the per-event memo key of the result: two seeds must not share it (Divolte's identifier
        # holds the seed). A fingerprint tells them apart without printing the seed in messages.
        seeded = f", <seed {hashlib.sha256(seed.encode()).hexdigest()[:8]}>" if seed is not None else ""
        label = f"digest({algorithm!r}{seeded})"
        return DigesterProducer(Digester(algorithm, seed), (), label)
