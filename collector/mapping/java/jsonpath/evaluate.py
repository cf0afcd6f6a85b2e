"""Evaluate compiled JsonPath steps over a JSON tree with Jayway 2.4's results, as Divolte configures it.

Divolte reads with ``Option.SUPPRESS_EXCEPTIONS`` over Jackson nodes, and both shape the results:

* a *definite* path (single names and single indexes only) yields one value, or nothing when it does not
  match; an *indefinite* one yields a list, possibly empty, which still counts as present; anything Jayway
  throws while reading gives the same "nothing" or empty list;
* several names as the last step (``$['a','b']``) yield one object holding those names that exist;
* an index outside the array yields JSON ``null`` (``None``), not nothing, because Jackson's
  ``ArrayNode.get`` returns null and Jayway records it; a property whose value is null yields ``None``;
* slices follow Jayway's arithmetic (``[-2:]`` is the last two; ``[a:b]`` does not adjust a negative
  ``a``, so ``[-5:2]`` of three elements starts with two nulls; a step is ignored);
* ``..x`` visits the document depth first in document order and offers ``x`` to every object that has
  it; ``..[0].x`` applies ``.x`` to every element of every array, ignoring the index (a Jayway quirk);
* inside filters a path's value is "undefined" where Jayway throws, and existence tests require every
  property on the way (Jayway's ``REQUIRE_PROPERTIES``).

Each rule was checked against the Jayway 2.4.0 jar on random trees and paths.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from collector.mapping.java.jsonpath.filters import UNDEFINED, Aborted, Node, Predicate, Rejected, to_node
from collector.mapping.java.jsonpath.syntax import Filter, Index, Property, Scan, Slice, Token, Wildcard, token_definite


class _NotFound(Exception):
    """Jayway's ``PathNotFoundException``: the path cannot continue where it has to."""


class _Evaluation:
    """One walk of a token list over a document, collecting results as Jayway's evaluation context does.

    With ``require`` (Jayway's ``REQUIRE_PROPERTIES``, used for existence tests in filters) a missing
    property raises ``_NotFound`` instead of being skipped.
    """

    def __init__(self, tokens: tuple[Token, ...], root: Any, *, require: bool) -> None:
        self.tokens = tokens
        self.root = root
        self.require = require
        self.results: list[Any] = []

    def step(self, index: int, model: Any, upstream_definite: bool) -> None:
        """Apply token ``index`` (and the rest) to ``model``; past the last token, ``model`` is a result."""
        if index == len(self.tokens):
            self.results.append(model)
            return
        token = self.tokens[index]
        leaf = index == len(self.tokens) - 1
        if isinstance(token, Property):
            self.property(index, token, model, upstream_definite, leaf)
        elif isinstance(token, Index | Slice):
            if not isinstance(model, list):
                if upstream_definite:
                    raise _NotFound
                return
            definite = upstream_definite and token_definite(token, leaf)
            for position in _positions(token, len(model)):
                self.element(index, model, position, definite)
        elif isinstance(token, Wildcard):
            if isinstance(model, dict):
                for value in model.values():
                    self.step(index + 1, value, False)
            elif isinstance(model, list):
                for position in range(len(model)):
                    self.element(index, model, position, False)
        elif isinstance(token, Scan):
            self.scan(index, model)
        else:
            self.filter(index, token, model, upstream_definite)

    def element(self, index: int, array: list[Any], position: int, definite: bool) -> None:
        """Continue with ``array[position]``; out of range (either way) it is JSON null, as in Jackson."""
        effective = position + len(array) if position < 0 else position
        value = array[effective] if 0 <= effective < len(array) else None
        self.step(index + 1, value, definite)

    def property(self, index: int, token: Property, model: Any, upstream_definite: bool, leaf: bool) -> None:
        """Select named properties; several names as the last step merge into one object."""
        if not isinstance(model, dict):
            # Jayway 2.4 throws here even with SUPPRESS_EXCEPTIONS; that only shows inside filters, where
            # the path's value becomes undefined rather than an empty list.
            if upstream_definite:
                raise _NotFound
            return
        if leaf and len(token.names) > 1:
            merged: dict[str, Any] = {}
            for name in token.names:
                if name in model:
                    merged[name] = model[name]
                elif self.require:
                    raise _NotFound
            self.results.append(merged)
            return
        definite = upstream_definite and len(token.names) == 1
        for name in token.names:
            if name in model:
                self.step(index + 1, model[name], definite)
            elif self.require:
                raise _NotFound

    def scan(self, index: int, model: Any) -> None:
        """``..``: offer every object and array below ``model`` (itself included) to the next step."""
        target = self.tokens[index + 1]
        target_leaf = index + 1 == len(self.tokens) - 1
        accepts = self.scan_predicate(target, target_leaf)
        pending = [model]
        while pending:
            current = pending.pop()
            if isinstance(current, dict):
                if accepts(current):
                    self.step(index + 1, current, False)
                pending.extend(reversed(list(current.values())))
            elif isinstance(current, list):
                if accepts(current):
                    if target_leaf:
                        self.step(index + 1, current, False)
                    else:
                        for element in current:
                            self.step(index + 2, element, False)
                pending.extend(reversed(current))

    def scan_predicate(self, target: Token, target_leaf: bool) -> Callable[[Any], bool]:
        """Which containers a scan hands to the step after it (Jayway's scan predicates)."""
        if isinstance(target, Property):
            if not token_definite(target, target_leaf):
                return lambda model: isinstance(model, dict)
            names = target.names
            return lambda model: isinstance(model, dict) and all(name in model for name in names)
        if isinstance(target, Index | Slice):
            return lambda model: isinstance(model, list)
        if isinstance(target, Wildcard):
            return lambda model: True
        if isinstance(target, Filter):
            predicate = target.predicate
            return lambda model: self.accept(predicate, model)
        return lambda model: False

    def filter(self, index: int, token: Filter, model: Any, upstream_definite: bool) -> None:
        """``[?( … )]``: keep an object if it passes, or the elements of an array that pass."""
        if isinstance(model, dict):
            if self.accept(token.predicate, model):
                self.step(index + 1, model, False)
        elif isinstance(model, list):
            for position, element in enumerate(model):
                if self.accept(token.predicate, element):
                    self.element(index, model, position, False)
        elif upstream_definite:
            raise Rejected("a filter cannot be applied to a primitive value")

    def accept(self, predicate: Predicate, item: Any) -> bool:
        """Test one item; a filter that cannot be applied rejects it."""
        try:
            return predicate.test(item, self.root)
        except Rejected:
            return False


