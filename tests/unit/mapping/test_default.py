"""``DefaultMapping.map_encoded`` (the pipeline's direct encoder) gives exactly fastavro's bytes for ``map``."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from collector.avro.container import encode_long
from collector.avro.encode import RecordEncoder, long_bytes, string_bytes
from collector.avro.schemas import default_schema, parse_schema_text
from collector.enrich.useragent import UserAgentParser
from collector.events import DivolteEvent
from collector.mapping.default import DefaultMapping

MAPPING = DefaultMapping(UserAgentParser(100))
ENCODER = RecordEncoder(default_schema())

LONGS = st.integers(min_value=-(2**63), max_value=2**63 - 1)
INTS = st.none() | st.integers(min_value=-(2**31), max_value=2**31 - 1)
TEXT = st.text(st.characters(exclude_categories=["Cs"]), max_size=40)
AGENTS = st.sampled_from(
    [
        b"Mozilla/5.0 (iPhone; CPU iPhone OS 17_4_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
        b"Version/17.4 Mobile/15E148 Safari/604.1",
        b"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 "
        b"Safari/537.36",
        b"curl/8.5.0",
        b"",
        b"caf\xe9 agent",  # not UTF-8: read as ISO-8859-1
        "ünïcode ✓ agent".encode(),
    ]
)


@st.composite
def events(draw: st.DrawFn) -> DivolteEvent:
    headers = [(b"accept", b"*/*")]
    agents = draw(st.lists(AGENTS, max_size=2))
    headers += [(b"user-agent", agent) for agent in agents]
    return DivolteEvent(
        source="browser",
        event_source="browser",
        party_id=draw(TEXT),
        session_id=draw(TEXT),
        event_id=draw(TEXT),
        page_view_id=draw(st.none() | TEXT),
        corrupt=draw(st.booleans()),
        new_party=draw(st.booleans()),
        first_in_session=draw(st.booleans()),
        timestamp=draw(LONGS),
        client_timestamp=draw(LONGS),
        remote_host=draw(TEXT),
        headers=tuple(headers),
        location=draw(st.none() | TEXT | st.just("https://example.com/" + "x" * 5000)),
        referer=draw(st.none() | TEXT),
        viewport_pixel_width=draw(INTS),
        viewport_pixel_height=draw(INTS),
        screen_pixel_width=draw(INTS),
        screen_pixel_height=draw(INTS),
        event_type=draw(st.none() | TEXT),
        duplicate=draw(st.booleans()),
    )


@settings(max_examples=500, deadline=None)
@given(events())
def test_map_encoded_is_fastavros_encoding_of_map(event: DivolteEvent) -> None:
    assert MAPPING.map_encoded(event) == ENCODER.encode(MAPPING.map(event))


@given(LONGS)
def test_long_bytes_matches_the_container_encoder(value: int) -> None:
    assert long_bytes(value) == encode_long(value)


def test_string_lengths_at_the_edge_of_the_lookup_table() -> None:
    for size in (0, 63, 64, 4095, 4096, 70_000):
        assert string_bytes("é" * size) == encode_long(2 * size) + "é".encode() * size


def test_another_schema_goes_through_the_generic_encoder() -> None:
    schema = parse_schema_text(default_schema().json, "copy")
    mapping = DefaultMapping(UserAgentParser(10), schema)
    event = DivolteEvent("browser", "browser", "0:a:b", "0:a:c", "e", None, False, True, True, 1, 2, "1.2.3.4", ())
    assert mapping.map_encoded(event) == RecordEncoder(schema).encode(mapping.map(event))
