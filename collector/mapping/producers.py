"""What a mapping can read: typed value producers, evaluated lazily per event.

A mapping file runs once at start-up and *declares* what to read; each value function returns a
``Producer``: a type (checked against the Avro schema at start-up, SPEC §6.5) and a function from an event
to a value, where ``None`` means absent (mapping an absent value leaves the field untouched). Producers
whose result is expensive (a parsed URI, a regex match, a GeoIP lookup, decoded event parameters) are
memoised per event under their textual description, as Divolte does.

Method names are Divolte's (``isPresent()``, ``equalTo()``, ``rawQueryString()``) so its mapping
reference applies as written; only Python keywords change (``and_``, ``or_``, ``not_``).
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from collector.errors import MappingError
from collector.events import DivolteEvent

Fn = Callable[[DivolteEvent], Any]


@dataclass(frozen=True, slots=True)
class ValueType:
    """A producer's type. ``avro`` names the Avro type it may be mapped onto (None: not mappable)."""

    name: str
    avro: str | None
    items: str | None = None
    """For lists: the Avro type of the items."""


STRING = ValueType("String", "string")
BOOLEAN = ValueType("Boolean", "boolean")
INT = ValueType("Integer", "int")
LONG = ValueType("Long", "long")
FLOAT = ValueType("Float", "float")
DOUBLE = ValueType("Double", "double")
BYTES = ValueType("ByteBuffer", "bytes")
STRING_LIST = ValueType("List<String>", "array", "string")
INT_LIST = ValueType("List<Integer>", "array", "int")
QUERY_MAP = ValueType("Map<String,List<String>>", "map", "array<string>")
JSON = ValueType("JsonNode", "json")
USER_AGENT = ValueType("UserAgent", None)
URI = ValueType("URI", None)
MATCHER = ValueType("Matcher", None)
GEO = ValueType("CityResponse", None)
DIGESTER = ValueType("Digester", None)

_MISSING = object()


class Producer:
    """A lazily evaluated value of one ``ValueType``; ``fn(event)`` returns the value or None (absent)."""

    __slots__ = ("describe", "fn", "value_type")

    def __init__(self, value_type: ValueType, describe: str, fn: Fn, *, memoise: bool = False) -> None:
        self.value_type = value_type
        self.describe = describe
        if memoise:
            inner = fn

            def memoised(event: DivolteEvent) -> Any:
                memo = event.memo
                value = memo.get(describe, _MISSING)
                if value is _MISSING:
                    value = memo[describe] = inner(event)
                return value

            fn = memoised
        self.fn = fn

    def __repr__(self) -> str:
        return f"{self.describe} ({self.value_type.name})"

    def __bool__(self) -> bool:
        raise MappingError(
            f"{self.describe} is evaluated per event, not while the mapping is set up: use "
            "'with when(...):' instead of 'if', and '.and_()', '.or_()', 'not_()' instead of and/or/not."
        )

    def isPresent(self) -> Producer:
        fn = self.fn
        return Producer(BOOLEAN, f"{self.describe}.isPresent()", lambda e: fn(e) is not None)

    def isAbsent(self) -> Producer:
        fn = self.fn
        return Producer(BOOLEAN, f"{self.describe}.isAbsent()", lambda e: fn(e) is None)

    def equalTo(self, other: Any) -> Producer:
        """Equality with a literal (absent ⇒ false) or another producer (both absent ⇒ true), as Divolte."""
        fn = self.fn
        if isinstance(other, Producer):
            other_fn = other.fn
            return Producer(BOOLEAN, f"{self.describe}.equalTo({other.describe})", lambda e: _same(fn(e), other_fn(e)))
        return Producer(BOOLEAN, f"{self.describe}.equalTo({other!r})", lambda e: _same(fn(e), other))


def _same(a: Any, b: Any) -> bool:
    # Java's equals: an Integer never equals a Boolean, so bool is not an int here.
    return a == b and isinstance(a, bool) == isinstance(b, bool)


def literal_producer(value: Any) -> Producer:
    return Producer(literal_type(value), repr(value), lambda e: value)


def literal_type(value: Any) -> ValueType:
    if isinstance(value, bool):
        return BOOLEAN
    if isinstance(value, str):
        return STRING
    if isinstance(value, int):
        return LONG  # a Python int is checked against int or long by range at start-up
    if isinstance(value, float):
        return DOUBLE
    raise MappingError(
        f"{value!r} ({type(value).__name__}) cannot be mapped: literals must be str, bool, int or float."
    )


