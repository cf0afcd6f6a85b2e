"""Turn a captured ``/csc-event`` request into a ``DivolteEvent``, or say why it must be dropped.

The browser already has its pixel: nothing here can change the reply. An event missing a required part is
dropped with a short, stable reason (a metrics label); one whose checksum does not match is kept and
marked ``corrupt``, as in Divolte. Required, in Divolte's order of checking: a valid party id ``p`` and
session id ``s`` (normalised), page-view id ``v``, event id ``e``, flags ``n`` and ``f`` (present; true only
when exactly ``t``) and a base-36 client timestamp ``c``. Screen and viewport sizes that are not base-36
ints (a fractional device pixel ratio arrives as ``1.i``) are simply absent.
"""

from __future__ import annotations

import functools

from collector.errors import IncompleteRequest
from collector.events import CapturedRequest, DivolteEvent
from collector.protocol import identifiers
from collector.protocol.base36 import parse_int36, parse_long36
from collector.protocol.checksum import is_checksum_correct
from collector.protocol.forwarded import java_host_string, peer_from_forwarded_for
from collector.protocol.query import decode_query

EVENT_SOURCE = "browser"

DROP_REASONS = (
    "malformed_query",
    "too_many_parameters",
    "invalid_party_id",
    "invalid_session_id",
    "missing_page_view_id",
    "missing_event_id",
    "missing_new_party_flag",
    "missing_first_in_session_flag",
    "invalid_client_timestamp",
)
"""Every ``IncompleteRequest.reason`` this module raises, so metrics can create their labels up front."""

_TRUE = "t"
_FORWARDED_FOR = b"x-forwarded-for"


@functools.lru_cache(maxsize=8192)
def _forwarded_remote_host(forwarded_for: tuple[bytes, ...], peer: str) -> str:
    """The remote host for the ``X-Forwarded-For`` values of a request, memoised.

    Validating an address with ``ipaddress`` costs ~2 µs, a tenth of parsing the whole event; a visitor
    sends many events from one address and a load balancer has few addresses of its own, so recent
    (value, peer) pairs answer from the cache. The function is pure, so the cache changes nothing else.
    """
    return peer_from_forwarded_for(tuple((_FORWARDED_FOR, value) for value in forwarded_for), peer)


def _first(params: dict[str, list[str]], key: str) -> str | None:
    """Return the first value of ``key``, as Divolte's ``queryParamFromExchange`` does, or ``None``."""
    values = params.get(key)
    return values[0] if values else None


def _required(params: dict[str, list[str]], key: str, reason: str) -> str:
    """Return the first value of a required parameter; raise ``IncompleteRequest(reason)`` if missing."""
    value = _first(params, key)
    if value is None:
        raise IncompleteRequest(reason, f"no {key!r} parameter")
    return value


def _identifier(params: dict[str, list[str]], key: str, reason: str) -> str:
    """Return the normalised identifier in ``key``; raise ``IncompleteRequest(reason)`` if missing/invalid."""
    normalised = identifiers.normalise(_required(params, key, reason))
    if normalised is None:
        raise IncompleteRequest(reason, f"{key!r} is not a Divolte identifier")
    return normalised


def _optional_int(params: dict[str, list[str]], key: str) -> int | None:
    """Return ``key`` as a base-36 Java int, or ``None`` when it is absent or does not parse."""
    value = _first(params, key)
    return None if value is None else parse_int36(value)


def parse_browser_event(request: CapturedRequest, *, use_x_forwarded_for: bool) -> DivolteEvent:
    """Parse a captured browser request into an event; raise ``IncompleteRequest`` if it must be dropped.

    ``use_x_forwarded_for`` is ``divolte.global.server.use_x_forwarded_for``: take the remote host from the
    last proxy's ``X-Forwarded-For`` entry instead of the TCP peer.
    """
    params = decode_query(request.query)
    party_id = _identifier(params, "p", "invalid_party_id")
    session_id = _identifier(params, "s", "invalid_session_id")
    page_view_id = _required(params, "v", "missing_page_view_id")
    event_id = _required(params, "e", "missing_event_id")
    new_party = _required(params, "n", "missing_new_party_flag") == _TRUE
    first_in_session = _required(params, "f", "missing_first_in_session_flag") == _TRUE
    client_timestamp = parse_long36(_required(params, "c", "invalid_client_timestamp"))
    if client_timestamp is None:
        raise IncompleteRequest("invalid_client_timestamp", "'c' is not a base-36 long")
    # After the required checks (which Divolte makes after it) so a dropped event costs no hashing.
    corrupt = not is_checksum_correct(params)
    forwarded_for: tuple[bytes, ...] = ()
    if use_x_forwarded_for:
        forwarded_for = tuple(value for name, value in request.headers if name == _FORWARDED_FOR)
    if forwarded_for:
        remote_host = _forwarded_remote_host(forwarded_for, request.peer)
    else:
        remote_host = java_host_string(request.peer)
    return DivolteEvent(
        source=request.source,
        event_source=EVENT_SOURCE,
        party_id=party_id,
        session_id=session_id,
        event_id=event_id,
        page_view_id=page_view_id,
        corrupt=corrupt,
        new_party=new_party,
        first_in_session=first_in_session,
        timestamp=request.received_ms,
        client_timestamp=client_timestamp,
        remote_host=remote_host,
        headers=request.headers,
        location=_first(params, "l"),
        referer=_first(params, "r"),
        viewport_pixel_width=_optional_int(params, "w"),
        viewport_pixel_height=_optional_int(params, "h"),
        screen_pixel_width=_optional_int(params, "i"),
        screen_pixel_height=_optional_int(params, "j"),
        device_pixel_ratio=_optional_int(params, "k"),
        event_type=_first(params, "t"),
        raw_parameters=_first(params, "u"),
    )
