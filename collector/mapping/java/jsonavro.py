"""Convert JSON values onto Avro schemas the way Divolte's Jackson-based mapper does (SPEC §6.6).

A mapping may put ``eventParameters()`` or a JSONPath result onto a field of any Avro type. Divolte reads the
JSON tree with Jackson (``ACCEPT_SINGLE_VALUE_AS_ARRAY``, ``UNWRAP_SINGLE_VALUE_ARRAYS``, unknown properties
ignored) guided by the field's schema; the same input must give the same Avro value here. Scalars follow
Jackson's coercions (``coercion.py``); this module walks the schema:

* ``record`` takes an object (unknown properties ignored, missing fields take their defaults), ``map`` an
  object, ``array`` an array or any single value wrapped;
* ``enum`` takes exactly one of its symbols (read as a string first);
* ``fixed`` takes Base64 text (extra bytes are cut, too few is a mismatch) or Jackson's array of byte values;
* ``null`` takes only JSON null;
* unions may only be ``[null, T]``, ``[T, null]`` or ``[T]``; anything else is refused at start-up.

A value that does not fit raises ``JsonMismatch``: the mapping leaves the field untouched and carries on, as
Divolte does. Deliberate differences, where Divolte's behaviour is an accident: JSON null into a nullable
union is null for every branch type (Divolte fails records, maps, enums and arrays there); a record field
without default missing from the object, and a fixed value with too few bytes, are mismatches of that mapping
(Divolte loses the whole event when it writes the record); integers out of the Avro range are mismatches
(Jackson 2.9 silently wraps them); a double too large for a ``float`` becomes infinity, as Java's cast does.

Schemas are fastavro's parsed form; ``compile_converter`` builds a converter once at start-up so that the
per-event work is a few type checks.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from typing import Any

from collector.errors import MappingError
from collector.mapping.java.coercion import (
    INT_RANGE,
    LONG_RANGE,
    JsonMismatch,
    base64_bytes,
    byte_value,
    describe_json,
    mismatch,
    read_string,
    required,
    scalar_reader,
)

__all__ = ["Converter", "JsonMismatch", "check_json_target", "collect_names", "compile_converter", "convert"]

Converter = Callable[[Any], Any]
"""A compiled conversion: JSON value in, value for fastavro's writer out; raises ``JsonMismatch``."""

_PRIMITIVES = frozenset({"null", "boolean", "int", "long", "float", "double", "bytes", "string"})
_NO_DEFAULT = object()


def _primitive_default(kind: str, definition: Any, value: Any) -> Any:
    """Check a default of a scalar or enum type in Avro's JSON encoding (no Jackson coercion here)."""
    if kind == "null" and value is None:
        return None
    if kind == "boolean" and isinstance(value, bool):
        return value
    if kind in ("int", "long") and isinstance(value, int) and not isinstance(value, bool):
        low, high = INT_RANGE if kind == "int" else LONG_RANGE
        if low <= value <= high:
            return value
        raise ValueError(f"out of the range of {kind}")
    if kind in ("float", "double") and isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if kind == "string" and isinstance(value, str):
        return value
    if kind == "enum" and value in definition["symbols"]:
        return value
    raise ValueError(f"expected a {kind} value")


def collect_names(schema: Any) -> dict[str, Any]:
    """Every named type (record, enum, fixed) defined in a parsed schema, by full name."""
    names: dict[str, Any] = {}

    def walk(node: Any) -> None:
        if isinstance(node, list):
            for branch in node:
                walk(branch)
        elif isinstance(node, dict):
            kind = node.get("type")
            if kind in ("record", "error", "enum", "fixed"):
                if node["name"] in names:
                    return
                names[node["name"]] = node
            for field in node.get("fields", ()):
                walk(field["type"])
            for key in ("items", "values"):
                if key in node:
                    walk(node[key])
            if not isinstance(kind, str):
                walk(kind)

    walk(schema)
    return names


