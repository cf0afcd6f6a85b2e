"""JSON → Avro conversion (SPEC §6.6) against Divolte's Jackson fixtures, the mapping vectors, and odd input."""

from __future__ import annotations

import io
import math
import struct
from typing import Any, cast

import fastavro
import orjson
import pytest
from fastavro.validation import validate
from hypothesis import given, settings
from hypothesis import strategies as st

from collector.errors import MappingError
from collector.mapping.java.jsonavro import (
    JsonMismatch,
    check_json_target,
    collect_names,
    compile_converter,
    convert,
)
from collector.mapping.java.numbers import java_double_to_string as java_double_text
from collector.protocol import mincode
from tests.paths import FIXTURES
from tests.vectors import load_json_with_comments, load_vectors

_FIXTURES: list[dict[str, Any]] = load_json_with_comments(FIXTURES / "jackson-mapping-fixtures.json")
_TEST_RECORD = cast(
    dict[str, Any], fastavro.parse_schema(load_json_with_comments(FIXTURES / "TestRecord.avsc"), _write_hint=False)
)
_NAMES = collect_names(_TEST_RECORD)

# How Divolte configures Jackson for this mapping (JacksonSupport.AVRO_MAPPER).
_DIVOLTE_FEATURES = {
    "ACCEPT_SINGLE_VALUE_AS_ARRAY": True,
    "UNWRAP_SINGLE_VALUE_ARRAYS": True,
    "FAIL_ON_UNKNOWN_PROPERTIES": False,
    "READ_UNKNOWN_ENUM_VALUES_AS_NULL": False,
}
_MISMATCH = object()
# Fixtures run by Divolte's test harness under settings Divolte itself does not use, with the outcome under
# Divolte's own configuration (each is the result of the fixture's counterpart with Divolte's setting).
_UNDER_DIVOLTE_SETTINGS: dict[str, Any] = {
    "Test enum mapping missing value to null": _MISMATCH,
    "Test illegal array mapping from single value": ["a value"],
    "Test illegal mapping single-element array as value": "a value",
    "Test record mapping with unknown field": {"foo": "bar", "baz": "daz"},
    # The harness parses numbers as BigDecimal; Divolte's event parameters hold doubles, so the text is
    # Double.toString of the nearest double.
    "Test lossless numeric mapping": "9999999.5",
}


def _field(name: str) -> Any:
    return next(f["type"] for f in _TEST_RECORD["fields"] if f["name"] == name)


def _roundtrip(value: Any, schema: Any) -> Any:
    """Write with fastavro's schemaless writer and read back: proves the value is writable."""
    parsed = fastavro.parse_schema(schema, named_schemas=dict(_NAMES))
    buffer = io.BytesIO()
    fastavro.schemaless_writer(buffer, parsed, value)
    buffer.seek(0)
    return fastavro.schemaless_reader(buffer, parsed, parsed)


def _float32(value: float) -> float:
    return float(struct.unpack("<f", struct.pack("<f", value))[0])


def _expected(fixture: dict[str, Any]) -> Any:
    if fixture["title"] in _UNDER_DIVOLTE_SETTINGS:
        return _UNDER_DIVOLTE_SETTINGS[fixture["title"]]
    if "exception" in fixture:
        return _MISMATCH
    result = fixture["result"]
    schema_type = fixture["schema"].get("type") if isinstance(fixture["schema"], dict) else None
    if schema_type == "bytes":
        return result.encode("utf-8")
    if schema_type == "fixed":
        return bytes(b & 0xFF for b in result)
    return result


def test_fixture_settings_are_divolte_s_or_overridden() -> None:
    """Every fixture either runs under Divolte's Jackson settings or has its outcome under them listed."""
    for fixture in _FIXTURES:
        features = fixture.get("deserialization_features", {})
        differs = any(_DIVOLTE_FEATURES[name] != on for name, on in features.items())
        assert not differs or fixture["title"] in _UNDER_DIVOLTE_SETTINGS, fixture["title"]
    assert len(_FIXTURES) == 41


