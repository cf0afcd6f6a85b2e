"""The syntax tree of a Groovy mapping script (``parser.py`` builds it, ``evaluate.py`` runs it once).

Every node keeps the line and column it starts at, so that every start-up error names them. The tree holds
the Groovy that mappings use around Divolte's DSL: literals, GStrings, lists, names, calls (with and
without parentheses), method chains, closures (with parameters or the implicit ``it``), ``+``, the
comparisons and logic of ``==``, ``!=``, ``&&``, ``||``, ``!``, the ternary and Elvis operators, ``def``,
assignments, ``return`` and ``if``/``else``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from collector.mapping.groovy.lexer import Comment


@dataclass(frozen=True, slots=True)
class Node:
    line: int
    column: int


@dataclass(frozen=True, slots=True)
class Literal(Node):
    value: Any
    java: str
    """Groovy's type: ``String``, ``Boolean``, ``Integer``, ``Long``, ``Float``, ``Double``, ``BigDecimal``…"""
    text: str


@dataclass(frozen=True, slots=True)
class GString(Node):
    """``"seed-$it"``: text parts and the expressions interpolated between them."""

    parts: tuple[str | Node, ...]
    text: str
    """The source text, for messages."""


@dataclass(frozen=True, slots=True)
class ListLiteral(Node):
    items: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Name(Node):
    name: str


@dataclass(frozen=True, slots=True)
class Call(Node):
    """``name(args)`` or the command ``name args``: a function of the script or of ``mapping { }``, or a closure
    held by a variable."""

    name: str
    args: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class MethodCall(Node):
    target: Node
    name: str
    args: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Property(Node):
    """``target.name`` without parentheses: not a call in Groovy."""

    target: Node
    name: str


@dataclass(frozen=True, slots=True)
class Concat(Node):
    """``left + right``: Groovy joins strings known at start-up (the evaluation refuses anything else)."""

    left: Node
    right: Node


@dataclass(frozen=True, slots=True)
class Operator(Node):
    """``left == right``, ``!=``, ``&&``, ``||`` or the Elvis ``left ?: right``, at the operator's position."""

    op: str
    left: Node
    right: Node


@dataclass(frozen=True, slots=True)
class Not(Node):
    """``!operand``."""

    operand: Node


@dataclass(frozen=True, slots=True)
class Ternary(Node):
    """``condition ? then : otherwise``, at the ``?``."""

    condition: Node
    then: Node
    otherwise: Node


@dataclass(frozen=True, slots=True)
class Closure(Node):
    body: tuple[Statement, ...]
    params: tuple[str, ...] | None = None
    """The declared parameters (``{ a, b -> … }``); None for a closure with the implicit parameter ``it``."""


@dataclass(frozen=True, slots=True)
class Def(Node):
    name: str
    value: Node | None


@dataclass(frozen=True, slots=True)
class Assign(Node):
    name: str
    value: Node


@dataclass(frozen=True, slots=True)
class ExprStmt(Node):
    expr: Node


@dataclass(frozen=True, slots=True)
class Return(Node):
    expr: Node


@dataclass(frozen=True, slots=True)
class If(Node):
    condition: Node
    then: tuple[Statement, ...]
    otherwise: tuple[Statement, ...] | None
    """The ``else`` branch (an ``else if`` is an ``If`` alone in it); None without ``else``."""


Statement = Def | Assign | ExprStmt | Return | If


@dataclass(frozen=True, slots=True)
class Script:
    body: tuple[Statement, ...]
    comments: tuple[Comment, ...]