class _Compiler:
    """Builds converters for one schema, resolving named types and tying recursive records together."""

    def __init__(self, names: Mapping[str, Any]) -> None:
        self.names = names
        self.built: dict[str, Converter] = {}

    def compile(self, schema: Any, where: str) -> Converter:
        """A converter for ``schema``; scalars refuse null because this position has no null branch."""
        if isinstance(schema, list):
            return self.union(schema, where)
        converter = self.raw(schema, where)
        name = self.type_name(schema)
        if name in _PRIMITIVES and name not in ("null", "bytes"):
            return required(converter, name)
        return converter

    def union(self, branches: list[Any], where: str) -> Converter:
        """Divolte's trivial unions: ``[T]`` is ``T``; ``[null, T]`` and ``[T, null]`` accept null."""
        if len(branches) == 1:
            return self.compile(branches[0], where)
        nulls = [self.type_name(branch) == "null" for branch in branches]
        if len(branches) != 2 or nulls.count(True) != 1:
            described = ", ".join(self.describe(branch) for branch in branches)
            raise MappingError(
                f"{where}: the union [{described}] cannot take JSON values; only a union of null and one other "
                'type (["null", T] or [T, "null"]) or a single type ([T]) can (as in Divolte).'
            )
        read = self.raw(branches[nulls.index(False)], where)

        def nullable(value: Any) -> Any:
            return None if value is None else read(value)

        return nullable

    def raw(self, schema: Any, where: str) -> Converter:
        """A converter for a non-union schema; for scalars, Java's null comes back as ``None``."""
        if isinstance(schema, str):
            if schema in _PRIMITIVES:
                return scalar_reader(schema)
            return self.named(schema, where)
        if isinstance(schema, list):
            return self.union(schema, where)
        kind = schema.get("type")
        if not isinstance(kind, str):
            return self.compile(kind, where)
        if kind in _PRIMITIVES:
            return scalar_reader(kind)
        if kind == "array":
            return self.array(schema, where)
        if kind == "map":
            return self.map(schema, where)
        if kind in ("record", "error", "enum", "fixed"):
            return self.named(schema["name"], where, schema)
        return self.named(kind, where)

    def named(self, name: str, where: str, definition: Any = None) -> Converter:
        """A record, enum or fixed, built once per name; a recursive reference calls through a forwarder."""
        if name in self.built:
            return self.built[name]
        if definition is None:
            if name not in self.names:
                raise MappingError(f"{where}: unknown Avro type '{name}'.")
            definition = self.names[name]
        target: list[Converter] = []

        def forward(value: Any) -> Any:
            return target[0](value)

        self.built[name] = forward
        kind = definition["type"]
        if kind == "enum":
            converter = self.enum(definition)
        elif kind == "fixed":
            converter = self.fixed(definition)
        else:
            converter = self.record(definition, where)
        target.append(converter)
        self.built[name] = converter
        return converter

    def record(self, schema: Any, where: str) -> Converter:
        record_name = schema["name"]
        fields = []
        for field in schema["fields"]:
            field_where = f"{where} → field '{field['name']}' of record {record_name}"
            default = _NO_DEFAULT
            if "default" in field:
                default = self.default(field["type"], field["default"], field_where)
            fields.append((field["name"], self.compile(field["type"], field_where), default))

        def read(value: Any) -> dict[str, Any]:
            if not isinstance(value, dict):
                raise mismatch(value, f"record {record_name}")
            record: dict[str, Any] = {}
            for name, convert, default in fields:
                if name in value:
                    try:
                        record[name] = convert(value[name])
                    except JsonMismatch as exc:
                        raise exc.inside(f".{name}") from None
                elif default is _NO_DEFAULT:
                    raise JsonMismatch(
                        f"the JSON object lacks field '{name}' of record {record_name}, which has no default"
                    )
                else:
                    record[name] = copy.deepcopy(default) if isinstance(default, list | dict) else default
            return record

        return read

    def array(self, schema: Any, where: str) -> Converter:
        convert = self.compile(schema["items"], f"{where} → array items")

        def read(value: Any) -> list[Any]:
            if not isinstance(value, list):
                return [convert(value)]  # ACCEPT_SINGLE_VALUE_AS_ARRAY
            result = []
            for index, item in enumerate(value):
                try:
                    result.append(convert(item))
                except JsonMismatch as exc:
                    raise exc.inside(f"[{index}]") from None
            return result

        return read

    def map(self, schema: Any, where: str) -> Converter:
        convert = self.compile(schema["values"], f"{where} → map values")

        def read(value: Any) -> dict[str, Any]:
            if not isinstance(value, dict):
                raise mismatch(value, "map")
            result = {}
            for key, item in value.items():
                try:
                    result[key] = convert(item)
                except JsonMismatch as exc:
                    raise exc.inside(f"[{key!r}]") from None
            return result

        return read

    @staticmethod
    def enum(schema: Any) -> Converter:
        symbols = frozenset(schema["symbols"])
        name = schema["name"]

        def read(value: Any) -> str:
            symbol = read_string(value)  # Jackson reads the symbol as a String first
            if symbol in symbols:
                return symbol  # type: ignore[return-value]
            raise JsonMismatch(f"{describe_json(value)} is not a symbol of Avro enum {name}")

        return read

    @staticmethod
    def fixed(schema: Any) -> Converter:
        size: int = schema["size"]
        target = f"fixed {schema['name']} ({size} bytes)"

        def read(value: Any) -> bytes:
            if isinstance(value, str):
                data = base64_bytes(value, target)
            elif isinstance(value, list):
                data = bytes(byte_value(item, target) for item in value)
            elif isinstance(value, int) and not isinstance(value, bool):
                data = bytes([byte_value(value, target)])  # ACCEPT_SINGLE_VALUE_AS_ARRAY for byte[]
            else:
                raise mismatch(value, target)
            if len(data) < size:
                raise JsonMismatch(f"{len(data)} bytes are too few for Avro {target}")
            return data[:size]  # Avro's writer only writes the first `size` bytes

        return read

    def default(self, schema: Any, value: Any, where: str) -> Any:
        """A field default (Avro's JSON encoding) as a value fastavro writes; an invalid one is refused."""
        try:
            return self.default_value(schema, value)
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            raise MappingError(f"{where}: the default {value!r} is not valid for its type ({exc}).") from exc

    def default_value(self, schema: Any, value: Any) -> Any:
        if isinstance(schema, list):
            if value is None and "null" in (self.type_name(branch) for branch in schema):
                return None  # meant for the null branch even where it is not first (Avro wants it first)
            return self.default_value(schema[0], value)  # a union's default belongs to its first branch
        if isinstance(schema, dict) and not isinstance(schema.get("type"), str):
            return self.default_value(schema["type"], value)
        definition = schema if isinstance(schema, dict) else self.names.get(schema, schema)
        kind = self.type_name(definition)
        if kind in ("bytes", "fixed"):
            data = value.encode("latin-1")  # Avro writes byte defaults as one character per byte
            if kind == "fixed" and len(data) != definition["size"]:
                raise ValueError(f"{len(data)} bytes for a fixed of size {definition['size']}")
            return data
        if kind == "array":
            return [self.default_value(definition["items"], item) for item in value]
        if kind == "map":
            return {key: self.default_value(definition["values"], item) for key, item in value.items()}
        if kind in ("record", "error"):
            record = {}
            for field in definition["fields"]:
                field_value = value[field["name"]] if field["name"] in value else field["default"]
                record[field["name"]] = self.default_value(field["type"], field_value)
            return record
        return _primitive_default(kind, definition, value)

    def type_name(self, schema: Any) -> str:
        """The Avro type of a schema node: a primitive name, ``record``, ``array``, ..., or ``union``."""
        if isinstance(schema, list):
            return "union"
        if isinstance(schema, str):
            return schema if schema in _PRIMITIVES else self.type_name(self.names.get(schema, {"type": schema}))
        kind = schema.get("type")
        return kind if isinstance(kind, str) else self.type_name(kind)

    def describe(self, schema: Any) -> str:
        if isinstance(schema, str):
            return schema
        if isinstance(schema, list):
            return "[" + ", ".join(self.describe(branch) for branch in schema) + "]"
        return str(schema.get("name") or self.type_name(schema))


def compile_converter(schema: Any, names: Mapping[str, Any] | None = None) -> Converter:
    """Build, once at start-up, the converter of JSON values onto ``schema`` (fastavro's parsed form).

    ``names`` resolves named types referenced by full name (``collect_names`` of the whole record schema);
    types defined inside ``schema`` itself are found without it. An unsupported union, an unknown type or an
    invalid default raises ``MappingError``. The converter raises ``JsonMismatch`` for a value that does not
    fit, never anything else.
    """
    known = {**collect_names(schema), **(names or {})}
    convert = _Compiler(known).compile(schema, "JSON target")

    def guarded(value: Any) -> Any:
        try:
            return convert(value)
        except RecursionError:
            raise JsonMismatch("the JSON value is nested too deeply for this schema") from None

    return guarded


def check_json_target(schema: Any, names: Mapping[str, Any] | None = None) -> None:
    """Raise ``MappingError`` unless JSON values can be mapped onto ``schema`` (Divolte's ``checkValid``)."""
    compile_converter(schema, names)


def convert(value: Any, schema: Any, names: Mapping[str, Any] | None = None) -> Any:
    """Convert one JSON value onto ``schema``; compile once with ``compile_converter`` on a hot path."""
    return compile_converter(schema, names)(value)
