"""What a Groovy mapping may call, and the Java typing Divolte's DSL depends on (SPEC §6.2, §6.3, §6.5).

The functions and methods are those of Divolte's ``MappingBase`` and ``DslRecordMapping``, each with the
kinds of arguments it takes (``str``, ``int``, ``producer``…); the Python objects behind them are the
Python DSL's (``functions.Vocabulary``). Java's types matter in two places, both checked at start-up: a
literal maps only onto the Avro type of its Groovy type (``42`` is an Integer: onto ``int``, never
``long``), and ``equalTo`` compares with Java's ``equals``, which is never true across types (an Integer
against a Long, JSON against a string). Divolte evaluates such a comparison to false for every event
without a word; here it is refused with the literal to write instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from collector.avro.schemas import Schema
from collector.enrich.geo import GEO_FIELDS
from collector.mapping.dsl import Where
from collector.mapping.producers import (
    BOOLEAN,
    DOUBLE,
    FLOAT,
    INT,
    LONG,
    STRING,
    BytesProducer,
    MatcherProducer,
    Producer,
    StringListProducer,
)
from collector.mapping.vocabulary import (
    DigesterProducer,
    GeoProducer,
    JsonProducer,
    QueryProducer,
    UriProducer,
    UserAgentProducer,
)

MAPPABLE_LITERALS = {"String": "string", "Boolean": "boolean", "Integer": "int", "Long": "long",
                     "Float": "float", "Double": "double"}  # fmt: skip
"""Groovy's literal types that Divolte maps, and the one Avro type each maps onto (SPEC §6.2)."""
JAVA_TYPES = {STRING: "String", BOOLEAN: "Boolean", INT: "Integer", LONG: "Long", FLOAT: "Float", DOUBLE: "Double"}
PARSE_TARGETS = ("int32", "int64", "fp32", "fp64", "bool", "uri")
"""``parse … to int32``: properties of Divolte's script base class, usable wherever the script is."""
TO_PARSE = {"toInt": "int32", "toLong": "int64", "toFloat": "fp32", "toDouble": "fp64", "toBoolean": "bool",
            "parseUri": "uri"}  # fmt: skip
MAPPING_STATEMENTS = {"section", "stop", "exit", "exitWhen", "matcher", *TO_PARSE}
"""``DslRecordMapping``'s methods other than value functions: reachable only inside ``mapping { }``."""
USER_AGENT_PARTS = ("name", "family", "vendor", "type", "version", "deviceCategory", "osFamily", "osVersion",
                    "osVendor")  # fmt: skip
URI_PARTS = ("path", "rawPath", "scheme", "host", "port", "decodedQueryString", "rawQueryString", "decodedFragment",
             "rawFragment", "query")  # fmt: skip
PRODUCER_METHODS: dict[str, tuple[str, ...]] = {
    "isPresent": (), "isAbsent": (), "equalTo": ("value",), "and": ("producer",), "or": ("producer",), "negate": (),
}  # fmt: skip
"""Methods of every value (a digest being built is not a value yet)."""
METHODS: dict[type, dict[str, tuple[str, ...]]] = {
    StringListProducer: {"first": (), "last": (), "get": ("int",), "commaSeparated": ()},
    BytesProducer: {"toHexLower": (), "toHexUpper": (), "toBase64": ()},
    MatcherProducer: {"matches": (), "group": ("int|str",)},
    UserAgentProducer: dict.fromkeys(USER_AGENT_PARTS, ()),
    UriProducer: dict.fromkeys(URI_PARTS, ()),
    QueryProducer: {"value": ("str",), "valueList": ("str",)},
    JsonProducer: {"value": ("str",), "path": ("str",)},
    GeoProducer: dict.fromkeys(GEO_FIELDS, ()),
    DigesterProducer: {"add": ("str|producer",), "result": ()},
}
"""The sub-values of each kind of value, by the Python DSL class that implements it."""
FUNCTION_ARGS: dict[str, tuple[tuple[str, ...], ...]] = {
    "header": (("str",),), "cookie": (("str",),), "eventParameter": (("str",),), "ip2geo": ((), ("producer",)),
    "digest": (("str",), ("str", "str")),
}  # fmt: skip
"""The value functions that take arguments; the others take none."""
KINDS = {"str": "a string", "int": "an Integer", "producer": "a value such as location()", "value": "a value or a "
         "literal", "int|str": "a group number or name", "str|producer": "a value or a string"}  # fmt: skip
