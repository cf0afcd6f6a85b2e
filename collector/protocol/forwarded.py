"""Format remote addresses as Java prints them, and take the client address from ``X-Forwarded-For``.

Divolte stores ``InetSocketAddress.getHostString()`` as ``remoteHost``. For an IP literal that is Java's
``getHostAddress()`` form: IPv4 dotted quad; IPv6 as eight lower-case hex groups without leading zeros and
without ``::`` compression (``2001:db8:0:0:0:0:0:1``); an IPv4-mapped IPv6 address (``::ffff:1.2.3.4``, what a
dual-stack socket reports for an IPv4 client) becomes the IPv4 address. Records must carry the same text.

With ``use_x_forwarded_for`` Divolte joins every ``X-Forwarded-For`` header with commas, takes the text after
the last comma (trimmed, as Java trims) and reads it with ``InetAddress.getByName``; when that fails the
connection's address stays. We read it the same way:

- IPv4 in every form Java accepts: one to four dot-separated decimal parts, the last filling the remaining
  bytes (``1.2.3`` is ``1.2.0.3``, ``16909060`` is ``1.2.3.4``, ``127.1`` is ``127.0.0.1``), leading zeros
  read as decimal (``010.001.001.001`` is ``10.1.1.1``), at most 15 characters;
- IPv6 literals, bracketed or not;
- the name ``localhost`` (any case), recorded as written, as Java records a name it resolved.

Deliberate differences, both where Divolte's answer is an accident of ``getByName``: any other host name keeps
the connection's address. Divolte looks it up in DNS, on its I/O thread, and records the name when it
resolves; a request must not be able to make the collector query DNS (or wait for it), and ``localhost`` is
the one name every resolver answers without asking anyone (RFC 6761). An empty last entry
(``X-Forwarded-For:`` or ``192.0.2.50,``) also keeps the connection's address, where Java reads the empty
name as the loopback address and Divolte records ``localhost``.
"""

from __future__ import annotations

import ipaddress

from collector.events import Headers
from collector.protocol.header_values import header_text

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


def _java_ipv4(text: str) -> str | None:
    """The dotted quad of an IPv4 literal in any form ``InetAddress.getByName`` accepts, else ``None``."""
    if not 0 < len(text) <= 15 or not text.replace(".", "").isdigit() or not text.isascii():
        return None
    parts = text.split(".")
    if len(parts) > 4 or "" in parts:
        return None
    numbers = [int(part) for part in parts]
    *leading, last = numbers
    if any(number > 0xFF for number in leading) or last >= 1 << (8 * (5 - len(parts))):
        return None
    return ".".join(str(byte) for byte in [*leading, *last.to_bytes(5 - len(parts), "big")])


def _java_address(text: str) -> str | None:
    """The host string Divolte records for an ``X-Forwarded-For`` entry, or ``None`` to keep the peer."""
    if text.lower() == "localhost":
        return text
    return _java_ipv4(text) or _parse_literal(text)


def peer_from_forwarded_for(headers: Headers, peer: str) -> str:
    """Return the client address per ``X-Forwarded-For`` (all headers, after the last comma), else ``peer``.

    Both the result and the fallback are in Java's host-string form.
    """
    values = [header_text(value) for name, value in headers if name == _FORWARDED_FOR]
    if values:
        joined = ",".join(values)
        comma = joined.rfind(",")
        candidate = joined if comma < 0 else joined[comma + 1 :].strip(_JAVA_TRIM)
        formatted = _java_address(candidate)
        if formatted is not None:
            return formatted
    return java_host_string(peer)
