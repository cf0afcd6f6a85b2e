"""The Python mapping DSL: what a ``mapping_script_file`` written in Python looks like, and how it is recorded.

A mapping file is plain Python, run once at start-up with the DSL's names already defined::

    map_(location()).onto('location')
    map_(parse(location()).to('uri').query().value('q')).onto('searchTerm')
    with when(eventType().equalTo('pageView')):
        map_(header('Accept-Language').first()).onto('language')
    when(referer().isAbsent()).stop()
    with section():
        when(not_(corrupt())).exit()       # leaves this section only
        map_(True).onto('suspicious')
    when(eventType().equalTo('bot')).discard()   # drop the event for this mapping (not in Divolte)

Each statement appends an action to the current block, with the file and line it came from so that
start-up errors can point at it. ``with when(...)`` and ``with section()`` open nested blocks; Divolte's
closure forms are spelled ``when(cond).apply(fn)`` and ``section(fn)``. Nothing here runs per event:
``collector.mapping.compile`` type-checks the recorded actions against the schema and turns them into
closures.
"""

from __future__ import annotations

import contextvars
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from collector.errors import MappingError
from collector.mapping.producers import Producer, and_, boolean, literal_producer, not_, or_


@dataclass(frozen=True, slots=True)
class Where:
    """The place in the mapping file an action was declared."""

    file: str
    line: int
    column: int = 0
    """1-based, where the mapping's language reports one (Groovy mappings); 0 when unknown."""

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}" if self.column else f"{self.file}:{self.line}"


@dataclass(slots=True)
class MapAction:
    where: Where
    producer: Producer
    field: str
    literal: Any = None
    is_literal: bool = False


@dataclass(slots=True)
class WhenAction:
    where: Where
    condition: Producer
    actions: list[Action] = field(default_factory=list)


@dataclass(slots=True)
class SectionAction:
    where: Where
    actions: list[Action] = field(default_factory=list)


@dataclass(slots=True)
class StopAction:
    where: Where


@dataclass(slots=True)
class ExitAction:
    where: Where


@dataclass(slots=True)
class DiscardAction:
    where: Where


Action = MapAction | WhenAction | SectionAction | StopAction | ExitAction | DiscardAction


class Recorder:
    """Collects the actions of one mapping file while it runs; ``blocks`` is the stack of open blocks."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.actions: list[Action] = []
        self.blocks: list[list[Action]] = [self.actions]
        self.pending: dict[object, tuple[Where, str]] = {}
        """Statements begun but not finished (``map_`` without ``onto``), keyed by the statement object."""
        self.position: Where | None = None
        """Set by a front end that runs a mapping file without Python frames (``groovy/__init__.py``)."""

    def where(self) -> Where:
        """The line of the mapping file that is running now (the innermost frame in that file)."""
        if self.position is not None:
            return self.position
        frame = sys._getframe(1)
        while frame is not None:
            if frame.f_code.co_filename == self.file:
                return Where(self.file, frame.f_lineno)
            frame = frame.f_back  # type: ignore[assignment]
        return Where(self.file, 0)

    def add(self, action: Action) -> None:
        self.blocks[-1].append(action)

    @contextmanager
    def block(self, actions: list[Action]) -> Iterator[None]:
        self.blocks.append(actions)
        try:
            yield
        finally:
            self.blocks.pop()

    def check_complete(self) -> None:
        if self.pending:
            where, what = min(self.pending.values(), key=lambda item: item[0].line)
            raise MappingError(f"{where}: {what}")


_recorder: contextvars.ContextVar[Recorder] = contextvars.ContextVar("mapping_recorder")


def recorder() -> Recorder:
    try:
        return _recorder.get()
    except LookupError:
        raise MappingError("mapping DSL functions can only be used inside a mapping file") from None


@contextmanager
def recording(file: str) -> Iterator[Recorder]:
    token = _recorder.set(Recorder(file))
    try:
        yield _recorder.get()
    finally:
        _recorder.reset(token)


def _as_producer(value: Any) -> Producer:
    return value if isinstance(value, Producer) else literal_producer(value)


class PendingMap:
    """``map_(value)``: completed by ``.onto('field')``."""

    def __init__(self, value: Any) -> None:
        self._recorder = recorder()
        self._where = self._recorder.where()
        self._value = value
        self._producer = _as_producer(value)
        self._recorder.pending[self] = (self._where, f"map_({self._producer.describe}) has no .onto('field')")

    def onto(self, field_name: str) -> None:
        self._recorder.pending.pop(self, None)
        if not isinstance(field_name, str):
            raise MappingError(f"{self._where}: onto() takes a field name, not {field_name!r}")
        literal = not isinstance(self._value, Producer)
        self._recorder.add(MapAction(self._where, self._producer, field_name, self._value, literal))


def map_(value: Any) -> PendingMap:
    """Map a value (a producer or a literal) onto a field: ``map_(location()).onto('location')``."""
    return PendingMap(value)


class When:
    """``when(cond)``: use as ``with when(cond): …``, or ``.apply(fn)``, ``.stop()``, ``.exit()``, ``.discard()``."""

    def __init__(self, condition: Any) -> None:
        self._recorder = recorder()
        self._where = self._recorder.where()
        self._action = WhenAction(self._where, boolean(_as_producer(condition)))
        self._recorder.pending[self] = (
            self._where,
            "when(...) does nothing: use 'with when(...):', or add .apply(fn), .stop(), .exit() or .discard()",
        )

    def _register(self) -> list[Action]:
        self._recorder.pending.pop(self, None)
        self._recorder.add(self._action)
        return self._action.actions

    def __enter__(self) -> None:
        self._recorder.blocks.append(self._register())

    def __exit__(self, *exc: object) -> None:
        self._recorder.blocks.pop()

    def apply(self, body: Callable[[], Any]) -> None:
        with self._recorder.block(self._register()):
            body()

    def stop(self) -> None:
        self._register().append(StopAction(self._where))

    def exit(self) -> None:
        self._register().append(ExitAction(self._where))

    def discard(self) -> None:
        self._register().append(DiscardAction(self._where))


def when(condition: Any) -> When:
    return When(condition)


class Section:
    """``with section(): …`` (or ``section(fn)``): an ``exit()`` inside leaves only this section."""

    def __init__(self) -> None:
        self._recorder = recorder()
        self._action = SectionAction(self._recorder.where())
        self._recorder.add(self._action)

    def __enter__(self) -> None:
        self._recorder.blocks.append(self._action.actions)

    def __exit__(self, *exc: object) -> None:
        self._recorder.blocks.pop()


def section(body: Callable[[], Any] | None = None) -> Section:
    block = Section()
    if body is not None:
        with block:
            body()
    return block


def stop() -> None:
    """End the whole mapping here; the record is still written."""
    rec = recorder()
    rec.add(StopAction(rec.where()))


def exit() -> None:
    """Leave the innermost section (or, outside any section, end the mapping); the record is still written."""
    rec = recorder()
    rec.add(ExitAction(rec.where()))


def discard() -> None:
    """Drop the event for this mapping: no record is written to its sinks (an addition to Divolte)."""
    rec = recorder()
    rec.add(DiscardAction(rec.where()))


DSL_NAMES: dict[str, Any] = {
    "map_": map_,
    "when": when,
    "section": section,
    "stop": stop,
    "exit": exit,
    "discard": discard,
    "not_": not_,
    "and_": and_,
    "or_": or_,
}
"""The statements of the DSL; ``compile.load_mapping`` adds the value functions of ``functions.Vocabulary``."""
