"""The syntax tree of a Groovy mapping script: the subset of Groovy that Divolte mappings are written in.

Statements: ``def x = …``, ``x = …``, and expressions, including Groovy's command chains, where
``map location() onto 'f'`` means ``map(location()).onto('f')`` and ``when c apply { … }`` means
``when(c).apply({ … })``. Expressions: literals, names, calls with and without parentheses, method chains
(also continued on the next line with a leading ``.``), closures ``{ … }`` and ``a + b`` (which the
evaluation allows on strings only). Everything else Groovy has (``if``, loops, classes, imports, operators
such as ``&&`` or ``==`` on values computed per event, lists, indexing, …) is refused here, naming the
file, line and column and saying what to write instead; nothing is silently ignored.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from collector.errors import MappingError
from collector.mapping.groovy.lexer import Comment, Token, tokenize


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
class Name(Node):
    name: str


@dataclass(frozen=True, slots=True)
class Call(Node):
    """``name(args)`` or the command ``name args``: a function of the script or of ``mapping { }``."""

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
class Closure(Node):
    body: tuple[Statement, ...]


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


Statement = Def | Assign | ExprStmt | Return


@dataclass(frozen=True, slots=True)
class Script:
    body: tuple[Statement, ...]
    comments: tuple[Comment, ...]


_BRANCHES = "is not supported: a mapping runs once at start-up to declare what each event fills; write a per-event \
condition as `when <condition> apply { … }` (or `when <condition> exit()` / `stop()`)"
_LOOPS = "is not supported: a mapping declares each action once; there is nothing to repeat at start-up"
UNSUPPORTED_STATEMENTS = {
    **dict.fromkeys(["if", "else", "switch", "case", "default"], _BRANCHES),
    **dict.fromkeys(["for", "while", "do", "break", "continue"], _LOOPS),
    **dict.fromkeys(["try", "catch", "finally", "throw", "throws"], "(exception handling) is not supported"),
    **dict.fromkeys(["import", "package"], "is not supported: a mapping uses only Divolte's mapping DSL"),
    **dict.fromkeys(["class", "interface", "enum", "trait", "extends", "implements"],
                    "is not supported: a mapping cannot define classes"),
    **dict.fromkeys(["public", "private", "protected", "static", "abstract", "native", "synchronized",
                     "transient", "volatile", "strictfp", "final", "var", "goto", "const"],
                    "is not supported: declare variables with `def name = …`"),
    "assert": "is not supported: a mapping cannot check values at start-up",
    "new": "is not supported: a mapping cannot create objects",
    "this": "is not supported in a mapping",
    "super": "is not supported in a mapping",
}  # fmt: skip
_OPERATOR_ADVICE = {
    "&&": "combine conditions with a.and(b)",
    "||": "combine conditions with a.or(b)",
    "!": "negate a condition with `not c` or c.negate()",
    "==": "compare with a.equalTo(b)",
    "!=": "compare with not(a.equalTo(b))",
    "?:": "values are computed per event; map the fallback first and the value after it (an absent value "
    "leaves the field as it was)",
    "?": "write per-event conditions with `when <condition> apply { … }`",
    "=~": "match a regular expression with `match '<regex>' against <value>`",
    "==~": "match a regular expression with `match '<regex>' against <value>`",
    "?.": "a value that is absent stays absent through every method: use a plain `.`",
    "[": "lists, maps and indexing are not supported (a header's values: header('H').get(0), .first(), .last())",
}
_ARITHMETIC = "arithmetic and comparisons are not supported: values are computed per event, and the mapping \
runs once at start-up (only strings known at start-up may be joined with +)"
_BINARY = {"-", "*", "/", "%", "**", "<", ">", "<=", ">=", "<=>", "===", "!==", "<<", ">>", ">>>", "&", "|",
           "^", "..", "..<", "in", "instanceof", "as", "&&", "||", "==", "!=", "?:", "?", "=~", "==~"}  # fmt: skip
_ASSIGNMENTS = {"+=", "-=", "*=", "/=", "%=", "&=", "|=", "^=", "**=", "<<=", ">>=", ">>>=", "++", "--"}
_LITERAL_NAMES = {"true": (True, "Boolean"), "false": (False, "Boolean"), "null": (None, "null")}


class Parser:
    def __init__(self, tokens: list[Token], file: str) -> None:
        self.tokens = tokens
        self.file = file
        self.index = 0

    # --- tokens --------------------------------------------------------------------------------------

    def peek(self, offset: int = 0) -> Token:
        return self.tokens[min(self.index + offset, len(self.tokens) - 1)]

    def advance(self) -> Token:
        token = self.tokens[self.index]
        self.index = min(self.index + 1, len(self.tokens) - 1)
        return token

    def is_op(self, text: str, offset: int = 0) -> bool:
        token = self.peek(offset)
        return token.kind == "op" and token.text == text

    def skip_newlines(self) -> None:
        while self.peek().kind == "newline":
            self.advance()

    def expect_op(self, text: str, what: str) -> Token:
        if not self.is_op(text):
            raise self.error(f"expected {text!r} {what}, found {describe(self.peek())}")
        return self.advance()

    def error(self, message: str, token: Token | None = None) -> MappingError:
        token = token or self.peek()
        return MappingError(f"{self.file}:{token.line}:{token.column}: {message}")

    # --- statements ----------------------------------------------------------------------------------

    def script(self) -> tuple[Statement, ...]:
        body = self.block()
        if self.peek().kind != "eof":
            raise self.error(f"unexpected {describe(self.peek())} (a closing brace without an opening one?)")
        return body

    def block(self) -> tuple[Statement, ...]:
        """Statements up to a closing ``}`` or the end of the file (neither consumed)."""
        body: list[Statement] = []
        while True:
            while self.peek().kind == "newline" or self.is_op(";"):
                self.advance()
            if self.peek().kind == "eof" or self.is_op("}"):
                return tuple(body)
            body.append(self.statement())
            if not (self.peek().kind in ("newline", "eof") or self.is_op(";") or self.is_op("}")):
                raise self.error(f"unexpected {describe(self.peek())} after the end of the statement")

    def statement(self) -> Statement:
        token = self.peek()
        if token.kind == "op" and token.text == "@":
            raise self.error("annotations (@…) are not supported in a mapping")
        if token.kind == "op" and token.text == "{":
            raise self.error("a block { … } on its own is not supported; did you mean section { … }?")
        if token.kind == "name":
            if token.text == "def":
                return self.declaration()
            if token.text in UNSUPPORTED_STATEMENTS:
                raise self.error(f"`{token.text}` {UNSUPPORTED_STATEMENTS[token.text]}")
            if token.text == "return":
                self.advance()
                return Return(token.line, token.column, self.command_expression())
            if self.is_op("=", 1):
                self.advance()
                self.advance()
                self.skip_newlines()
                return Assign(token.line, token.column, token.text, self.command_expression())
            if self.peek(1).kind == "name" and self.is_op("=", 2):
                raise self.error(f"typed declarations (`{token.text} {self.peek(1).text} = …`) are not "
                                 f"supported: write `def {self.peek(1).text} = …`")  # fmt: skip
        expr = self.command_expression()
        return ExprStmt(expr.line, expr.column, expr)

    def declaration(self) -> Def:
        keyword = self.advance()
        name = self.peek()
        if name.kind != "name":
            raise self.error(f"expected a variable name after `def`, found {describe(name)}")
        if name.text in UNSUPPORTED_STATEMENTS or name.text in _LITERAL_NAMES or name.text == "def":
            raise self.error(f"`{name.text}` cannot be a variable name")
        self.advance()
        if self.is_op("("):
            raise self.error(f"defining methods (`def {name.text}(…)`) is not supported in a mapping")
        if self.peek().kind == "name" and self.is_op("=", 1):
            raise self.error(f"typed declarations (`def {name.text} {self.peek().text}`) are not supported")
        if not self.is_op("="):
            return Def(keyword.line, keyword.column, name.text, None)
        self.advance()
        self.skip_newlines()
        return Def(keyword.line, keyword.column, name.text, self.command_expression())

    # --- expressions ---------------------------------------------------------------------------------

    def command_expression(self) -> Node:
        """An expression, or a Groovy command chain: ``a b c d`` is ``a(b).c(d)``; ``a b c()`` is ``a(b).c()``."""
        expr = self.expression()
        if isinstance(expr, Name | Property) and self.starts_argument():
            args = self.command_arguments()
            if isinstance(expr, Name):
                expr = Call(expr.line, expr.column, expr.name, args)
            else:
                expr = MethodCall(expr.line, expr.column, expr.target, expr.name, args)
        while self.peek().kind == "name" and self.peek().text not in _BINARY:
            name = self.advance()
            if self.is_op("("):
                expr = MethodCall(name.line, name.column, expr, name.text, self.call_arguments())
                expr = self.postfix(expr)
            elif self.is_op("{"):
                expr = MethodCall(name.line, name.column, expr, name.text, (self.closure(),))
            elif self.starts_argument():
                expr = MethodCall(name.line, name.column, expr, name.text, self.command_arguments())
            else:
                return Property(name.line, name.column, expr, name.text)
        self.check_operator()
        return expr

    def starts_argument(self) -> bool:
        token = self.peek()
        if token.kind in ("string", "number"):
            return True
        if token.kind == "name":
            return token.text not in _BINARY
        return token.kind == "op" and token.text == "!"

    def command_arguments(self) -> tuple[Node, ...]:
        args = [self.expression()]
        while self.is_op(","):
            self.advance()
            self.skip_newlines()
            args.append(self.expression())
        return tuple(args)

    def check_operator(self) -> None:
        token = self.peek()
        if token.kind in ("op", "name") and (token.text in _BINARY or token.text in _ASSIGNMENTS):
            advice = _OPERATOR_ADVICE.get(token.text, _ARITHMETIC)
            if token.text == "-" and self.peek(1).kind == "number" and not self.peek(1).space_before:
                advice = f"Groovy reads `name -{self.peek(1).text}` as a subtraction; write name(-{self.peek(1).text})"
            raise self.error(f"the operator `{token.text}` is not supported in a mapping: {advice}")
        if token.kind == "op" and token.text == "=":
            raise self.error("assignments are statements of their own (`def x = …` or `x = …`)")
        if token.kind == "op" and token.text == ":":
            raise self.error("named arguments (`name: value`) are not supported in a mapping")

    def expression(self) -> Node:
        left = self.unary()
        while self.is_op("+"):
            plus = self.advance()
            self.skip_newlines()
            left = Concat(plus.line, plus.column, left, self.unary())
        self.check_operator()
        return left

    def unary(self) -> Node:
        token = self.peek()
        if token.kind == "op" and token.text in ("-", "+"):
            self.advance()
            operand = self.unary()
            if isinstance(operand, Literal) and operand.java not in ("String", "Boolean", "null"):
                value = operand.value
                if token.text == "-":
                    value = "-" + value if isinstance(value, str) else -value
                return Literal(token.line, token.column, value, operand.java, token.text + operand.text)
            raise self.error(f"the operator `{token.text}` is not supported in a mapping: {_ARITHMETIC}", token)
        if token.kind == "op" and token.text in ("!", "~", "++", "--"):
            advice = _OPERATOR_ADVICE.get(token.text, _ARITHMETIC)
            raise self.error(f"the operator `{token.text}` is not supported in a mapping: {advice}")
        return self.postfix(self.primary())

    def primary(self) -> Node:
        token = self.peek()
        if token.kind in ("string", "number"):
            self.advance()
            return Literal(token.line, token.column, token.value, token.java, token.text)
        if token.kind == "name":
            if token.text in _LITERAL_NAMES:
                self.advance()
                value, java = _LITERAL_NAMES[token.text]
                return Literal(token.line, token.column, value, java, token.text)
            if token.text in UNSUPPORTED_STATEMENTS:
                raise self.error(f"`{token.text}` {UNSUPPORTED_STATEMENTS[token.text]}")
            if token.text in ("def", "return"):
                raise self.error(f"`{token.text}` can only start a statement")
            self.advance()
            return Name(token.line, token.column, token.text)
        if self.is_op("("):
            self.advance()
            self.skip_newlines()
            inner = self.expression()
            self.skip_newlines()
            self.expect_op(")", "to close the parenthesis")
            return inner
        if self.is_op("{"):
            return self.closure()
        if token.kind == "op" and token.text in _OPERATOR_ADVICE:
            raise self.error(f"`{token.text}` is not supported in a mapping: {_OPERATOR_ADVICE[token.text]}")
        raise self.error(f"expected a value, found {describe(token)}")

    def postfix(self, node: Node) -> Node:
        while True:
            token = self.peek()
            if token.kind == "newline":  # a chain may continue on the next line with a leading dot
                offset = 0
                while self.peek(offset).kind == "newline":
                    offset += 1
                if not self.is_op(".", offset):
                    return node
                self.skip_newlines()
                continue
            if self.is_op("."):
                self.advance()
                self.skip_newlines()
                name = self.peek()
                if name.kind != "name":
                    raise self.error(f"expected a method name after '.', found {describe(name)}")
                self.advance()
                if self.is_op("("):
                    node = MethodCall(name.line, name.column, node, name.text, self.call_arguments())
                elif self.is_op("{"):
                    node = MethodCall(name.line, name.column, node, name.text, (self.closure(),))
                else:
                    node = Property(name.line, name.column, node, name.text)
            elif self.is_op("(") and isinstance(node, Name):
                node = Call(node.line, node.column, node.name, self.call_arguments())
            elif self.is_op("{") and isinstance(node, Name):
                node = Call(node.line, node.column, node.name, (self.closure(),))
            elif token.kind == "op" and token.text in ("(", "{"):
                raise self.error(f"unexpected {token.text!r}: only functions and methods can be called")
            elif token.kind == "op" and token.text in ("?.", "*.", ".&", ".@", "::", "["):
                advice = _OPERATOR_ADVICE.get(token.text, "it is not part of Divolte's mapping DSL")
                raise self.error(f"`{token.text}` is not supported in a mapping: {advice}")
            else:
                return node

    def call_arguments(self) -> tuple[Node, ...]:
        """``( a, b )`` and any closures that follow on the same line (Groovy passes them as last arguments)."""
        self.expect_op("(", "to start the arguments")
        self.skip_newlines()
        args: list[Node] = []
        while not self.is_op(")"):
            if self.peek().kind == "name" and self.is_op(":", 1):
                raise self.error("named arguments (`name: value`) are not supported in a mapping")
            args.append(self.expression())
            self.skip_newlines()
            if self.is_op(","):
                self.advance()
                self.skip_newlines()
            elif not self.is_op(")"):
                raise self.error(f"expected ',' or ')' in the arguments, found {describe(self.peek())}")
        self.advance()
        while self.is_op("{"):
            args.append(self.closure())
        return tuple(args)

    def closure(self) -> Closure:
        start = self.expect_op("{", "to start a closure")
        self.skip_newlines()
        offset = 0
        while self.peek(offset).kind == "name" or self.is_op(",", offset):
            offset += 1
        if self.is_op("->", offset):
            raise self.error("closure parameters (`{ x -> … }`) are not supported in a mapping")
        body = self.block()
        self.expect_op("}", f"to close the closure opened at line {start.line}, column {start.column}")
        return Closure(start.line, start.column, body)


def describe(token: Token) -> str:
    if token.kind == "eof":
        return "the end of the file"
    if token.kind == "newline":
        return "the end of the line"
    if token.kind in ("string", "number"):
        return token.text if len(token.text) <= 40 else token.text[:37] + "..."
    return f"{token.text!r}"


def parse(source: str, file: str) -> Script:
    """Parse a mapping script; a MappingError names the file, line and column of the first problem."""
    tokens, comments = tokenize(source, file)
    return Script(Parser(tokens, file).script(), tuple(comments))
