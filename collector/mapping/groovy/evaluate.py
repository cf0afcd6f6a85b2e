"""Running a parsed Groovy mapping once, as Groovy runs it: statements, scopes, closures, and values known at start-up.

This is the Groovy around Divolte's DSL; ``translate.py`` adds the DSL itself (``Translator`` extends
``Evaluator`` with ``mapping { }``, ``map … onto``, the value functions…). Variables live in closure scopes
(a name may not be declared twice where both are visible, as in Groovy). A closure without declared
parameters has the implicit ``it`` (null when it is called without an argument, which is how Divolte runs
``mapping { }`` and the DSL's closures), and sees the variables, ``it`` included, of where it was written.
Closures may be kept in variables and called (``f()``, ``f.call(x)``), lists iterated (``.each``,
``.collect``), and ``if``, ``==``, ``!=``, ``&&``, ``||``, ``!``, ``? :``, ``?:`` and GStrings computed, but
only on values the script knows at start-up: a condition on a value computed per event (``location()``)
is refused at its line and column, with the DSL's way of writing it (``when … apply``, ``.equalTo()``…).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from collector.errors import MappingError
from collector.mapping import dsl
from collector.mapping.groovy import constants
from collector.mapping.groovy.constants import NULL, is_constant
from collector.mapping.groovy.nodes import (
    Assign,
    Call,
    Closure,
    Concat,
    Def,
    ExprStmt,
    GString,
    If,
    ListLiteral,
    Literal,
    MethodCall,
    Name,
    Node,
    Not,
    Operator,
    Property,
    Return,
    Script,
    Statement,
    Ternary,
)
from collector.mapping.groovy.python_writer import PythonWriter, python_string
from collector.mapping.groovy.refusals import OPERATOR_ADVICE
from collector.mapping.groovy.vocabulary import Value
from collector.mapping.producers import Producer

MAX_DEPTH = 100
"""How deep closures may call closures (each call is a few Python frames)."""
DONE = object()
"""The value of a statement that declared an action (``map … onto``, ``stop()``…)."""


@dataclass(frozen=True, slots=True)
class ClosureValue:
    node: Closure
    scope: Scope


@dataclass(slots=True)
class Scope:
    parent: Scope | None
    in_mapping: bool
    """Inside ``mapping { }``, where Divolte's value functions and statements are reachable."""
    names: dict[str, tuple[Value, int]] = field(default_factory=dict)

    def find(self, name: str) -> tuple[Value, int] | None:
        scope: Scope | None = self
        while scope is not None:
            if name in scope.names:
                return scope.names[name]
            scope = scope.parent
        return None

    def owner(self, name: str) -> Scope | None:
        scope: Scope | None = self
        while scope is not None and name not in scope.names:
            scope = scope.parent
        return scope