# --- Booleans --------------------------------------------------------------------------------------------


def boolean(producer: Producer) -> Producer:
    if producer.value_type is not BOOLEAN:
        raise MappingError(f"{producer.describe} is a {producer.value_type.name}, not a Boolean condition.")
    return producer


def and_(left: Producer, right: Producer) -> Producer:
    """Both true; absent if either side is absent (Divolte's three-valued logic)."""
    lf, rf = boolean(left).fn, boolean(right).fn

    def both(e: DivolteEvent) -> bool | None:
        a, b = lf(e), rf(e)
        return None if a is None or b is None else a and b

    return Producer(BOOLEAN, f"{left.describe}.and({right.describe})", both)


def or_(left: Producer, right: Producer) -> Producer:
    lf, rf = boolean(left).fn, boolean(right).fn

    def either(e: DivolteEvent) -> bool | None:
        a, b = lf(e), rf(e)
        return None if a is None or b is None else a or b

    return Producer(BOOLEAN, f"{left.describe}.or({right.describe})", either)


def not_(producer: Producer) -> Producer:
    fn = boolean(producer).fn

    def negated(e: DivolteEvent) -> bool | None:
        value = fn(e)
        return None if value is None else not value

    return Producer(BOOLEAN, f"not {producer.describe}", negated)


Producer.and_ = and_  # type: ignore[attr-defined]
Producer.or_ = or_  # type: ignore[attr-defined]
Producer.negate = not_  # type: ignore[attr-defined]


# --- Typed producers with sub-values ------------------------------------------------------------------


class StringListProducer(Producer):
    """``header('Name')``: every value of every occurrence, normalised; ``first/last/get/commaSeparated``."""

    __slots__ = ()

    def _pick(self, describe: str, pick: Callable[[list[str]], str | None]) -> Producer:
        fn = self.fn

        def picked(e: DivolteEvent) -> str | None:
            values = fn(e)
            return None if values is None else pick(values)

        return Producer(STRING, f"{self.describe}.{describe}", picked)

    def first(self) -> Producer:
        return self._pick("first()", lambda v: v[0] if v else None)

    def last(self) -> Producer:
        return self._pick("last()", lambda v: v[-1] if v else None)

    def get(self, index: int) -> Producer:
        return self._pick(f"get({index})", lambda v: v[index] if -len(v) <= index < len(v) else None)

    def commaSeparated(self) -> Producer:
        return self._pick("commaSeparated()", ",".join)


class BytesProducer(Producer):
    """A digest result; render it with ``toHexLower()``, ``toHexUpper()`` or ``toBase64()``."""

    __slots__ = ()

    def _render(self, name: str, render: Callable[[bytes], str]) -> Producer:
        fn = self.fn
        return Producer(STRING, f"{self.describe}.{name}()", lambda e: render(fn(e)), memoise=True)

    def toHexLower(self) -> Producer:
        return self._render("toHexLower", lambda b: b.hex())

    def toHexUpper(self) -> Producer:
        return self._render("toHexUpper", lambda b: b.hex().upper())

    def toBase64(self) -> Producer:
        return self._render("toBase64", lambda b: base64.b64encode(b).decode("ascii"))


class MatcherProducer(Producer):
    """``match(regex).against(p)``: ``matches()`` (whole string) and ``group(n or name)``."""

    __slots__ = ()

    def matches(self) -> Producer:
        fn = self.fn

        def matched(e: DivolteEvent) -> bool | None:
            result = fn(e)
            return None if result is None else result is not False

        return Producer(BOOLEAN, f"{self.describe}.matches()", matched)

    def group(self, which: int | str) -> Producer:
        fn = self.fn

        def group(e: DivolteEvent) -> str | None:
            result = fn(e)
            if not isinstance(result, re.Match):
                return None
            try:
                value: str | None = result.group(which)
            except IndexError:  # no such group in the pattern: absent, as Java's lookup failure
                return None
            return value

        return Producer(STRING, f"{self.describe}.group({which!r})", group)


def java_regex(pattern: str) -> re.Pattern[str]:
    """Compile a Java regex with Python's engine: ``(?<name>…)`` named groups become ``(?P<name>…)``."""
    translated = re.sub(r"\(\?<(?![=!])", "(?P<", pattern)
    try:
        return re.compile(translated)
    except re.error as exc:
        raise MappingError(f"regular expression {pattern!r} is not valid: {exc}") from exc