@pytest.mark.parametrize("fixture", _FIXTURES, ids=[f["title"] for f in _FIXTURES])
def test_jackson_mapping_fixture(fixture: dict[str, Any]) -> None:
    schema = fastavro.parse_schema(fixture["schema"], _write_hint=False)
    if fixture.get("unsupported") == "true":
        with pytest.raises(MappingError, match="union"):
            check_json_target(schema)
        return
    check_json_target(schema)
    expected = _expected(fixture)
    if expected is _MISMATCH:
        with pytest.raises(JsonMismatch):
            convert(fixture["json"], schema)
        return
    result = convert(fixture["json"], schema)
    assert result == expected
    if fixture["schema"] == {"type": "float"}:
        expected = _float32(expected)
    assert _roundtrip(result, schema) == expected


def _mapping_case(name: str) -> dict[str, Any]:
    return next(c for c in load_vectors()["mapping"]["cases"] if c["name"] == name)


def test_event_params_jsonpath_vector() -> None:
    case = _mapping_case("event params jsonpath")
    params = mincode.decode(case["u_mincode"])
    expect = case["expect"]
    targets = {
        "path($.foo)->string": (params["foo"], _field("paramValue")),
        "path($.bar)->int": (params["bar"], _field("paramIntValue")),
        "path($.items[*].price)->array<double>": ([i["price"] for i in params["items"]], _field("itemPrices")),
        "path($.items)->array<BasketItem>": (params["items"], _field("items")),
        "eventParameters()->record EventParameter": (params, _field("paramRecord")),
    }
    for key, (value, schema) in targets.items():
        converter = compile_converter(schema, _NAMES)
        assert converter(value) == expect[key], key
        assert _roundtrip(converter(value), schema) == expect[key], key
    # A runtime mismatch: the DSL leaves the field as it was.
    with pytest.raises(JsonMismatch, match="'string' as Avro int"):
        convert(params["foo"], _field("paramIntValue"), _NAMES)
    # map<string> of these parameters: 'items' (an array of two objects) cannot become one string.
    with pytest.raises(JsonMismatch, match=r"\$\['items'\]"):
        convert(params, _field("paramMap"), _NAMES)


def test_event_params_homogeneous_vector() -> None:
    case = _mapping_case("event params homogeneous")
    params = mincode.decode(case["u_mincode"])
    result = convert(params, _field("paramMap"), _NAMES)
    assert result == case["expect"]["paramMap (map<string>)"] == {"foo": "string", "bar": "42"}
    assert _roundtrip(result, _field("paramMap")) == result


def test_the_whole_test_record_schema_is_a_valid_json_target() -> None:
    check_json_target(_TEST_RECORD)


@pytest.mark.parametrize(
    ("value", "schema", "expected"),
    [
        # string: Java text of numbers and booleans
        (42, "string", "42"),
        (-7, "string", "-7"),
        (1.23, "string", "1.23"),
        (100.0, "string", "100.0"),
        (1e20, "string", "1.0E20"),
        (1.5e-5, "string", "1.5E-5"),
        (1e7, "string", "1.0E7"),
        (0.001, "string", "0.001"),
        (-0.0, "string", "-0.0"),
        (True, "string", "true"),
        (2**70, "string", str(2**70)),
        ([["nested"]], "string", "nested"),
        # int / long
        ("42", "int", 42),
        (" \t42\n", "int", 42),
        ("+42", "int", 42),
        ("-0", "int", 0),
        (4.9, "int", 4),
        (-4.9, "int", -4),
        ([7], "int", 7),
        (2**31 - 1, "int", 2**31 - 1),
        (-(2**31), "int", -(2**31)),
        (2**31, "long", 2**31),
        (2**63 - 1, "long", 2**63 - 1),
        ("9223372036854775807", "long", 2**63 - 1),
        # float / double: numbers and Java floating-point text
        (3, "double", 3.0),
        ("1e3", "double", 1000.0),
        (" 2.5f ", "double", 2.5),
        ("1.", "double", 1.0),
        (".5", "double", 0.5),
        ("0x1p3", "double", 8.0),
        ("Infinity", "double", math.inf),
        ("-INF", "double", -math.inf),
        (1e300, "float", math.inf),
        (-1e300, "float", -math.inf),
        (2**1100, "double", math.inf),
        # boolean: Jackson 2.9
        (0, "boolean", False),
        (5, "boolean", True),
        ("True", "boolean", True),
        (" false ", "boolean", False),
        ([True], "boolean", True),
        # "" and "null" read as null for the boxed types, which a nullable union accepts
        ("", ["null", "int"], None),
        ("null", ["null", "double"], None),
        ("", ["boolean", "null"], None),
        ([None], ["null", "string"], None),
        ("", "string", ""),
        # bytes
        ("AQID", "bytes", b"\x01\x02\x03"),
        (" AQID ", "bytes", b"\x01\x02\x03"),
        ("", "bytes", b""),
        # arrays: single values wrapped, null items where the items are nullable
        (
            {"count": 1, "price": 2},
            {"type": "array", "items": {"type": "map", "values": "int"}},
            [{"count": 1, "price": 2}],
        ),
        (None, {"type": "array", "items": ["null", "string"]}, [None]),
        (None, ["null", {"type": "array", "items": "string"}], None),
        ([1, "2", 3.5], {"type": "array", "items": "long"}, [1, 2, 3]),
        # JSON null in a nullable union is null whatever the other branch
        (None, ["null", {"type": "record", "name": "R", "fields": []}], None),
        (None, [{"type": "map", "values": "int"}, "null"], None),
        # single-branch union
        ("x", ["string"], "x"),
    ],
)
def test_coercions(value: Any, schema: Any, expected: Any) -> None:
    parsed = fastavro.parse_schema(schema, _write_hint=False)
    result = convert(value, parsed)
    assert result == expected
    assert type(result) is type(expected)
    written = _roundtrip(result, parsed)
    assert written == (_float32(expected) if schema == "float" else expected)


