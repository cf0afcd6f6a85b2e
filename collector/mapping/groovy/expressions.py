"""Groovy expressions as mappings write them, read from tokens into the nodes of ``nodes.py``.

Command chains (``map location() onto 'f'`` is ``map(location()).onto('f')``), calls with and without
parentheses, method chains (also continued on the next line with a leading ``.``), trailing closures,
literals, GStrings (each ``$…`` read as the expression it is, at its own line and column), lists, and the
operators mappings use around the DSL, bound as Groovy binds them: ``c ? a : b`` and ``a ?: b`` over
``||`` over ``&&`` over ``==``/``!=`` over ``+`` over ``!`` and a sign. Any other operator is refused where
it stands (``refusals.py``). Closures are read by the statement parser (``parser.py``), which extends this one.
"""

from __future__ import annotations

from collector.errors import MappingError
from collector.mapping.groovy.lexer import Interpolation, Token, tokenize
from collector.mapping.groovy.nodes import (
    Call,
    Closure,
    Concat,
    GString,
    ListLiteral,
    Literal,
    MethodCall,
    Name,
    Node,
    Not,
    Operator,
    Property,
    Ternary,
)
from collector.mapping.groovy.refusals import (
    ARITHMETIC,
    ASSIGNMENTS,
    BINARY,
    LITERAL_NAMES,
    NOT_ARGUMENTS,
    OPERATOR_ADVICE,
    UNSUPPORTED_STATEMENTS,
    describe,
)


