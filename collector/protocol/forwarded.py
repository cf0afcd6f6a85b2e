"""Format remote addresses as Java prints them, and take the client address from ``X-Forwarded-For``.

Divolte stores ``InetSocketAddress.getHostString()`` as ``remoteHost``. For an IP literal that is Java's
``getHostAddress()`` form: IPv4 dotted quad; IPv6 as eight lower-case hex groups without leading zeros and
without ``::`` compression (``2001:db8:0:0:0:0:0:1``); an IPv4-mapped IPv6 address (``::ffff:1.2.3.4``, what a
dual-stack socket reports for an IPv4 client) becomes the IPv4 address. Records must carry the same text.

With ``use_x_forwarded_for`` Divolte believes the last proxy: the text after the last comma of the last
``X-Forwarded-For`` header. Deliberate differences from Java's ``InetAddress.getByName``: only IP literals
are accepted, so a host name is never looked up in DNS (a request must not be able to make us resolve
names), an empty value keeps the peer (Java would answer the loopback address), and IPv4 spellings that
only Java accepts (``127.1``, ``2130706433``, ``010.0.0.1`` read as decimal) keep the peer too.
"""

from __future__ import annotations

import ipaddress

from collector.events import Headers

_FORWARDED_FOR = b"x-forwarded-for"
_JAVA_TRIM = "".join(chr(code) for code in range(0x21))
"""Java's ``String.trim()`` strips every character up to and including the space."""


def _ipv6_host_string(address: ipaddress.IPv6Address) -> str:
    """Render an IPv6 address as Java's ``Inet6Address.getHostAddress()`` does."""
    mapped = address.ipv4_mapped
    if mapped is not None:
        return str(mapped)
    packed = address.packed
    groups = ":".join(f"{(packed[i] << 8) | packed[i + 1]:x}" for i in range(0, 16, 2))
    return f"{groups}%{address.scope_id}" if address.scope_id else groups


def _parse_literal(text: str) -> str | None:
    """Return the Java host string of an IP literal (IPv6 may be bracketed), or ``None`` if it is not one."""
    if text.startswith("[") and text.endswith("]"):
        # Brackets always mean IPv6, as in Java: "[1.2.3.4]" is not an address.
        bracketed = True
        text = text[1:-1]
    else:
        bracketed = False
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address):
        return _ipv6_host_string(address)
    return None if bracketed else str(address)


def java_host_string(address: str) -> str:
    """Format a peer address as Java's ``getHostString()`` would; text that is no IP literal is unchanged."""
    if ":" not in address:
        # IPv4 (already in Java's form) or not an address at all: unchanged either way. This is the
        # common case, and it skips the relatively slow ipaddress parser.
        return address
    formatted = _parse_literal(address)
    return address if formatted is None else formatted


def peer_from_forwarded_for(headers: Headers, peer: str) -> str:
    """Return the client address per ``X-Forwarded-For`` (last header, after its last comma), else ``peer``.

    Both the result and the fallback are in Java's host-string form.
    """
    last: bytes | None = None
    for name, value in headers:
        if name == _FORWARDED_FOR:
            last = value
    if last is not None:
        candidate = last.decode("latin-1").rpartition(",")[2].strip(_JAVA_TRIM)
        formatted = _parse_literal(candidate)
        if formatted is not None:
            return formatted
    return java_host_string(peer)