class Evaluator:
    """Groovy's statements and expressions; the DSL's functions and methods come from the subclass's hooks."""

    def __init__(self, file: str, script: Script, source: str, reserved: set[str]) -> None:
        self.file = file
        self.script = script
        blank = {number for number, text in enumerate(source.splitlines(), 1) if not text.strip()}
        self.out = PythonWriter(script.comments, blank, reserved)
        self.recorder = dsl.recorder()
        self.depth = 0
        """Closure calls in progress: a closure that calls itself would never end (Groovy overflows its stack)."""

    # --- hooks for the DSL (translate.py) ------------------------------------------------------------

    def function(self, node: Call, args: list[Value], scope: Scope) -> Value:
        raise self.error(node, f"{node.name}() is not part of Divolte's mapping DSL")

    def dsl_method(self, node: MethodCall, target: Value, args: list[Value]) -> Value:
        raise self.error(node, f"{self.describe(target)} has no method {node.name}()")

    def unknown_name(self, node: Name) -> Value:
        raise self.error(node, f"'{node.name}' is not defined: declare it with `def {node.name} = …` first, or is it "
                               "a typo?")  # fmt: skip

    def check_effect(self, statement: Statement, result: Value) -> None:
        """A statement's value that is dropped: only actions (and what a called closure returns) may be."""

    def describe(self, value: Value) -> str:
        if value.java == "null":
            return "null"
        if value.java == "List":
            return f"the list {value.text}"
        if value.java:
            return f"the {value.java} {value.text}"
        if isinstance(value.obj, ClosureValue):
            return "a closure"
        return "an action"

    # --- errors and positions ------------------------------------------------------------------------

    def where(self, node: Node) -> dsl.Where:
        return dsl.Where(self.file, node.line, node.column)

    def error(self, node: Node, message: str) -> MappingError:
        return MappingError(f"{self.where(node)}: {message}")

    # --- statements ----------------------------------------------------------------------------------

    def block(self, body: tuple[Statement, ...], scope: Scope) -> None:
        for statement in body:
            result = self.statement(statement, scope)
            if result is not None and result.obj is not DONE and not result.discardable:
                self.check_effect(statement, result)

    def statement(self, statement: Statement, scope: Scope) -> Value | None:
        if isinstance(statement, Def):
            known = scope.find(statement.name)
            if known is not None:
                raise self.error(statement, f"the variable '{statement.name}' is already declared (line {known[1]})")
            value = NULL if statement.value is None else self.variable_value(statement.value, scope)
            scope.names[statement.name] = (self.keep(statement.name, value, statement.line), statement.line)
            return None
        if isinstance(statement, Assign):
            value = self.variable_value(statement.value, scope)
            owner = scope.owner(statement.name)
            if owner is None:  # an undeclared name is a script binding in Groovy: visible everywhere after this
                owner = scope
                while owner.parent is not None:
                    owner = owner.parent
            owner.names[statement.name] = (self.keep(statement.name, value, statement.line), statement.line)
            return None
        if isinstance(statement, If):
            condition = self.eval(statement.condition, scope)
            self.require_constant(statement.condition, condition, "if")
            branch = statement.then if constants.truth(condition) else statement.otherwise
            if branch:
                self.block(branch, Scope(scope, scope.in_mapping))
            return None
        if isinstance(statement, Return):
            raise self.error(statement, "`return` is only supported as the last statement of a closure")
        return self.eval(statement.expr, scope)

    def keep(self, name: str, value: Value, line: int) -> Value:
        """A variable's value, written to the Python as an assignment (a closure is not: its calls are)."""
        if isinstance(value.obj, ClosureValue):
            return value
        python_name = self.out.variable(name)
        self.out.emit(f"{python_name} = {value.py}", line)
        return Value(value.obj, python_name, value.java, value.text)

    def variable_value(self, node: Node, scope: Scope) -> Value:
        value = self.eval(node, scope)
        if value.obj is DONE:
            raise self.error(node, "this declares an action and has no value to keep in a variable")
        return value

    # --- closures ------------------------------------------------------------------------------------

    def closure_scope(self, closure: ClosureValue, args: list[Value], node: Node, in_mapping: bool) -> Scope:
        """The scope of one call of ``closure``: its parameters (or ``it``) bound to ``args``."""
        scope = Scope(closure.scope, in_mapping or closure.scope.in_mapping)
        params = closure.node.params
        if params is None:
            if len(args) > 1:
                raise self.error(node, f"this closure takes one argument (it), not {len(args)}")
            scope.names["it"] = (args[0] if args else NULL, closure.node.line)
            return scope
        if len(params) > 1 and len(args) == 1 and args[0].java == "List":  # Groovy spreads a list over them
            args = list(args[0].obj)
        if len(args) != len(params) and not (len(params) == 1 and not args):  # Groovy passes null to one
            raise self.error(node, f"this closure takes {len(params)} argument(s) ({', '.join(params)}), not "
                                   f"{len(args)}")  # fmt: skip
        for name in params:
            known = closure.scope.find(name)
            if known is not None:
                raise self.error(closure.node, f"the parameter '{name}' hides the variable declared at line {known[1]}")
        for name, value in zip(params, args or [NULL], strict=False):
            scope.names[name] = (value, closure.node.line)
        return scope

    def call_closure(self, closure: ClosureValue, args: list[Value], node: Node, in_mapping: bool = False) -> Value:
        """Run ``closure`` with ``args``; its value is its last statement's (``return`` there included), else null."""
        scope = self.closure_scope(closure, args, node, in_mapping)
        body = closure.node.body
        if self.depth >= MAX_DEPTH:
            raise self.error(node, f"closures call closures more than {MAX_DEPTH} deep here: a closure that calls "
                                   "itself never ends at start-up")  # fmt: skip
        self.depth += 1
        try:
            self.block(body[:-1], scope)
            last = body[-1] if body else None
            if isinstance(last, ExprStmt | Return):
                return self.eval(last.expr, scope)
            if last is not None:
                self.block((last,), scope)
            return NULL
        finally:
            self.depth -= 1

    def body_closure(self, closure: Value, node: Node, in_mapping: bool = True) -> Callable[[], None]:
        """A closure the DSL runs for its actions (``mapping``, ``apply``, ``section``), called without arguments."""
        if not isinstance(closure.obj, ClosureValue):
            raise self.error(node, f"expected a closure {{ … }}, found {self.describe(closure)}")
        value = closure.obj
        return lambda: self.block(value.node.body, self.closure_scope(value, [], node, in_mapping))

    # --- expressions ---------------------------------------------------------------------------------

    def eval(self, node: Node, scope: Scope) -> Value:
        if isinstance(node, Literal):
            return Value(node.value, self.python_literal(node.value, node.java, node.text), node.java, node.text)
        if isinstance(node, Name):
            found = scope.find(node.name)
            return found[0] if found is not None else self.unknown_name(node)
        if isinstance(node, Closure):
            return Value(ClosureValue(node, scope), "<closure>")
        if isinstance(node, Call):
            return self.call(node, scope)
        if isinstance(node, MethodCall):
            return self.method(node, scope)
        if isinstance(node, Concat):
            return self.concat(node, scope)
        if isinstance(node, Operator | Not | Ternary):
            return self.operator(node, scope)
        if isinstance(node, GString):
            return self.gstring(node, scope)
        if isinstance(node, ListLiteral):
            return constants.list_value([self.eval(item, scope) for item in node.items])
        assert isinstance(node, Property)
        target = self.eval(node.target, scope)
        raise self.error(node, f"`.{node.name}` without parentheses reads a property, which {self.describe(target)} "
                               f"does not have (Divolte fails here too): call the method, .{node.name}()")  # fmt: skip

    @staticmethod
    def python_literal(value: object, java: str, text: str) -> str:
        if java == "String":
            return python_string(str(value))
        return text if java == "BigDecimal" else repr(value)

    def call(self, node: Call, scope: Scope) -> Value:
        args = [self.eval(arg, scope) for arg in node.args]
        found = scope.find(node.name)
        if found is None:
            return self.function(node, args, scope)
        if not isinstance(found[0].obj, ClosureValue):
            raise self.error(node, f"'{node.name}' is {self.describe(found[0])}, which cannot be called")
        return self.called(self.call_closure(found[0].obj, args, node))

    def method(self, node: MethodCall, scope: Scope) -> Value:
        target = self.eval(node.target, scope)
        args = [self.eval(arg, scope) for arg in node.args]
        if isinstance(target.obj, ClosureValue) and node.name == "call":
            return self.called(self.call_closure(target.obj, args, node))
        if target.java == "List" and node.name in ("each", "collect"):
            if len(args) != 1 or not isinstance(args[0].obj, ClosureValue):
                raise self.error(node, f"{node.name} takes one closure: {node.name} {{ x -> … }}")
            results = [self.call_closure(args[0].obj, [item], node) for item in target.obj]
            if node.name == "each":
                return self.called(target)
            return self.called(constants.list_value([NULL if result.obj is DONE else result for result in results]))
        if is_constant(target) or isinstance(target.obj, ClosureValue):
            supported = "each() and collect()" if target.java == "List" else "call()" if target.java == "" else "none"
            raise self.error(node, f"{self.describe(target)} has no method {node.name}() in a mapping (supported: "
                                   f"{supported})")  # fmt: skip
        return self.dsl_method(node, target, args)

    @staticmethod
    def called(value: Value) -> Value:
        return Value(value.obj, value.py, value.java, value.text, discardable=True)

    # --- values known at start-up --------------------------------------------------------------------

    def require_constant(self, node: Node, value: Value, operator: str) -> None:
        """Refuse an operand that is not known at start-up, saying how the DSL writes the per-event version."""
        if is_constant(value):
            return
        what = self.describe(value)
        if operator == "if":
            raise self.error(node, f"`if` runs once, at start-up, and {what} is computed per event: write a "
                                   "per-event condition as `when <condition> apply { … }`")  # fmt: skip
        advice = OPERATOR_ADVICE.get(operator, "")
        if isinstance(value.obj, Producer):
            raise self.error(node, f"the operator `{operator}` is not supported in a mapping on {what}, which is "
                                   f"computed per event: {advice}")  # fmt: skip
        raise self.error(node, f"the operator `{operator}` needs a value known at start-up, not {what}")

    def operator(self, node: Operator | Not | Ternary, scope: Scope) -> Value:
        if isinstance(node, Not):
            operand = self.eval(node.operand, scope)
            self.require_constant(node, operand, "!")
            return constants.boolean(not constants.truth(operand))
        if isinstance(node, Ternary):
            condition = self.eval(node.condition, scope)
            self.require_constant(node, condition, "?")
            return self.eval(node.then if constants.truth(condition) else node.otherwise, scope)
        left = self.eval(node.left, scope)
        self.require_constant(node, left, node.op)
        if node.op == "?:":
            return left if constants.truth(left) else self.eval(node.right, scope)
        if node.op in ("&&", "||") and constants.truth(left) == (node.op == "||"):
            return constants.boolean(node.op == "||")  # Groovy does not evaluate the right side
        right = self.eval(node.right, scope)
        self.require_constant(node, right, node.op)
        if node.op in ("&&", "||"):
            return constants.boolean(constants.truth(right))
        return constants.boolean(constants.equal(left, right) == (node.op == "=="))

    def concat(self, node: Concat, scope: Scope) -> Value:
        """``a + b``: a string (or GString) known at start-up, followed by any value known at start-up."""
        left, right = self.eval(node.left, scope), self.eval(node.right, scope)
        if left.java in ("String", "GString") and is_constant(right):
            if left.java == right.java == "String":  # spelled as written, for the Python
                joined = left.obj + right.obj
                return Value(joined, f"{left.py} + {right.py}", "String", f"{left.text} + {right.text}")
            return constants.string(left.obj + constants.to_string(right), left.java)  # String.plus, GString.plus
        raise self.error(node, "only strings known at start-up can be joined with +: values such as location() "
                               "are computed per event, after the mapping has run")  # fmt: skip

    def gstring(self, node: GString, scope: Scope) -> Value:
        """``"seed-$it"``: each interpolated value must be known at start-up; the result is a GString, which Java
        methods taking a String accept (``digest``, ``onto``) and literal mapping does not (as in Divolte)."""
        text: list[str] = []
        for part in node.parts:
            if isinstance(part, str):
                text.append(part)
                continue
            value = self.eval(part, scope)
            if not is_constant(value):
                raise self.error(part, f"{self.describe(value)} cannot be interpolated in a string: it is computed "
                                       "per event, after the mapping has run (digest(…).add(…) joins values per "
                                       "event)")  # fmt: skip
            text.append(constants.to_string(value))
        return constants.string("".join(text), "GString")
