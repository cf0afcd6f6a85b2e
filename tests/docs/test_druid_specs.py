"""The Druid Kafka ingestion specs in docs/druid match the default schema and what the Kafka sink writes."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any, cast

import fastavro
import pytest

from collector.avro.schemas import default_schema
from tests.paths import DEFAULT_SCHEMA_FILE
from tests.vectors import load_vectors

DOCS = Path(__file__).resolve().parents[2] / "docs" / "druid"
SCHEMA = json.loads(DEFAULT_SCHEMA_FILE.read_text())
VECTOR = load_vectors()["avro_default_record"]


def load(name: str) -> dict[str, Any]:
    spec: dict[str, Any] = json.loads((DOCS / name).read_text())
    return spec


def kinds() -> dict[str, str]:
    """Field name → its Avro type, without the null of optional fields."""
    result = {}
    for field in SCHEMA["fields"]:
        types = field["type"] if isinstance(field["type"], list) else [field["type"]]
        (kind,) = [t for t in types if t != "null"]
        result[field["name"]] = kind
    return result


@pytest.mark.parametrize("name", ["kafka-supervisor-naked.json", "kafka-supervisor-confluent.json"])
def test_spec_fields_match_the_default_schema(name: str) -> None:
    spec = load(name)
    assert spec["type"] == "kafka"
    data_schema, io_config = spec["spec"]["dataSchema"], spec["spec"]["ioConfig"]
    assert io_config["type"] == "kafka" and io_config["topic"] == "divolte"
    assert io_config["inputFormat"]["type"] == "avro_stream"
    assert data_schema["timestampSpec"] == {"column": "timestamp", "format": "millis"}
    assert kinds()["timestamp"] == "long"

    dimensions = {d if isinstance(d, str) else d["name"]: d for d in data_schema["dimensionsSpec"]["dimensions"]}
    fields = kinds()
    assert set(dimensions) <= set(fields), f"not in the schema: {set(dimensions) - set(fields)}"
    strings = {name for name, kind in fields.items() if kind == "string"}
    assert strings <= set(dimensions), f"string fields missing: {strings - set(dimensions)}"
    assert "timestamp" not in dimensions
    for name, dimension in dimensions.items():
        declared = "string" if isinstance(dimension, str) else dimension["type"]
        expected = {"string": "string", "boolean": "string", "int": "long", "long": "long"}[fields[name]]
        assert declared == expected, name


def test_naked_spec_carries_the_schema_and_reads_what_the_sink_writes() -> None:
    decoder = load("kafka-supervisor-naked.json")["spec"]["ioConfig"]["inputFormat"]["avroBytesDecoder"]
    assert decoder["type"] == "schema_inline"
    assert decoder["schema"] == SCHEMA == json.loads(default_schema().json)
    value = bytes.fromhex(VECTOR["avro_binary_hex"])  # a Kafka value in naked mode
    parsed = fastavro.parse_schema(decoder["schema"])
    record = cast(dict[str, Any], fastavro.schemaless_reader(io.BytesIO(value), parsed))
    assert record["timestamp"] == int(VECTOR["kafka_timestamp_ms"])
    assert record["partyId"] == VECTOR["kafka_key_utf8"]


def test_confluent_spec_reads_the_schema_id_from_a_registry() -> None:
    decoder = load("kafka-supervisor-confluent.json")["spec"]["ioConfig"]["inputFormat"]["avroBytesDecoder"]
    assert decoder["type"] == "schema_registry" and decoder["urls"]
    naked = load("kafka-supervisor-naked.json")["spec"]["dataSchema"]
    assert load("kafka-supervisor-confluent.json")["spec"]["dataSchema"] == naked