def test_nan_text_is_a_double() -> None:
    assert math.isnan(convert("NaN", "double"))


@pytest.mark.parametrize(
    ("value", "schema", "message"),
    [
        ("x", "int", "cannot read JSON string 'x' as Avro int"),
        ("4.2", "int", "as Avro int"),
        ("1e3", "long", "as Avro long"),
        ("1_000", "int", "as Avro int"),
        ("4" * 30, "long", "as Avro long"),
        (True, "int", "JSON boolean True as Avro int"),
        (2**31, "int", "out of the range of Avro int"),
        (-(2**31) - 1, "int", "out of the range of Avro int"),
        (2**63, "long", "out of the range of Avro long"),
        (math.inf, "long", "as Avro long"),
        ("", "int", "reads as null"),
        (None, "string", "JSON null cannot fill a non-nullable Avro string"),
        ("1.5.2", "double", "as Avro double"),
        ("1,5", "double", "as Avro double"),
        (True, "double", "as Avro double"),
        (1.5, "boolean", "as Avro boolean"),
        ("TRUE", "boolean", "as Avro boolean"),
        ("yes", "boolean", "as Avro boolean"),
        ({"a": 1}, "string", "a JSON object as Avro string"),
        (["a", "b"], "string", "cannot unwrap a JSON array of 2 values"),
        ([], "int", "cannot unwrap a JSON array of 0 values"),
        ("not base64!", "bytes", "not Base64"),
        ("QQ", "bytes", "not Base64"),
        (["AQID"], "bytes", "as Avro bytes"),
        (12, "bytes", "as Avro bytes"),
        ("x", "null", "as Avro null"),
        ([None], "null", "as Avro null"),
        ("a", {"type": "map", "values": "string"}, "as Avro map"),
        ([{}], {"type": "map", "values": "string"}, "as Avro map"),
        ([{}], {"type": "record", "name": "R", "fields": []}, "as Avro record R"),
        ({}, {"type": "record", "name": "R", "fields": [{"name": "x", "type": "int"}]}, "lacks field 'x'"),
        ({"x": None}, {"type": "record", "name": "R", "fields": [{"name": "x", "type": "int"}]}, r"\(at \$\.x\)"),
        ({"x": None}, {"type": "record", "name": "R", "fields": [{"name": "x", "type": "int", "default": 1}]}, "null"),
        ("spades", {"type": "enum", "name": "Suit", "symbols": ["SPADES"]}, "not a symbol of Avro enum Suit"),
        (None, {"type": "enum", "name": "Suit", "symbols": ["SPADES"]}, "not a symbol"),
        ("AQID", {"type": "fixed", "name": "F", "size": 4}, "3 bytes are too few"),
        ([1, 256], {"type": "fixed", "name": "F", "size": 2}, "not a byte value"),
        ([1, True], {"type": "fixed", "name": "F", "size": 2}, "not a byte value"),
        (1.5, {"type": "fixed", "name": "F", "size": 1}, "as Avro fixed F"),
        ([1, "x"], {"type": "array", "items": "int"}, r"\(at \$\[1\]\)"),
    ],
)
def test_mismatches(value: Any, schema: Any, message: str) -> None:
    with pytest.raises(JsonMismatch, match=message):
        convert(value, fastavro.parse_schema(schema, _write_hint=False))


