"""Server-side privacy options: anonymise the client address before it is stored, honour opt-out signals.

Both are off by default (Divolte has neither) and switched on in ``divolte.global.privacy``:

- ``anonymise_ip``: the stored address (``remoteHost()``) loses its last IPv4 octet (``203.0.113.0``) or the
  last 80 bits of an IPv6 address (keeping the /48 network), the common rule for analytics that must not
  store personal addresses. ``ip2geo()`` still looks up the full address unless
  ``ip2geo_uses_full_ip = false``; the full address is never written by the built-in mapping.
- ``honour_gpc`` / ``honour_dnt``: events of requests carrying ``Sec-GPC: 1`` (Global Privacy Control) or
  ``DNT: 1`` (Do Not Track) are dropped before mapping and counted. The tracker can also stop sending them
  in the browser (``javascript.respect_privacy_signals``); this catches every client, including old trackers.
"""

from __future__ import annotations

import ipaddress

from collector.events import Headers


def anonymise_address(address: str) -> str:
    """The address with its host part zeroed (IPv4: last octet; IPv6: last 80 bits); non-IPs unchanged.

    The result is formatted as the collector formats remote hosts (Java's style: IPv6 uncompressed).
    """
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(ip, ipaddress.IPv4Address):
        return str(ipaddress.IPv4Address(int(ip) & 0xFFFFFF00))
    masked = ipaddress.IPv6Address(int(ip) & ~((1 << 80) - 1))
    return ":".join(f"{int(group, 16):x}" for group in masked.exploded.split(":"))


def opted_out(headers: Headers, *, gpc: bool, dnt: bool) -> bool:
    """Whether the request carries an opt-out signal the operator chose to honour."""
    for name, value in headers:
        if gpc and name == b"sec-gpc" and value.strip() == b"1":
            return True
        if dnt and name == b"dnt" and value.strip() == b"1":
            return True
    return False