class ExpressionParser:
    def __init__(self, tokens: list[Token], file: str) -> None:
        self.tokens = tokens
        self.file = file
        self.index = 0
        self.ternaries = 0
        """How many ``c ? a : b`` are being read, where a ``:`` ends a value rather than naming an argument."""

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
        while self.peek().kind == "name" and self.peek().text not in NOT_ARGUMENTS:
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
        if token.kind in ("string", "gstring", "number"):
            return True
        if token.kind == "name":
            return token.text not in NOT_ARGUMENTS
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
        if token.kind in ("op", "name") and (token.text in BINARY or token.text in ASSIGNMENTS):
            advice = OPERATOR_ADVICE.get(token.text, ARITHMETIC)
            if token.text == "-" and self.peek(1).kind == "number" and not self.peek(1).space_before:
                advice = f"Groovy reads `name -{self.peek(1).text}` as a subtraction; write name(-{self.peek(1).text})"
            raise self.error(f"the operator `{token.text}` is not supported in a mapping: {advice}")
        if token.kind == "op" and token.text == "=":
            raise self.error("assignments are statements of their own (`def x = …` or `x = …`)")
        if token.kind == "op" and token.text == ":" and not self.ternaries:
            raise self.error("named arguments (`name: value`) are not supported in a mapping")

    def binary_operator(self, operators: tuple[str, ...]) -> Token | None:
        """The next token when it is one of ``operators`` (consumed, with the newlines after it)."""
        token = self.peek()
        if token.kind == "op" and token.text in operators:
            self.advance()
            self.skip_newlines()
            return token
        return None

    def expression(self) -> Node:
        """``c ? a : b`` and ``a ?: b`` over ``||`` over ``&&`` over ``==``/``!=`` over ``+``, as Groovy binds them."""
        condition = self.logical_or()
        if self.is_op("?"):
            mark = self.advance()
            self.skip_newlines()
            self.ternaries += 1
            then = self.expression()
            self.ternaries -= 1
            self.skip_newlines()
            self.expect_op(":", "between the two values of `? :`")
            self.skip_newlines()
            condition = Ternary(mark.line, mark.column, condition, then, self.expression())
        elif self.is_op("?:"):
            mark = self.advance()
            self.skip_newlines()
            condition = Operator(mark.line, mark.column, "?:", condition, self.expression())
        self.check_operator()
        return condition

    def logical_or(self) -> Node:
        left = self.logical_and()
        while (token := self.binary_operator(("||",))) is not None:
            left = Operator(token.line, token.column, "||", left, self.logical_and())
        return left

    def logical_and(self) -> Node:
        left = self.equality()
        while (token := self.binary_operator(("&&",))) is not None:
            left = Operator(token.line, token.column, "&&", left, self.equality())
        return left

    def equality(self) -> Node:
        left = self.concatenation()
        while (token := self.binary_operator(("==", "!="))) is not None:
            left = Operator(token.line, token.column, token.text, left, self.concatenation())
        return left

    def concatenation(self) -> Node:
        left = self.unary()
        while (token := self.binary_operator(("+",))) is not None:
            left = Concat(token.line, token.column, left, self.unary())
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
            raise self.error(f"the operator `{token.text}` is not supported in a mapping: {ARITHMETIC}", token)
        if token.kind == "op" and token.text == "!":
            self.advance()
            return Not(token.line, token.column, self.unary())
        if token.kind == "op" and token.text in ("~", "++", "--"):
            raise self.error(f"the operator `{token.text}` is not supported in a mapping: {ARITHMETIC}")
        return self.postfix(self.primary())

    def primary(self) -> Node:
        token = self.peek()
        if token.kind in ("string", "number"):
            self.advance()
            return Literal(token.line, token.column, token.value, token.java, token.text)
        if token.kind == "gstring":
            self.advance()
            return self.gstring(token)
        if token.kind == "name":
            if token.text in LITERAL_NAMES:
                self.advance()
                value, java = LITERAL_NAMES[token.text]
                return Literal(token.line, token.column, value, java, token.text)
            if token.text in UNSUPPORTED_STATEMENTS:
                raise self.error(f"`{token.text}` {UNSUPPORTED_STATEMENTS[token.text]}")
            if token.text in ("def", "return", "if", "else"):
                raise self.error(f"`{token.text}` can only start a statement")
            self.advance()
            return Name(token.line, token.column, token.text)
        if self.is_op("("):  # Groovy 3 (Divolte's) allows a command chain here: (match 'r' against location())
            self.advance()
            self.skip_newlines()
            inner = self.command_expression()
            self.skip_newlines()
            self.expect_op(")", "to close the parenthesis")
            return inner
        if self.is_op("{"):
            return self.closure()
        if self.is_op("["):
            return self.list_literal()
        if token.kind == "op" and token.text in OPERATOR_ADVICE:
            raise self.error(f"`{token.text}` is not supported in a mapping: {OPERATOR_ADVICE[token.text]}")
        raise self.error(f"expected a value, found {describe(token)}")

    def gstring(self, token: Token) -> GString:
        """A GString's parts, each ``$…`` read as the expression it is (positions in the file, for errors)."""
        parts: list[str | Node] = []
        for part in token.value:
            if isinstance(part, Interpolation):
                tokens, _ = tokenize(part.source, self.file, part.line, part.column)
                inner = type(self)(tokens, self.file)
                try:
                    inner.skip_newlines()
                    expr = inner.expression()
                    inner.skip_newlines()
                    if inner.peek().kind != "eof":
                        raise inner.error(f"unexpected {describe(inner.peek())} in ${{…}}: one expression only")
                except MappingError as exc:  # the end of the interpolated text is not the end of the file
                    raise MappingError(str(exc).replace("the end of the file", "the end of ${…}")) from None
                parts.append(expr)
            else:
                parts.append(part)
        return GString(token.line, token.column, tuple(parts), token.text)

    def list_literal(self) -> ListLiteral:
        start = self.advance()
        self.skip_newlines()
        items: list[Node] = []
        while not self.is_op("]"):
            if self.is_op(":") or self.is_op(":", 1):
                raise self.error("maps ([key: value]) are not supported in a mapping: use a list, [a, b]")
            items.append(self.expression())
            self.skip_newlines()
            if self.is_op(","):
                self.advance()
                self.skip_newlines()
            elif not self.is_op("]"):
                raise self.error(f"expected ',' or ']' in the list, found {describe(self.peek())}")
        self.advance()
        return ListLiteral(start.line, start.column, tuple(items))

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
                advice = OPERATOR_ADVICE.get(token.text, "it is not part of Divolte's mapping DSL")
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
        """``{ … }``: read by the statement parser, since a closure's body is statements."""
        raise NotImplementedError

    def closure_parameters(self) -> tuple[str, ...] | None:
        """``a, b ->`` (a type before a name is allowed and not checked), ``->`` for none; None: the implicit ``it``."""
        offset = 0
        while self.peek(offset).kind == "name" or self.is_op(",", offset):
            offset += 1
        if not self.is_op("->", offset):
            return None
        params: list[str] = []
        while not self.is_op("->"):
            names = []
            while self.peek().kind == "name":
                names.append(self.advance())
            if not names or len(names) > 2:
                raise self.error(f"expected a parameter name, found {describe(self.peek())}")
            if names[-1].text in LITERAL_NAMES or names[-1].text in UNSUPPORTED_STATEMENTS:
                raise self.error(f"`{names[-1].text}` cannot be a parameter name", names[-1])
            if names[-1].text in params:
                raise self.error(f"the parameter '{names[-1].text}' is declared twice", names[-1])
            params.append(names[-1].text)
            if self.is_op(","):
                self.advance()
        self.advance()
        return tuple(params)