def test_mismatch_path_points_into_nested_values() -> None:
    params = {"foo": "", "bar": "", "items": [{"count": 1, "price": 1.0}, {"count": "many", "price": 2.0}]}
    with pytest.raises(JsonMismatch) as caught:
        convert(params, _field("paramRecord"), {**_NAMES})
    assert caught.value.path == "$.items[1].count"
    assert str(caught.value).endswith("(at $.items[1].count)")


def test_fixed_takes_jackson_byte_arrays_and_cuts_extra_bytes() -> None:
    fixed = {"type": "fixed", "name": "F", "size": 3}
    assert convert([1, -1, 255], fixed) == b"\x01\xff\xff"
    assert convert("AQIDBAU=", fixed) == b"\x01\x02\x03"
    assert convert(7, {"type": "fixed", "name": "One", "size": 1}) == b"\x07"


def test_enum_symbols_are_read_as_strings() -> None:
    booleans = {"type": "enum", "name": "Word", "symbols": ["true", "false"]}
    assert convert(True, booleans) == "true"
    assert convert(["false"], booleans) == "false"


def test_record_defaults_become_writable_values() -> None:
    schema = fastavro.parse_schema(
        {
            "type": "record",
            "name": "WithDefaults",
            "fields": [
                {"name": "raw", "type": "bytes", "default": "\u00ff\u0001"},
                {"name": "id", "type": {"type": "fixed", "name": "Two", "size": 2}, "default": "ab"},
                {"name": "tags", "type": {"type": "array", "items": "string"}, "default": ["a"]},
                {"name": "ratio", "type": "double", "default": 1},
                {
                    "name": "inner",
                    "type": {
                        "type": "record",
                        "name": "Inner",
                        "fields": [{"name": "x", "type": "int", "default": 3}, {"name": "y", "type": "string"}],
                    },
                    "default": {"y": "why"},
                },
                {"name": "loose", "type": ["string", "null"], "default": None},
            ],
        },
        _write_hint=False,
    )
    converter = compile_converter(schema)
    first = converter({})
    assert first == {
        "raw": b"\xff\x01",
        "id": b"ab",
        "tags": ["a"],
        "ratio": 1.0,
        "inner": {"x": 3, "y": "why"},
        "loose": None,
    }
    first["tags"].append("mutated")
    assert converter({})["tags"] == ["a"]
    assert _roundtrip(converter({}), schema) == converter({})


@pytest.mark.parametrize(
    ("schema", "message"),
    [
        (["string", "int"], r"the union \[string, int\] cannot take JSON values"),
        (["null", "string", "int"], "union"),
        ({"type": "array", "items": ["int", "long"]}, "array items"),
        (
            {"type": "record", "name": "R", "fields": [{"name": "f", "type": ["int", "string"]}]},
            "field 'f' of record R",
        ),
        ({"type": "record", "name": "R", "fields": [{"name": "f", "type": "int", "default": "x"}]}, "default 'x'"),
        ({"type": "record", "name": "R", "fields": [{"name": "f", "type": "bytes", "default": 5}]}, "default 5"),
        ({"type": "record", "name": "R", "fields": [{"name": "f", "type": "int", "default": 2**40}]}, "range"),
    ],
)
def test_unsupported_targets_fail_at_start_up(schema: Any, message: str) -> None:
    with pytest.raises(MappingError, match=message):
        check_json_target(schema)  # unparsed: fastavro's parser already refuses some of these defaults


