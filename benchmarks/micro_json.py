"""Micro-benchmark: µs per JSON-source body parsed into an event (``parse_json_event``), against ``orjson.loads``
of the same body in the same run.

Run from the repository root: ``python -m benchmarks.micro_json``. The bodies are the README's example event
and one with a dozen parameters (what apps send), both read by orjson; a UTF-8 byte-order mark, a number in
``event_type`` and a UTF-16 body take the exact reader (``collector.protocol.json_body``) and are shown for
scale. Absolute numbers depend on the machine; compare the lines of one run.
"""

from __future__ import annotations

import json
import timeit
from collections.abc import Callable

import orjson

from collector.events import CapturedRequest
from collector.protocol.json_event import parse_json_event

EXAMPLE = {
    "session_id": "0:is8tiwk4:XLEUVj9hA6AXRUOp2zuIdUpaeFOC~7AU",
    "event_id": "AruZ~Em0WNlAnbyzVmwM~GR0cMb6Xl9r",
    "is_new_party": True,
    "is_new_session": True,
    "client_timestamp_iso": "2016-08-24T13:29:39.412+02:00",
    "event_type": "newUser",
    "parameters": {"channel": "google"},
}
PARAMETERS = {
    **EXAMPLE,
    "event_type": "addToBasket",
    "parameters": {
        "sku": "A-1234-XL", "price": 12.5, "currency": "EUR", "quantity": 2, "category": ["shoes", "running"],
        "screen": {"w": 1170, "h": 2532}, "app": "MyApp/4.2.1", "os": "iOS 17.1", "logged_in": True,
        "campaign": None, "experiment": "b", "position": 3,
    },
}  # fmt: skip
BODIES = {
    "README example (orjson)": json.dumps(EXAMPLE).encode(),
    "12 parameters (orjson)": json.dumps(PARAMETERS).encode(),
    "byte-order mark (exact reader)": b"\xef\xbb\xbf" + json.dumps(EXAMPLE).encode(),
    "event_type 1.50 (exact reader)": json.dumps(EXAMPLE).replace('"newUser"', "1.50").encode(),
    "UTF-16 (exact reader)": json.dumps(EXAMPLE).encode("utf-16-le"),
}
QUERY = b"p=0%3Ais8tiwk4%3AGKv5gCc5TtrvBTs9bXfVD8KIQ3oO~sEg"


def per_call_us(call: Callable[[], object], number: int = 20_000, repeat: int = 7) -> float:
    """Best-of-``repeat`` time of one call, in µs (the minimum is the least noisy estimate)."""
    return min(timeit.Timer(call).repeat(repeat=repeat, number=number)) / number * 1e6


def main() -> None:
    for name, body in BODIES.items():
        request = CapturedRequest("json", QUERY, (), "10.0.0.1", 0, body)
        event = per_call_us(lambda r=request: parse_json_event(r, party_id_parameter="p", use_x_forwarded_for=False))
        if "(orjson)" in name:
            loads = per_call_us(lambda b=body: orjson.loads(b))
            print(f"{name:34s} parse_json_event {event:6.2f} µs   orjson.loads alone {loads:5.2f} µs")
        else:
            print(f"{name:34s} parse_json_event {event:6.2f} µs")


if __name__ == "__main__":
    main()
