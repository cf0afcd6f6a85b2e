"""Divolte's mapping DSL on top of the Groovy evaluation: the Python DSL's objects, and the Python spelling.

``Evaluator`` (``evaluate.py``) runs the script as Groovy runs it; ``Translator`` adds what Divolte's
``MappingBase`` and ``DslRecordMapping`` provide: ``mapping { }`` making Divolte's value functions
reachable, value closures (``map { … } onto``) ending in the value they produce, body closures
(``apply { }``, ``section { }``) run inside the DSL's block. Every call goes to the object a Python mapping
would call (``dsl.py``, ``functions.Vocabulary``) with the recorder pointing at the Groovy position, and is
written to a ``PythonWriter`` in the Python DSL's spelling at the same time, so that the Python
``convert-mapping`` prints is the evaluated script, not a second reading of it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from collector.avro.schemas import Schema
from collector.errors import MappingError
from collector.mapping import dsl
from collector.mapping.groovy.evaluate import DONE, ClosureValue, Evaluator, Scope
from collector.mapping.groovy.nodes import Call, ExprStmt, MethodCall, Name, Node, Return, Script, Statement
from collector.mapping.groovy.vocabulary import (
    FUNCTION_ARGS,
    KINDS,
    MAPPABLE_LITERALS,
    MAPPING_STATEMENTS,
    METHODS,
    NO_DISCARD_IN_GROOVY,
    PARSE_TARGETS,
    PRODUCER_METHODS,
    TO_PARSE,
    LiteralMap,
    Value,
    a,
    big_number,
    equal_to_problem,
    literal_problem,
)
from collector.mapping.producers import Producer, not_
from collector.mapping.vocabulary import DigesterProducer, Environment, Match, Parse, Vocabulary


@dataclass(frozen=True, slots=True)
class ParseTarget:
    """``int32``, ``uri``…: what ``parse … to`` takes."""

    name: str


class Translator(Evaluator):
    """Evaluates a parsed script once, recording the Python DSL's actions and writing the Python spelling."""

    def __init__(self, file: str, environment: Environment, script: Script, source: str) -> None:
        self.functions = Vocabulary(environment).functions()
        super().__init__(file, script, source, set(dsl.DSL_NAMES) | set(self.functions) | {"__file__"})
        self.literal_maps: list[LiteralMap] = []
        self._literal_pending: dict[int, tuple[dsl.PendingMap, dsl.Where, Value]] = {}

    # --- the DSL's objects -------------------------------------------------------------------------

    def dsl_call(self, node: Node, fn: Callable[..., Any], *args: Any) -> Any:
        """Call the Python DSL with the recorder pointing at ``node``; its errors get the Groovy position."""
        self.recorder.position = self.where(node)
        try:
            return fn(*args)
        except MappingError as exc:
            if str(exc).startswith(self.file):
                raise
            raise self.error(node, str(exc)) from None
        except (TypeError, ValueError, AttributeError, LookupError) as exc:
            raise self.error(node, f"{type(exc).__name__}: {exc}") from None

    # --- statements ----------------------------------------------------------------------------------

    def run(self) -> None:
        self.block(self.script.body, Scope(None, in_mapping=False))
        for pending, (where, _) in list(self.recorder.pending.items()):
            if isinstance(pending, dsl.PendingMap):
                raise MappingError(f"{where}: this map … has no onto 'field', so it maps nothing")
            raise MappingError(f"{where}: this when … has no apply {{ … }}, stop() or exit(), so it does nothing")

    def value_closure(self, closure: ClosureValue, node: Node) -> Value:
        """Run a closure whose last expression is a value (``map { … } onto``, ``when { … } apply``)."""
        body = closure.node.body
        if not body or not isinstance(body[-1], ExprStmt | Return):
            raise self.error(closure.node, "this closure must end with the value it produces")
        return self.call_closure(closure, [], node)

    def check_effect(self, statement: Statement, result: Value) -> None:
        obj = result.obj
        if isinstance(obj, dsl.PendingMap):
            raise self.error(statement, "this map … has no onto 'field', so it maps nothing")
        if isinstance(obj, dsl.When):
            raise self.error(statement, "this when … has no apply { … }, stop() or exit(), so it does nothing")
        if isinstance(obj, Match):
            raise self.error(statement, "this match … has no against <value>")
        if isinstance(obj, Parse):
            raise self.error(statement, "this parse … has no to <type>")
        raise self.error(statement, f"this statement has no effect: {self.describe(result)} is not mapped onto "
                                    "anything (write map … onto 'field')")  # fmt: skip

    def unknown_name(self, node: Name) -> Value:
        if node.name in PARSE_TARGETS:
            return Value(ParseTarget(node.name), repr(node.name))
        if node.name in self.functions or node.name in MAPPING_STATEMENTS or node.name in ("map", "when", "not"):
            raise self.error(node, f"`{node.name}` is a function: call it with parentheses, {node.name}(…)")
        return super().unknown_name(node)

    def describe(self, value: Value) -> str:
        obj = value.obj
        if value.java or isinstance(obj, ClosureValue):
            return super().describe(value)
        if isinstance(obj, Producer):
            return f"{obj.describe} ({a(obj.value_type.name)})"
        if isinstance(obj, ParseTarget):
            return f"the parse target {obj.name}"
        if isinstance(obj, dsl.PendingMap | dsl.When | Match | Parse):
            return f"an unfinished {type(obj).__name__.replace('Pending', '').lower()} …"
        return "an action"

    def expect(self, node: Node, what: str, value: Value, kind: str) -> Any:
        """The Python value of an argument of the expected kind (see ``KINDS``), or a start-up error."""
        obj = value.obj
        text = value.java in ("String", "GString")  # Groovy turns a GString into the String a Java method takes
        ok = {
            "str": text,
            "int": value.java == "Integer",
            "producer": isinstance(obj, Producer) and not isinstance(obj, DigesterProducer),
            "int|str": text or value.java == "Integer",
            "str|producer": text or isinstance(obj, Producer),
            "value": value.java in MAPPABLE_LITERALS or isinstance(obj, Producer),
        }[kind]
        if not ok:
            if value.java in ("BigDecimal", "BigInteger", "GString", "List"):
                raise self.error(node, big_number(value))
            raise self.error(node, f"{what} takes {KINDS[kind]}, not {self.describe(value)}")
        return obj

    # --- functions (the script's and the mapping's) -------------------------------------------------

    def function(self, node: Call, args: list[Value], scope: Scope) -> Value:
        name = node.name
        if name == "mapping":
            if len(args) != 1:
                raise self.error(node, "mapping takes one closure: mapping { … }")
            self.body_closure(args[0], node, in_mapping=True)()
            return Value(DONE, "")
        if name == "map" and len(args) == 1:
            return self.start_map(node, args[0])
        if name == "when" and len(args) == 1:
            return self.start_when(node, args[0])
        if name == "match" and len(args) == 1:
            regex = self.expect(node, "match", args[0], "str")
            return Value(self.dsl_call(node, Match, regex), f"match({args[0].py})")
        if name == "parse" and len(args) == 1:
            producer = self.expect(node, "parse", args[0], "producer")
            return Value(self.dsl_call(node, Parse, producer), f"parse({args[0].py})")
        if name == "not" and len(args) == 1:
            producer = self.expect(node, "not", args[0], "producer")
            return Value(self.dsl_call(node, not_, producer), f"not_({args[0].py})")
        if name == "discard":
            raise self.error(node, NO_DISCARD_IN_GROOVY)
        known = name in self.functions or name in MAPPING_STATEMENTS or name in ("map", "when")
        if known and not scope.in_mapping:
            raise self.error(node, f"{name}() is only available inside mapping {{ … }}")
        if name in ("map", "when", "section", "stop", "exit", "exitWhen", "matcher"):
            return self.mapping_statement(node, name, args)
        if name in TO_PARSE:
            if len(args) != 1:
                raise self.error(node, f"{name} takes one value: {name}(location())")
            producer, kind = self.expect(node, name, args[0], "producer"), TO_PARSE[name]
            parsed = self.dsl_call(node, lambda: Parse(producer).to(kind))
            return Value(parsed, f"parse({args[0].py}).to({kind!r})")
        if name in self.functions and name not in ("parse", "match"):
            return self.value_function(node, name, args)
        return super().function(node, args, scope)

    def value_function(self, node: Call, name: str, args: list[Value]) -> Value:
        signatures = FUNCTION_ARGS.get(name, ((),))
        for signature in signatures:
            if len(signature) == len(args):
                values = [self.expect(node, f"{name}()", arg, kind) for arg, kind in zip(args, signature, strict=True)]
                result = self.dsl_call(node, self.functions[name], *values)
                return Value(result, f"{name}({', '.join(arg.py for arg in args)})")
        counts = " or ".join(str(len(s)) for s in signatures)
        raise self.error(node, f"{name}() takes {counts} argument(s), not {len(args)}")

    def start_map(self, node: Node, value: Value) -> Value:
        if isinstance(value.obj, ClosureValue):
            value = self.value_closure(value.obj, node)
        if value.java and value.java not in MAPPABLE_LITERALS:
            if value.java == "null":
                raise self.error(node, "null cannot be mapped: an absent value already leaves the field as it is")
            raise self.error(node, big_number(value))
        if (not value.java and not isinstance(value.obj, Producer)) or isinstance(value.obj, DigesterProducer):
            raise self.error(node, f"map takes a value or a literal, not {self.describe(value)}")
        pending = self.dsl_call(node, dsl.map_, value.obj)
        if value.java:
            self._literal_pending[id(pending)] = (pending, self.where(node), value)
        return Value(pending, f"map_({value.py})")

    def start_when(self, node: Node, condition: Value) -> Value:
        if isinstance(condition.obj, ClosureValue):
            condition = self.value_closure(condition.obj, node)
        producer = self.expect(node, "when", condition, "producer")
        return Value(self.dsl_call(node, dsl.when, producer), f"when({condition.py})")

    def mapping_statement(self, node: Call, name: str, args: list[Value]) -> Value:
        """The statements ``mapping { }`` delegates to Divolte's DslRecordMapping (SPEC §6.2)."""
        count = {"map": 2, "when": 2, "section": 1, "stop": 0, "exit": 0, "exitWhen": 1, "matcher": 2}[name]
        if len(args) != count:
            raise self.error(node, f"{name} takes {count} argument{'s' if count != 1 else ''}, not {len(args)}")
        if name == "map":  # DslRecordMapping.map(fieldName, value): the arguments in the other order
            field_name = self.expect(node, "map(field, value)", args[0], "str")
            pending = self.start_map(node, args[1])
            return self.onto(node, pending, field_name, args[0].py)
        if name == "when":
            when = self.start_when(node, args[0])
            return self.apply(node, when, args[1])
        if name == "section":
            body = self.body_closure(args[0], node)
            start = self.out.open_block("with section()", node.line)
            self.dsl_call(node, dsl.section, body)
            self.out.close_block(start)
        elif name in ("stop", "exit"):
            self.dsl_call(node, getattr(dsl, name))
            self.out.emit(f"{name}()", node.line)
        elif name == "exitWhen":
            when = self.start_when(node, args[0])
            self.dsl_call(node, when.obj.exit)
            self.out.emit(f"{when.py}.exit()", node.line)
        else:  # matcher(value, regex) = match regex against value
            producer = self.expect(node, "matcher", args[0], "producer")
            regex = self.expect(node, "matcher", args[1], "str")
            matcher = self.dsl_call(node, lambda: Match(regex).against(producer))
            return Value(matcher, f"match({args[1].py}).against({args[0].py})")
        return Value(DONE, "")

    # --- methods -------------------------------------------------------------------------------------

    def dsl_method(self, node: MethodCall, target: Value, args: list[Value]) -> Value:
        obj, name = target.obj, node.name
        if isinstance(obj, dsl.PendingMap) and name == "onto" and len(args) == 1:
            return self.onto(node, target, self.expect(node, "onto", args[0], "str"), args[0].py)
        if isinstance(obj, dsl.When) and name == "apply" and len(args) == 1:
            return self.apply(node, target, args[0])
        if isinstance(obj, dsl.When) and name in ("stop", "exit") and not args:
            self.dsl_call(node, getattr(obj, name))
            self.out.emit(f"{target.py}.{name}()", node.line)
            return Value(DONE, "")
        if isinstance(obj, Match) and name == "against" and len(args) == 1:
            producer = self.expect(node, "against", args[0], "producer")
            return Value(self.dsl_call(node, obj.against, producer), f"{target.py}.against({args[0].py})")
        if isinstance(obj, Parse) and name == "to" and len(args) == 1:
            if not isinstance(args[0].obj, ParseTarget):
                raise self.error(node, f"to takes one of {', '.join(PARSE_TARGETS)} (names, not strings), not "
                                       f"{self.describe(args[0])}")  # fmt: skip
            kind = args[0].obj.name
            return Value(self.dsl_call(node, obj.to, kind), f"{target.py}.to({kind!r})")
        if isinstance(obj, Producer):
            return self.producer_method(node, target, args)
        if name == "discard":
            raise self.error(node, NO_DISCARD_IN_GROOVY)
        expected = {dsl.PendingMap: "onto 'field'", dsl.When: "apply { … }, stop() or exit()", Match: "against "
                    "<value>", Parse: "to <type>"}  # fmt: skip
        for unfinished, usage in expected.items():
            if isinstance(obj, unfinished):
                raise self.error(node, f"expected {usage} here, found {name}")
        raise self.error(node, f"{self.describe(target)} has no method {name}()")

    def onto(self, node: Node, pending: Value, field_name: str, field_py: str) -> Value:
        self.dsl_call(node, pending.obj.onto, field_name)
        self.out.emit(f"{pending.py}.onto({field_py})", node.line)
        literal = self._literal_pending.pop(id(pending.obj), None)
        if literal is not None:
            self.literal_maps.append(LiteralMap(literal[1], field_name, literal[2]))
        return Value(DONE, "")

    def apply(self, node: Node, when: Value, closure: Value) -> Value:
        body = self.body_closure(closure, node)
        start = self.out.open_block(f"with {when.py}", node.line)
        self.dsl_call(node, when.obj.apply, body)
        self.out.close_block(start)
        return Value(DONE, "")

    def producer_method(self, node: MethodCall, target: Value, args: list[Value]) -> Value:
        obj: Producer = target.obj
        methods: dict[str, tuple[str, ...]] = {} if isinstance(obj, DigesterProducer) else dict(PRODUCER_METHODS)
        for cls in reversed(type(obj).__mro__):
            methods.update(METHODS.get(cls, {}))
        signature = methods.get(node.name)
        if signature is None:
            raise self.error(node, f"{obj.describe} ({a(obj.value_type.name)}) has no method {node.name}(); it has "
                                   f"{', '.join(name + '()' for name in methods)}")  # fmt: skip
        if len(args) != len(signature):
            hint = ""
            if args and isinstance(args[-1].obj, ClosureValue):
                hint = (" (Groovy passes a { … } that follows a call on the same line to that call: write "
                        "`when <condition> apply { … }`)")  # fmt: skip
            raise self.error(node, f"{node.name}() takes {len(signature)} argument"
                                   f"{'s' if len(signature) != 1 else ''}, not {len(args)}{hint}")  # fmt: skip
        values = [self.expect(node, f"{node.name}()", arg, kind) for arg, kind in zip(args, signature, strict=True)]
        problem = equal_to_problem(obj, args[0]) if node.name == "equalTo" else None
        if problem:
            raise self.error(node, problem)
        python_name = {"and": "and_", "or": "or_"}.get(node.name, node.name)
        result = self.dsl_call(node, getattr(obj, python_name), *values)
        return Value(result, f"{target.py}.{python_name}({', '.join(arg.py for arg in args)})")

    # --- after evaluation ----------------------------------------------------------------------------

    def check_literals(self, schema: Schema) -> None:
        """Divolte maps a literal only onto the Avro type of its Groovy type: ``42`` onto int, ``42L`` onto long."""
        for literal in self.literal_maps:
            problem = literal_problem(literal, schema)
            if problem:
                raise MappingError(f"{literal.where}: {problem}")