def _positions(token: Index | Slice, length: int) -> Iterable[int]:
    """The indexes an index or slice step visits, in order, with Jayway's slice arithmetic."""
    if isinstance(token, Index):
        return token.indexes
    start, stop = token.start, token.stop
    if length == 0:
        return ()
    if stop is None:
        assert start is not None
        return range(max(0, start + length if start < 0 else start), length)
    if start is None:
        return range(0, min(length, stop + length if stop < 0 else stop))
    return range(start, min(length, stop))


@dataclass(frozen=True)
class JsonPath:
    """A compiled JsonPath. ``read`` gives ``(present, value)``; an indefinite path's value is a list."""

    expression: str
    definite: bool
    _tokens: tuple[Token, ...]
    _relative: bool = False

    def read(self, tree: Any) -> tuple[bool, Any]:
        """Evaluate against ``tree``: a definite path gives its value or ``(False, None)``; else the list."""
        evaluation = _Evaluation(self._tokens, tree, require=False)
        try:
            evaluation.step(0, tree, True)
        except (_NotFound, Rejected, Aborted):
            return (False, None) if self.definite else (True, [])
        if self.definite:
            return (True, evaluation.results[-1]) if evaluation.results else (False, None)
        return True, evaluation.results

    def operand_value(self, item: Any, root: Any) -> Node:
        """The value of this path inside a filter, relative to ``item`` (``@``) or ``root`` (``$``)."""
        evaluation = _Evaluation(self._tokens, root, require=False)
        try:
            evaluation.step(0, item if self._relative else root, True)
        except _NotFound:
            return UNDEFINED
        if not self.definite:
            return ("json", evaluation.results)
        return to_node(evaluation.results[-1]) if evaluation.results else UNDEFINED

    def operand_exists(self, item: Any, root: Any) -> bool:
        """Whether this path selects something from ``item`` when every property on the way must exist."""
        evaluation = _Evaluation(self._tokens, root, require=True)
        try:
            evaluation.step(0, item if self._relative else root, True)
        except _NotFound:
            return False
        return bool(evaluation.results) or not self.definite
