"""Parsing a Groovy mapping script into the tree of ``nodes.py``: the Groovy that Divolte mappings are written in.

Statements: ``def x = …``, ``x = …``, ``if (…) { … } else { … }`` and expressions, including Groovy's command
chains, where ``map location() onto 'f'`` means ``map(location()).onto('f')`` and ``when c apply { … }``
means ``when(c).apply({ … })``. Expressions: literals, GStrings, lists, names, calls with and without
parentheses, method chains (also continued on the next line with a leading ``.``), closures ``{ … }`` with
or without parameters, ``a + b``, ``==``, ``!=``, ``&&``, ``||``, ``!``, ``c ? a : b`` and ``a ?: b``
(which the evaluation allows on values known at start-up only). Everything else Groovy has (loops,
classes, imports, arithmetic, maps, indexing, …) is refused here, naming the file, line and column and
saying what to write instead; nothing is silently ignored.
"""

from __future__ import annotations

from collector.mapping.groovy.expressions import ExpressionParser
from collector.mapping.groovy.lexer import tokenize
from collector.mapping.groovy.nodes import (
    Assign,
    Call,
    Closure,
    Def,
    ExprStmt,
    If,
    MethodCall,
    Node,
    Return,
    Script,
    Statement,
)
from collector.mapping.groovy.refusals import LITERAL_NAMES, OPERATOR_ADVICE, UNSUPPORTED_STATEMENTS, describe

__all__ = ["OPERATOR_ADVICE", "Call", "MethodCall", "Node", "Parser", "Script", "parse"]


class Parser(ExpressionParser):
    """Statements, blocks and closures; the expressions they hold come from ``ExpressionParser``."""

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
            if token.text == "if":
                return self.if_statement()
            if token.text == "else":
                raise self.error("`else` without an `if` before it")
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

    def if_statement(self) -> If:
        """``if (c) … else …``: each branch a ``{ … }`` block or a single statement."""
        keyword = self.advance()
        self.expect_op("(", "after `if`")
        self.skip_newlines()
        condition = self.expression()
        self.skip_newlines()
        self.expect_op(")", "to close the condition of `if`")
        then = self.branch()
        offset = 0
        while self.peek(offset).kind == "newline":
            offset += 1
        otherwise = None
        if self.peek(offset).kind == "name" and self.peek(offset).text == "else":
            self.skip_newlines()
            self.advance()
            otherwise = (self.if_statement(),) if self.peek().text == "if" else self.branch()
        return If(keyword.line, keyword.column, condition, then, otherwise)

    def branch(self) -> tuple[Statement, ...]:
        self.skip_newlines()
        if not self.is_op("{"):
            return (self.statement(),)
        start = self.advance()
        body = self.block()
        self.expect_op("}", f"to close the block opened at line {start.line}, column {start.column}")
        return body

    def declaration(self) -> Def:
        keyword = self.advance()
        name = self.peek()
        if name.kind != "name":
            raise self.error(f"expected a variable name after `def`, found {describe(name)}")
        if name.text in UNSUPPORTED_STATEMENTS or name.text in LITERAL_NAMES or name.text in ("def", "if", "else"):
            raise self.error(f"`{name.text}` cannot be a variable name")
        self.advance()
        if self.is_op("("):
            raise self.error(f"defining methods (`def {name.text}(…)`) is not supported in a mapping: store a "
                             f"closure instead, `def {name.text} = {{ x -> … }}`")  # fmt: skip
        if self.peek().kind == "name" and self.is_op("=", 1):
            raise self.error(f"typed declarations (`def {name.text} {self.peek().text}`) are not supported")
        if not self.is_op("="):
            return Def(keyword.line, keyword.column, name.text, None)
        self.advance()
        self.skip_newlines()
        return Def(keyword.line, keyword.column, name.text, self.command_expression())

    def closure(self) -> Closure:
        start = self.expect_op("{", "to start a closure")
        self.skip_newlines()
        params = self.closure_parameters()
        body = self.block()
        self.expect_op("}", f"to close the closure opened at line {start.line}, column {start.column}")
        return Closure(start.line, start.column, body, params)


def parse(source: str, file: str) -> Script:
    """Parse a mapping script; a MappingError names the file, line and column of the first problem."""
    tokens, comments = tokenize(source, file)
    return Script(Parser(tokens, file).script(), tuple(comments))