def test_unknown_named_type_fails_at_start_up() -> None:
    with pytest.raises(MappingError, match=r"unknown Avro type 'io\.Missing'"):
        check_json_target({"type": "array", "items": "io.Missing"})


def test_named_references_resolve_through_names() -> None:
    nested = next(f["type"] for f in _TEST_RECORD["fields"] if f["name"] == "paramRecord")
    event_parameter = nested[1]["name"]
    converter = compile_converter(["null", event_parameter], _NAMES)
    assert converter({"foo": "a", "bar": 1, "items": []}) == {"foo": "a", "bar": "1", "items": []}


def test_recursive_records_and_deep_nesting() -> None:
    fixture = next(f for f in _FIXTURES if f["title"] == "Test nested record mapping")
    schema = fastavro.parse_schema(fixture["schema"], _write_hint=False)
    converter = compile_converter(schema)
    deep: dict[str, Any] = {"field1": "leaf"}
    for _ in range(5000):
        deep = {"field1": "x", "nested": deep}
    with pytest.raises(JsonMismatch, match="nested too deeply"):
        converter(deep)
    wrapped: Any = "x"
    for _ in range(5000):
        wrapped = [wrapped]
    assert convert(wrapped, "string") == "x"


def test_java_double_text() -> None:
    cases = {1.0: "1.0", 0.1: "0.1", 1234567.0: "1234567.0", 12345678.0: "1.2345678E7", 1e-4: "1.0E-4",
             -2.5e-10: "-2.5E-10", 1.7976931348623157e308: "1.7976931348623157E308", 4.9e-324: "4.9E-324",
             math.nan: "NaN", -math.inf: "-Infinity"}  # fmt: skip
    for value, text in cases.items():
        assert java_double_text(value) == text


def test_orjson_parameters_convert_like_divolte_s_doubles() -> None:
    params = orjson.loads(b'{"n": 9999999.4999999999, "big": 18446744073709551615, "t": true}')
    assert convert(params, {"type": "map", "values": "string"}) == {
        "n": "9999999.5",
        "big": "18446744073709551615",
        "t": "true",
    }


# Bounded property: any JSON value against a spread of schemas gives a writable value or a JsonMismatch.
_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False)
    | st.text(max_size=8)
    | st.sampled_from(
        [
            "42",
            " 7 ",
            "1e3",
            "true",
            "True",
            "",
            "null",
            "NaN",
            "0x1p3",
            "AQID",
            "SPADES",
            "-0",
            "+5",
            "9" * 30,
            "2.5f",
            "Infinity",
            "FHWPGv1EwJt5kgc8zwC0PQ==",
        ]
    )
)
_KEYS = st.sampled_from(["name", "count", "price", "foo", "bar", "items", "field1", "nested"]) | st.text(max_size=4)
_JSON = st.recursive(
    _SCALARS, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_KEYS, inner, max_size=5), max_leaves=25
)
_SCHEMAS = [
    "int", "long", "float", "double", "boolean", "string", "bytes", "null", ["null", "int"], ["string", "null"],
    {"type": "enum", "name": "Suit", "symbols": ["SPADES", "HEARTS"]},
    {"type": "fixed", "name": "Three", "size": 3},
    {"type": "map", "values": "string"},
    {"type": "map", "values": {"type": "array", "items": "long"}},
    {"type": "array", "items": ["null", "double"]},
    _field("items"), _field("paramRecord"), _field("itemPrices"), _field("paramMap"),
    next(f for f in _FIXTURES if f["title"] == "Test nested record mapping")["schema"],
]  # fmt: skip


@settings(max_examples=1500, deadline=None)
@given(value=_JSON, index=st.integers(0, len(_SCHEMAS) - 1))
def test_any_json_gives_a_writable_value_or_a_mismatch(value: Any, index: int) -> None:
    schema = fastavro.parse_schema(_SCHEMAS[index], named_schemas=dict(_NAMES))
    try:
        result = convert(value, schema, _NAMES)
    except JsonMismatch:
        return
    assert validate(result, schema, raise_errors=True)
    buffer = io.BytesIO()
    fastavro.schemaless_writer(buffer, schema, result)
