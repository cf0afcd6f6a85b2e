"""Avro encoding (byte-exact against the spec's vector) and container files readable by independent readers."""

from __future__ import annotations

import io
import json
from typing import Any, cast

import avro.datafile
import avro.io
import fastavro
import pytest

from collector.avro.container import ContainerWriter, complete_prefix, encode_long
from collector.avro.encode import RecordEncoder, confluent_frame
from collector.avro.schemas import default_schema, parse_schema_text, strip_json_comments
from collector.enrich.useragent import UserAgentParser
from collector.errors import MappingError
from collector.events import CapturedRequest
from collector.mapping.default import DefaultMapping
from collector.protocol.browser_event import parse_browser_event
from tests.paths import DEFAULT_SCHEMA_FILE, FIXTURES
from tests.vectors import load_vectors

VECTORS = load_vectors()
AVRO = VECTORS["avro_default_record"]
GOOD = next(c for c in VECTORS["browser_checksum"]["cases"] if c["name"] == "good")


def good_event_record() -> dict[str, object]:
    request = CapturedRequest(
        "browser",
        GOOD["query"].encode(),
        ((b"user-agent", AVRO["record"]["userAgentString"].encode()),),
        "127.0.0.1",
        AVRO["kafka_timestamp_ms"],
    )
    event = parse_browser_event(request, use_x_forwarded_for=False)
    return DefaultMapping(UserAgentParser(10)).map(event)


def test_default_mapping_of_good_vector_is_byte_exact() -> None:
    record = good_event_record()
    assert record == AVRO["record"]
    encoded = RecordEncoder(default_schema()).encode(record)
    assert len(encoded) == AVRO["length"]
    assert encoded.hex() == AVRO["avro_binary_hex"]


def test_confluent_framing() -> None:
    payload = bytes.fromhex(AVRO["avro_binary_hex"])
    assert confluent_frame(0x1DEFACED, payload)[:5].hex() == VECTORS["confluent_header"]["first5bytes_hex"]
    assert confluent_frame(12345, payload).hex() == AVRO["kafka_confluent_value_for_schema_id_12345"]


def test_default_schema_is_divolte_s() -> None:
    ours = default_schema()
    theirs = json.loads(DEFAULT_SCHEMA_FILE.read_text())
    assert ours.full_name == "io.divolte.record.DefaultEventRecord"
    assert ours.field_names == [f["name"] for f in theirs["fields"]]


@pytest.mark.parametrize("value", [0, 1, -1, 63, -64, 64, 2**31, -(2**63), 2**63 - 1])
def test_zigzag_long_matches_fastavro(value: int) -> None:
    buffer = io.BytesIO()
    fastavro.schemaless_writer(buffer, "long", value)
    assert encode_long(value) == buffer.getvalue()


def test_container_blocks_read_by_fastavro_and_apache_avro() -> None:
    schema = default_schema()
    encoder = RecordEncoder(schema)
    record = good_event_record()
    buffer = io.BytesIO()
    writer = ContainerWriter(buffer, schema.json)
    writer.write_block([encoder.encode(record)] * 3)
    writer.write_block([])  # an empty sync writes nothing
    writer.write_block([encoder.encode({**record, "eventType": "second"})])
    data = buffer.getvalue()
    assert data.count(writer.sync_marker) == 3  # header + two blocks
    fast = [cast(dict[str, Any], record) for record in fastavro.reader(io.BytesIO(data))]
    apache = list(avro.datafile.DataFileReader(io.BytesIO(data), avro.io.DatumReader()))
    assert fast == apache
    assert [r["eventType"] for r in fast] == ["pageView"] * 3 + ["second"]


def test_deflate_codec_is_readable() -> None:
    schema = default_schema()
    buffer = io.BytesIO()
    writer = ContainerWriter(buffer, schema.json, codec="deflate")
    writer.write_block([RecordEncoder(schema).encode(good_event_record())])
    (record,) = fastavro.reader(io.BytesIO(buffer.getvalue()))
    assert cast(dict[str, Any], record)["partyId"] == AVRO["record"]["partyId"]
    with pytest.raises(ValueError, match="unsupported Avro codec"):
        ContainerWriter(io.BytesIO(), schema.json, codec="lzma")


def test_schema_files_with_comments_parse() -> None:
    for name in ("TestRecord.avsc", "MinimalRecord.avsc"):
        schema = parse_schema_text((FIXTURES / name).read_text(), name)
        assert schema.field_names
    assert strip_json_comments('{"a": "// not a comment"} // comment') == '{"a": "// not a comment"} '


@pytest.mark.parametrize(
    ("text", "message"),
    [("{", "not valid JSON"), ('{"type": "record"}', "not a valid Avro schema"), ('"string"', "must be a record")],
)
def test_bad_schemas_are_named_errors(text: str, message: str) -> None:
    with pytest.raises(MappingError, match=message):
        parse_schema_text(text, "my.avsc")


def test_complete_prefix_of_a_file_cut_anywhere_is_readable() -> None:
    schema = default_schema()
    encoder = RecordEncoder(schema)
    record = good_event_record()
    buffer = io.BytesIO()
    writer = ContainerWriter(buffer, schema.json)
    header_end = len(buffer.getvalue())
    writer.write_block([encoder.encode(record)] * 2)
    first_block_end = len(buffer.getvalue())
    writer.write_block([encoder.encode(record)] * 3)
    data = buffer.getvalue()
    assert complete_prefix(data) == (len(data), 5)
    for cut in range(len(data)):
        length, count = complete_prefix(data[:cut])
        expected = (0, 0) if cut < header_end else (header_end, 0) if cut < first_block_end else (first_block_end, 2)
        assert (length, count) == expected, cut
        if length:
            assert len(list(fastavro.reader(io.BytesIO(data[:length])))) == count
    assert complete_prefix(b"not avro") == (0, 0)
