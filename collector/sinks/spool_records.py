"""How the disk spool stores one record (``collector.sinks.spool``): framing, and reading a frame back.

A segment starts with ``MAGIC``; then each record is ``<u32 body length><u32 CRC-32 of body>`` + body, where
the body is ``<i64 timestamp ms><u32 party-id length>`` + party id (UTF-8) + payload (the Avro bytes). In a
spool that keeps event ids (the Pub/Sub sink's), the top bit of the party-id length is set and ``<u32
event-id length>`` + event id (UTF-8) follow the party id; records without the bit read back with an empty
event id, so a spool written by an older collector still reads.
"""

from __future__ import annotations

import struct
import zlib

from collector.events import EncodedRecord

MAGIC = b"DVSPOOL1"
FRAME = struct.Struct("<II")
BODY = struct.Struct("<qI")
EVENT_ID = struct.Struct("<I")
EVENT_ID_FOLLOWS = 0x8000_0000
"""Flag in the party-id length: an event id follows the party id."""


def frame(record: EncodedRecord, *, event_id: bool = False) -> bytes:
    """One record as it is stored: length and checksum, then timestamp, party id and payload."""
    party = record.party_id.encode("utf-8")
    if event_id and record.event_id:
        event = record.event_id.encode("utf-8")
        head = BODY.pack(record.timestamp, len(party) | EVENT_ID_FOLLOWS) + party + EVENT_ID.pack(len(event)) + event
    else:
        head = BODY.pack(record.timestamp, len(party)) + party
    body = head + record.payload
    return FRAME.pack(len(body), zlib.crc32(body)) + body


def framed_size(record: EncodedRecord, *, event_id: bool = False) -> int:
    """``len(frame(record, event_id=event_id))``, without building the frame."""
    event = len(record.event_id.encode("utf-8")) + EVENT_ID.size if event_id and record.event_id else 0
    return FRAME.size + BODY.size + len(record.party_id.encode("utf-8")) + event + len(record.payload)


def unframe(body: bytes) -> EncodedRecord:
    timestamp, party_length = BODY.unpack_from(body)
    start = BODY.size
    event_id = ""
    if party_length & EVENT_ID_FOLLOWS:
        party_length &= ~EVENT_ID_FOLLOWS
        (event_length,) = EVENT_ID.unpack_from(body, start + party_length)
        event_start = start + party_length + EVENT_ID.size
        event_id = body[event_start : event_start + event_length].decode("utf-8")
        payload_start = event_start + event_length
    else:
        payload_start = start + party_length
    party = body[start : start + party_length].decode("utf-8")
    return EncodedRecord(party, timestamp, body[payload_start:], event_id)
