"""Load a Python mapping file, check it against its Avro schema, and compile it into per-event closures.

Start-up checks (SPEC §6.5), each failing with the mapping file, line, field and both types: the field
exists; a union target has exactly two branches, one of them null; a producer's type is exactly the
field's type (an Integer producer onto a ``long`` field is an error, as in Divolte); lists go onto arrays of
their item type; JSON producers go onto any type the JSON→Avro converter supports and are converted per
event (a runtime mismatch leaves the field untouched, as in Divolte). Python literals are checked by value:
a ``str`` onto ``string``, a ``bool`` onto ``boolean``, an ``int`` onto ``int`` (if it fits) or ``long``,
a ``float`` onto ``float`` or ``double``.

Per event, the compiled mapping runs its actions in order on a fresh record dict; ``stop()`` ends the
mapping, ``exit()`` leaves the innermost section, ``discard()`` drops the event for this mapping. The
record is then written with the schema's defaults for unset fields.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

from collector.avro.encode import RecordEncoder
from collector.avro.schemas import Schema
from collector.errors import MappingError
from collector.events import DivolteEvent
from collector.mapping.base import DISCARD
from collector.mapping.dsl import (
    DSL_NAMES,
    Action,
    DiscardAction,
    ExitAction,
    MapAction,
    SectionAction,
    StopAction,
    WhenAction,
    Where,
    recording,
)
from collector.mapping.java.jsonavro import JsonMismatch, check_json_target, compile_converter
from collector.mapping.producers import JSON, Producer, ValueType
from collector.mapping.vocabulary import Environment, Vocabulary
from collector.ratelimit import RateLimitedLog

log = logging.getLogger(__name__)

CONTINUE, STOP, EXIT, DISCARDED = 0, 1, 2, 3
"""How a step ends: go on with the next action, stop the mapping, leave the section, or drop the event."""
Step = Callable[[DivolteEvent, dict[str, Any]], int]
INT32 = range(-(2**31), 2**31)
INT64 = range(-(2**63), 2**63)


def named_types(schema: Any, names: dict[str, Any] | None = None) -> dict[str, Any]:
    """Every named type (record, enum, fixed) in a parsed schema, by full name, for resolving references."""
    names = {} if names is None else names
    if isinstance(schema, list):
        for branch in schema:
            named_types(branch, names)
    elif isinstance(schema, dict):
        kind = schema.get("type")
        if kind in ("record", "error", "enum", "fixed") and "name" in schema:
            names[schema["name"]] = schema
        for child in [f["type"] for f in schema.get("fields", [])] + [schema.get("items"), schema.get("values")]:
            if child is not None:
                named_types(child, names)
    return names


def _describe_avro(schema: Any) -> str:
    if isinstance(schema, str):
        return schema
    if isinstance(schema, list):
        return "[" + ", ".join(_describe_avro(s) for s in schema) + "]"
    kind = schema.get("type")
    if kind == "array":
        return f"array<{_describe_avro(schema['items'])}>"
    if kind == "map":
        return f"map<{_describe_avro(schema['values'])}>"
    return str(schema.get("name", kind))


def _unwrap(schema: Any, names: dict[str, Any]) -> Any:
    """The non-null branch of a trivial ``[null, T]`` union; a named reference resolved; else as is."""
    if isinstance(schema, list):
        branches = [s for s in schema if s != "null"]
        if len(schema) != 2 or len(branches) != 1:
            raise ValueError(f"mapping to non-trivial unions ({_describe_avro(schema)}) is not supported")
        schema = branches[0]
    if isinstance(schema, str) and schema in names:
        return names[schema]
    return schema


def _primitive(schema: Any) -> str | None:
    if isinstance(schema, str):
        return schema
    if isinstance(schema, dict) and isinstance(schema.get("type"), str) and len(schema) == 1:
        return str(schema["type"])
    return None


class Compiler:
    """Turns the recorded actions of one mapping into closures, checking types against ``schema``."""

    def __init__(self, schema: Schema) -> None:
        self.schema = schema
        self.names = named_types(schema.parsed)
        self.fields = {f["name"]: f["type"] for f in schema.parsed["fields"]}
        self._mismatch_log = RateLimitedLog(log, 10.0)

    def block(self, actions: list[Action]) -> Step:
        steps = [self.action(action) for action in actions]

        def run(event: DivolteEvent, record: dict[str, Any]) -> int:
            for step in steps:
                outcome = step(event, record)
                if outcome:
                    return outcome
            return CONTINUE

        return run

    def action(self, action: Action) -> Step:
        if isinstance(action, MapAction):
            return self.map_action(action)
        if isinstance(action, WhenAction):
            condition, body = action.condition.fn, self.block(action.actions)

            def when(event: DivolteEvent, record: dict[str, Any]) -> int:
                return body(event, record) if condition(event) else CONTINUE

            return when
        if isinstance(action, SectionAction):
            inner = self.block(action.actions)

            def section(event: DivolteEvent, record: dict[str, Any]) -> int:
                outcome = inner(event, record)
                return CONTINUE if outcome == EXIT else outcome

            return section
        outcome = {StopAction: STOP, ExitAction: EXIT, DiscardAction: DISCARDED}[type(action)]
        return lambda event, record: outcome

    def _field_schema(self, action: MapAction) -> Any:
        if action.field not in self.fields:
            raise MappingError(
                f"{action.where}: field '{action.field}' does not exist in {self.schema.full_name} "
                f"({self.schema.origin}); fields: {', '.join(self.fields)}"
            )
        try:
            return _unwrap(self.fields[action.field], self.names)
        except ValueError as exc:
            raise MappingError(f"{action.where}: field '{action.field}': {exc}") from None

    def map_action(self, action: MapAction) -> Step:
        target = self._field_schema(action)
        name, where = action.field, action.where
        if action.is_literal:
            value = self._check_literal(action, target)
            return lambda event, record: _set(record, name, value)
        producer = action.producer
        if producer.value_type is JSON:
            return self._json_step(action, target)
        self._check_type(where, name, producer, target)
        fn = producer.fn

        def assign(event: DivolteEvent, record: dict[str, Any]) -> int:
            value = fn(event)
            if value is not None:
                record[name] = value
            return CONTINUE

        return assign

    def _check_literal(self, action: MapAction, target: Any) -> Any:
        value, kind = action.literal, _primitive(target)
        fits = (
            (isinstance(value, bool) and kind == "boolean")
            or (isinstance(value, str) and kind == "string")
            or (type(value) is int and ((kind == "int" and value in INT32) or (kind == "long" and value in INT64)))
            or (isinstance(value, float) and kind in ("float", "double"))
        )
        if not fits:
            raise MappingError(
                f"{action.where}: field '{action.field}': cannot map the literal {value!r} "
                f"({type(value).__name__}) onto {_describe_avro(target)}."
            )
        return value

    def _check_type(self, where: Where, name: str, producer: Producer, target: Any) -> None:
        value_type: ValueType = producer.value_type
        kind = _primitive(target)
        ok = False
        if value_type.avro is None:
            raise MappingError(
                f"{where}: field '{name}': {producer.describe} is a {value_type.name}, which cannot be mapped "
                "itself; map one of its sub-values instead."
            )
        if value_type.avro == "array":
            items = target.get("items") if isinstance(target, dict) and target.get("type") == "array" else None
            ok = items is not None and _primitive(_unwrap_items(items, self.names)) == value_type.items
        elif value_type.avro == "map":
            values = target.get("values") if isinstance(target, dict) and target.get("type") == "map" else None
            inner = values.get("items") if isinstance(values, dict) and values.get("type") == "array" else None
            ok = inner is not None and _primitive(inner) == "string"
        else:
            ok = kind == value_type.avro
        if not ok:
            raise MappingError(
                f"{where}: field '{name}': cannot map {producer.describe} ({value_type.name}) onto "
                f"{_describe_avro(target)}; types must match exactly (Divolte does not widen, e.g. int to long)."
            )

    def _json_step(self, action: MapAction, target: Any) -> Step:
        try:
            check_json_target(target)
            convert = compile_converter(target, self.names)
        except MappingError as exc:
            raise MappingError(f"{action.where}: field '{action.field}': {exc}") from None
        fn, name, mismatches = action.producer.fn, action.field, self._mismatch_log

        def assign_json(event: DivolteEvent, record: dict[str, Any]) -> int:
            value = fn(event)
            if value is not None:
                try:
                    record[name] = convert(value)
                except JsonMismatch as exc:  # Divolte: the field stays untouched, later actions still run
                    mismatches.info("%s: field '%s' left unset: %s", action.where, name, exc)
            return CONTINUE

        return assign_json


def _unwrap_items(items: Any, names: dict[str, Any]) -> Any:
    try:
        return _unwrap(items, names)
    except ValueError:
        return items


def _set(record: dict[str, Any], name: str, value: Any) -> int:
    record[name] = value
    return CONTINUE


class CompiledMapping:
    """A checked, compiled mapping (a ``RecordMapping``): the record, or ``DISCARD`` when it was discarded."""

    def __init__(self, schema: Schema, actions: list[Action], origin: str) -> None:
        self.schema = schema
        self.origin = origin
        self.actions = actions
        self._run = Compiler(schema).block(actions)
        self._encoder = RecordEncoder(schema)

    def map(self, event: DivolteEvent) -> dict[str, Any] | None:
        record: dict[str, Any] = {}
        return DISCARD if self._run(event, record) == DISCARDED else record

    def map_encoded(self, event: DivolteEvent) -> bytes | None:
        record: dict[str, Any] = {}
        return DISCARD if self._run(event, record) == DISCARDED else self._encoder.encode(record)


def _error_line(exc: BaseException, file: str) -> int:
    if isinstance(exc, SyntaxError) and exc.filename == file and exc.lineno:
        return exc.lineno
    lines = [frame.lineno for frame in traceback.extract_tb(exc.__traceback__) if frame.filename == file]
    return lines[-1] if lines and lines[-1] is not None else 0


def load_mapping(path: str | Path, schema: Schema, environment: Environment) -> CompiledMapping:
    """Run a Python mapping file once, then check and compile what it declared."""
    file = str(Path(path).resolve())
    try:
        source = Path(file).read_text(encoding="utf-8")
    except OSError as exc:
        raise MappingError(f"Cannot read mapping file '{path}': {exc.strerror}.") from exc
    namespace: dict[str, Any] = {**DSL_NAMES, **Vocabulary(environment).functions(), "__file__": file}
    with recording(file) as recorder:
        try:
            exec(compile(source, file, "exec"), namespace)
            recorder.check_complete()
            return CompiledMapping(schema, recorder.actions, file)
        except MappingError as exc:
            message = str(exc)
            if message.startswith(file):
                raise
            raise MappingError(f"{file}:{_error_line(exc, file)}: {message}") from None
        except Exception as exc:
            raise MappingError(f"{file}:{_error_line(exc, file)}: {type(exc).__name__}: {exc}") from exc
