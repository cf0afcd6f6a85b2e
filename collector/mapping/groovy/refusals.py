"""What the Groovy parser refuses, and the advice each refusal gives: the parts of Groovy mappings do not use.

Each keyword or operator that has no place in a mapping maps to the reason and to what to write instead;
``parser.py`` and ``expressions.py`` raise them with the file, line and column, and ``evaluate.py`` uses
``OPERATOR_ADVICE`` when an operator it computes at start-up meets a value computed per event.
"""

from __future__ import annotations

from collector.mapping.groovy.lexer import Token

_BRANCHES = "is not supported: a mapping runs once at start-up to declare what each event fills; write a per-event \
condition as `when <condition> apply { … }` (or `when <condition> exit()` / `stop()`), a start-up one as `if (…)`"
_LOOPS = "is not supported: to declare actions for each of several values known at start-up, write \
[a, b].each { x -> … }"
UNSUPPORTED_STATEMENTS = {
    **dict.fromkeys(["switch", "case", "default"], _BRANCHES),
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
OPERATOR_ADVICE = {
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
    "[": "indexing is not supported (a header's values: header('H').get(0), .first(), .last())",
}
"""What to write instead of an operator applied to a value computed per event (or of one not supported)."""
ARITHMETIC = "arithmetic and comparisons are not supported: values are computed per event, and the mapping \
runs once at start-up (only strings known at start-up may be joined with +)"
BINARY = {"-", "*", "/", "%", "**", "<", ">", "<=", ">=", "<=>", "===", "!==", "<<", ">>", ">>>", "&", "|",
           "^", "..", "..<", "in", "instanceof", "as", "=~", "==~"}  # fmt: skip
"""Binary operators refused wherever they appear."""
NOT_ARGUMENTS = BINARY | {"&&", "||", "==", "!=", "?:", "?"}
"""Operators that end a command's arguments (``when a == b apply …``)."""
ASSIGNMENTS = {"+=", "-=", "*=", "/=", "%=", "&=", "|=", "^=", "**=", "<<=", ">>=", ">>>=", "++", "--"}
LITERAL_NAMES = {"true": (True, "Boolean"), "false": (False, "Boolean"), "null": (None, "null")}


def describe(token: Token) -> str:
    if token.kind == "eof":
        return "the end of the file"
    if token.kind == "newline":
        return "the end of the line"
    if token.kind in ("string", "gstring", "number"):
        return token.text if len(token.text) <= 40 else token.text[:37] + "..."
    return f"{token.text!r}"