NO_DISCARD_IN_GROOVY = (
    "discard() exists in Python mappings only (not in Divolte's DSL): convert this file with "
    "`divolte-collector convert-mapping` to use it"
)


@dataclass(frozen=True, slots=True)
class Value:
    """What a Groovy expression evaluated to, and how the Python DSL spells it."""

    obj: Any
    py: str
    java: str = ""
    """For literals: Groovy's type (``Integer``, ``String``…)."""
    text: str = ""
    """For literals: the Groovy source text (``42L``), for messages."""
    discardable: bool = False
    """A result a statement may drop without a word (what a called closure or ``.each`` returns)."""


@dataclass(frozen=True, slots=True)
class LiteralMap:
    """``map <literal> onto 'field'``, checked against the schema once the script has run."""

    where: Where
    field: str
    value: Value


def a(noun: str) -> str:
    return f"an {noun}" if noun[0].upper() in "AEIOU" else f"a {noun}"


def respell(value: Value, java: str) -> str | None:
    """A number literal written as Groovy's literal of type ``java`` (``42`` as a Long: ``42L``), if it can be."""
    numbers = ("Integer", "Long", "Float", "Double")
    if value.java not in numbers or java not in numbers:
        return None
    if value.java in ("Integer", "Long"):
        whole = str(value.obj)
        return {"Integer": whole, "Long": whole + "L", "Float": whole + ".0F", "Double": whole + ".0D"}[java]
    if java in ("Integer", "Long"):
        return None
    text = value.text[:-1] if value.text[-1] in "dDfF" else value.text
    return text + ("F" if java == "Float" else "D")


def big_number(value: Value) -> str:
    """Why Divolte cannot take this literal where a String, Boolean or number literal is expected."""
    if value.java == "GString":
        return (f"{value.text} is a GString (a string with $…), which Divolte takes where a Java method wants a "
                "String but not as a literal to map or compare (Divolte refuses it too): build the text without "
                "$, or with + ('a' + x)")  # fmt: skip
    if value.java == "List":
        return f"the list {value.text} cannot be mapped or compared: Divolte takes String, Boolean and number literals"
    if value.java == "BigInteger":
        return f"{value.text} is a BigInteger in Groovy, which Divolte cannot use: write it as a Long (…L)"
    return (f"{value.text} is a BigDecimal in Groovy, which Divolte cannot use: write {value.text}D for a "
            f"double or {value.text}F for a float")  # fmt: skip


def equal_to_problem(producer: Producer, other: Value) -> str | None:
    """Why ``producer.equalTo(other)`` is false for every event under Java's ``equals``; None when it is not."""
    mine = JAVA_TYPES.get(producer.value_type)
    if isinstance(other.obj, Producer):
        if other.obj.value_type is producer.value_type:
            return None
        return (f"{producer.describe} is {a(producer.value_type.name)} and {other.obj.describe} "
                f"{a(other.obj.value_type.name)}: in Divolte (Java's equals) they are equal only when both are "
                "absent")  # fmt: skip
    if mine is None:
        return (f"{producer.describe} is {a(producer.value_type.name)}: equalTo({other.text}) is false for every "
                "event in Divolte (Java's equals); compare one of its string values instead")  # fmt: skip
    if other.java == mine:
        return None
    spelled = respell(other, mine)
    hint = f" (write {spelled})" if spelled else ""
    return (f"{producer.describe} is {a(mine)} and {other.text} {a(other.java)}: in Divolte (Java's equals) this "
            f"equalTo is false for every event{hint}")  # fmt: skip


def literal_problem(literal: LiteralMap, schema: Schema) -> str | None:
    """Why Divolte refuses ``map <literal> onto 'field'``: the field's type is not exactly the literal's."""
    target = next((f["type"] for f in schema.parsed["fields"] if f["name"] == literal.field), None)
    if isinstance(target, list):
        branches = [branch for branch in target if branch != "null"]
        target = branches[0] if len(target) == 2 and len(branches) == 1 else None
    if target is None:
        return None  # an unknown field or a non-trivial union: the compiler reports it
    kind = target if isinstance(target, str) else target.get("type") if isinstance(target, dict) else None
    value = literal.value
    if kind == MAPPABLE_LITERALS[value.java]:
        return None
    java = {avro: java for java, avro in MAPPABLE_LITERALS.items()}.get(str(kind), "")
    spelled = respell(value, java)
    hint = f"; write {spelled} for {a(str(kind))}" if spelled else ""
    return f"field '{literal.field}': cannot map the literal {value.text} ({value.java}) onto {kind}{hint}"
