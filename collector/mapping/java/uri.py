"""Parse URIs exactly as strictly as ``java.net.URI`` does, for the mapping's ``parse … to uri`` (SPEC §6.3).

Divolte parses locations and referrers with ``new java.net.URI(text)`` and leaves the value absent when that
throws. Pages send all sorts of URLs, so which ones parse decides which fields get filled: a mapping moved
from Divolte must fill the same fields. Python's ``urllib.parse`` accepts nearly anything, so this module
follows the JDK's RFC 2396 grammar instead (checked against JDK 17, whose parser is the JDK 8 one):

* every component is checked against its RFC 2396 character class; ``%`` must start a ``%XX`` escape;
  spaces, ``"``, ``<``, ``>``, ``\\``, ``^``, backtick, ``{``, ``|``, ``}`` and controls are refused;
  ``[`` and ``]`` are allowed in the query and fragment but not the path;
* non-ASCII characters are accepted where escapes are (path, query, fragment, user info, registry
  authority) unless they are controls or Unicode space separators;
* an authority that does not parse as ``[user@]host[:port]`` (``ex_ample.com``, IDN names, a port beyond
  ``int``) becomes a *registry-based* authority: the URI is valid but has no host and no port;
* ``scheme:`` followed by anything but ``/`` is *opaque* (``mailto:x``): no path, no query.

The decoded parts (``path``, ``query``, ``fragment``) and ``query_map()`` (Divolte's ``QueryStringParser``)
are decoded as in Java by ``collector.mapping.java.uri_decoding``. Every rule here was checked against
``java.net.URI`` of JDK 17 on random strings.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from collector.mapping.java.uri_decoding import decode_escapes, parse_query_string

_DIGIT = "0123456789"
_ALPHA = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
_ALPHANUM = _ALPHA + _DIGIT
_HEX = _DIGIT + "abcdefABCDEF"
_UNRESERVED = _ALPHANUM + "-_.!~*'()"
_RESERVED = ";/?:@&=+$,[]"
_URIC = _RESERVED + _UNRESERVED
_PCHAR = _UNRESERVED + ":@&=+$,"
_PATH = _PCHAR + ";/"
_USERINFO = _UNRESERVED + ";:&=+$,"
_REG_NAME = _UNRESERVED + "$,;:@&=+"
_SERVER = _USERINFO + _ALPHANUM + "-.:@[]"
_SCHEME = _ALPHANUM + "+-."
_SCOPE_ID = _ALPHANUM + "_."

_OTHER = r"[^\x00-\x9f\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]"
"""A non-ASCII character the JDK accepts unescaped: not a control, not a Unicode space separator."""


def _charset(chars: str, *, escapes: bool) -> re.Pattern[str]:
    """Compile a matcher for a run of ``chars``, plus ``%XX`` escapes and other characters if ``escapes``."""
    members = "[" + re.escape("".join(sorted(set(chars)))) + "]"
    if escapes:
        return re.compile(f"(?:{members}+|%[0-9A-Fa-f]{{2}}|{_OTHER})*")
    return re.compile(members + "*")


_C_URIC = _charset(_URIC, escapes=True)
_C_PATH = _charset(_PATH, escapes=True)
_C_USERINFO = _charset(_USERINFO, escapes=True)
_C_REG_NAME = _charset(_REG_NAME, escapes=True)
_C_SERVER = _charset(_SERVER, escapes=True)
_C_SERVER_PERCENT = _charset(_SERVER + "%", escapes=True)
_C_SCHEME = _charset(_SCHEME, escapes=False)
_C_DIGIT = _charset(_DIGIT, escapes=False)
_C_DIGIT_DOT = _charset(_DIGIT + ".", escapes=False)
_C_HEX = _charset(_HEX, escapes=False)
_C_ALPHANUM = _charset(_ALPHANUM, escapes=False)
_C_ALPHANUM_DASH = _charset(_ALPHANUM + "-", escapes=False)
_C_SCOPE_ID = _charset(_SCOPE_ID, escapes=False)
_WITH_ESCAPES = frozenset({_C_URIC, _C_PATH, _C_USERINFO, _C_REG_NAME, _C_SERVER})
"""Character classes where a ``%`` must start a valid escape (``_C_SERVER_PERCENT`` takes ``%`` as is)."""

_INT_MAX = 2**31 - 1


def _java_int(digits: str) -> int | None:
    """Return ``Integer.parseInt(digits)`` for ASCII digits (leading zeros allowed), None on overflow."""
    significant = digits.lstrip("0")
    if len(significant) > 10:
        return None
    value = int(significant or "0")
    return value if value <= _INT_MAX else None


class _Invalid(Exception):
    """The text is not a URI (where the JDK throws ``URISyntaxException``)."""


@dataclass(frozen=True, slots=True)
class JavaURI:
    """A parsed URI with the parts a Divolte mapping can read; ``None`` where ``java.net.URI`` has null.

    ``path``/``query``/``fragment`` are decoded (``decodedQueryString()`` is ``query``); the ``raw_``
    fields are as written. ``host`` is ``None`` for registry-based authorities and ``port`` when not given.
    """

    scheme: str | None
    host: str | None
    port: int | None
    raw_path: str | None
    raw_query: str | None
    raw_fragment: str | None
    path: str | None
    query: str | None
    fragment: str | None

    def query_map(self) -> dict[str, list[str]] | None:
        """Return Divolte's ``.query()``: the raw query parsed by ``parse_query_string``; None without one."""
        return None if self.raw_query is None else parse_query_string(self.raw_query)


def parse_uri(text: str) -> JavaURI | None:
    """Parse ``text`` as ``new java.net.URI(text)`` would; None where the JDK throws."""
    try:
        return _Parser(text).parse()
    except _Invalid:
        return None


class _Parser:
    """One parse of one string, following the JDK's ``URI.Parser`` grammar and error cases."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.scheme: str | None = None
        self.host: str | None = None
        self.port: int | None = None
        self.path: str | None = None
        self.query: str | None = None
        self.fragment: str | None = None
        self.ipv6_bytes = 0

    # -- scanning helpers ------------------------------------------------------------------------

    def scan(self, charset: re.Pattern[str], start: int, end: int) -> int:
        """Return the end of the run of ``charset`` characters in ``[start, end)``.

        Like the JDK, a ``%`` that stops a run allowing escapes is a malformed escape and fails the parse.
        """
        match = charset.match(self.text, start, end)
        stop = match.end() if match else start
        if stop < end and self.text[stop] == "%" and charset in _WITH_ESCAPES:
            raise _Invalid("malformed escape pair")
        return stop

    def check(self, charset: re.Pattern[str], start: int, end: int) -> None:
        """Fail unless every character of ``[start, end)`` belongs to ``charset``."""
        if self.scan(charset, start, end) < end:
            raise _Invalid("illegal character")

    def at(self, pos: int, end: int, char: str) -> bool:
        """Tell whether ``pos`` is before ``end`` and holds ``char``."""
        return pos < end and self.text[pos] == char

    def find(self, stops: str, start: int, end: int) -> int:
        """Return the position of the first character of ``stops`` in ``[start, end)``, else ``end``."""
        pos = start
        while pos < end and self.text[pos] not in stops:
            pos += 1
        return pos

    # -- the grammar -------------------------------------------------------------------------------

    def parse(self) -> JavaURI:
        """[scheme:]scheme-specific-part[#fragment]."""
        text = self.text
        end = len(text)
        colon = self.find("/?#:", 0, end)
        if self.at(colon, end, ":"):
            if colon == 0 or text[0] not in _ALPHA:
                raise _Invalid("expected scheme name")
            self.check(_C_SCHEME, 1, colon)
            self.scheme = text[:colon]
            pos = colon + 1
            if self.at(pos, end, "/"):
                pos = self.parse_hierarchical(pos, end)
            else:
                stop = self.find("#", pos, end)
                if stop <= pos:
                    raise _Invalid("expected scheme-specific part")
                self.check(_C_URIC, pos, stop)
                pos = stop
        else:
            pos = self.parse_hierarchical(0, end)
        if self.at(pos, end, "#"):
            self.check(_C_URIC, pos + 1, end)
            self.fragment = text[pos + 1 :]
            pos = end
        if pos < end:
            raise _Invalid("expected end of URI")
        return JavaURI(
            scheme=self.scheme,
            host=self.host,
            port=self.port,
            raw_path=self.path,
            raw_query=self.query,
            raw_fragment=self.fragment,
            path=decode_escapes(self.path),
            query=decode_escapes(self.query),
            fragment=decode_escapes(self.fragment),
        )

    def parse_hierarchical(self, start: int, end: int) -> int:
        """[//authority]path[?query]; an empty authority is allowed before a path, query or fragment."""
        pos = start
        if self.at(pos, end, "/") and self.at(pos + 1, end, "/"):
            pos += 2
            stop = self.find("/?#", pos, end)
            if stop > pos:
                self.parse_authority(pos, stop)
                pos = stop
            elif stop >= end:
                raise _Invalid("expected authority")
        stop = self.find("?#", pos, end)
        self.check(_C_PATH, pos, stop)
        self.path = self.text[pos:stop]
        pos = stop
        if self.at(pos, end, "?"):
            pos += 1
            stop = self.find("#", pos, end)
            self.check(_C_URIC, pos, stop)
            self.query = self.text[pos:stop]
            pos = stop
        return pos

    def parse_authority(self, start: int, end: int) -> None:
        """Server-based ``[user@]host[:port]`` if it parses as one, else registry-based, else invalid."""
        server_set = _C_SERVER if self.at(start, end, "]") else _C_SERVER_PERCENT
        server_chars = self.scan(server_set, start, end) == end
        registry_chars = self.scan(_C_REG_NAME, start, end) == end
        error: _Invalid | None = None
        if server_chars:
            try:
                self.parse_server(start, end)
                return
            except _Invalid as exc:
                self.host = None
                self.port = None
                error = exc
        if not registry_chars:
            raise error or _Invalid("illegal character in authority")

    def parse_server(self, start: int, end: int) -> None:
        """[userinfo@]host[:port], failing on anything left over."""
        pos = start
        at_sign = self.find("@", pos, end)
        if at_sign < end:
            self.check(_C_USERINFO, pos, at_sign)
            pos = at_sign + 1
        if self.at(pos, end, "["):
            pos += 1
            close = self.find("]", pos, end)
            if not (close > pos and close < end):
                raise _Invalid("expected closing bracket for IPv6 address")
            percent = self.find("%", pos, close)
            if percent > pos:
                self.parse_ipv6(pos, percent)
                if percent + 1 == close:
                    raise _Invalid("scope id expected")
                if percent < close:
                    self.check(_C_SCOPE_ID, percent + 1, close)
            else:
                self.parse_ipv6(pos, close)
            self.host = self.text[pos - 1 : close + 1]
            pos = close + 1
        else:
            stop = self.parse_ipv4(pos, end)
            if stop <= pos:
                stop = self.parse_hostname(pos, end)
            pos = stop
        if self.at(pos, end, ":"):
            pos += 1
            stop = self.find("/", pos, end)
            if stop > pos:
                self.check(_C_DIGIT, pos, stop)
                port = _java_int(self.text[pos:stop])
                if port is None:
                    raise _Invalid("malformed port number")
                self.port = port
                pos = stop
        if pos < end:
            raise _Invalid("expected port number")

    def scan_ipv4(self, start: int, end: int, *, strict: bool) -> int:
        """Scan a dotted quad at ``start``; -1 if no digits/dots there (or, if strict, not up to ``end``)."""
        run_end = self.scan(_C_DIGIT_DOT, start, end)
        if run_end <= start or (strict and run_end != end):
            return -1
        pos = start
        for part in range(4):
            if part:
                if not self.at(pos, run_end, "."):
                    raise _Invalid("malformed IPv4 address")
                pos += 1
            stop = self.scan(_C_DIGIT, pos, run_end)
            value = _java_int(self.text[pos:stop]) if stop > pos else None
            if value is None or value > 255:
                raise _Invalid("malformed IPv4 address")
            pos = stop
        if pos < run_end:
            raise _Invalid("malformed IPv4 address")
        return pos

    def parse_ipv4(self, start: int, end: int) -> int:
        """A host that is an IPv4 address, possibly followed by ``:port``; -1 if it is not one."""
        try:
            pos = self.scan_ipv4(start, end, strict=False)
        except _Invalid:
            return -1
        if start < pos < end and self.text[pos] != ":":
            pos = -1
        if pos > start:
            self.host = self.text[start:pos]
        return pos

    def parse_hostname(self, start: int, end: int) -> int:
        """RFC 2396 hostname: alphanumeric labels with inner dashes; the last label starts with a letter."""
        pos = start
        last_label = -1
        while True:
            stop = self.scan(_C_ALPHANUM, pos, end)
            if stop <= pos:
                break
            last_label = pos
            pos = stop
            stop = self.scan(_C_ALPHANUM_DASH, pos, end)
            if stop > pos:
                if self.text[stop - 1] == "-":
                    raise _Invalid("illegal character in hostname")
                pos = stop
            if not self.at(pos, end, "."):
                break
            pos += 1
            if pos >= end:
                break
        if pos < end and self.text[pos] != ":":
            raise _Invalid("illegal character in hostname")
        if last_label < 0:
            raise _Invalid("expected hostname")
        if last_label > start and self.text[last_label] not in _ALPHA:
            raise _Invalid("illegal character in hostname")
        self.host = self.text[start:pos]
        return pos

    def parse_ipv6(self, start: int, end: int) -> None:
        """An IPv6 literal (RFC 2373 with embedded IPv4), exactly 16 bytes unless ``::`` compresses zeros."""
        pos = start
        compressed = False
        stop = self.scan_hex_seq(pos, end)
        if stop > pos:
            pos = stop
            if self.text.startswith("::", pos) and pos + 2 <= end:
                compressed = True
                pos = self.scan_hex_post(pos + 2, end)
            elif self.at(pos, end, ":"):
                pos = self.take_ipv4(pos + 1, end)
                self.ipv6_bytes += 4
        elif self.text.startswith("::", pos) and pos + 2 <= end:
            compressed = True
            pos = self.scan_hex_post(pos + 2, end)
        if pos < end or self.ipv6_bytes > 16:
            raise _Invalid("malformed IPv6 address")
        if compressed == (self.ipv6_bytes == 16):
            raise _Invalid("malformed IPv6 address")

    def scan_hex_post(self, start: int, end: int) -> int:
        """What may follow ``::``: hex groups, hex groups then an IPv4 address, or an IPv4 address."""
        if start == end:
            return start
        stop = self.scan_hex_seq(start, end)
        if stop > start:
            pos = stop
            if self.at(pos, end, ":"):
                pos = self.take_ipv4(pos + 1, end)
                self.ipv6_bytes += 4
            return pos
        pos = self.take_ipv4(start, end)
        self.ipv6_bytes += 4
        return pos

    def scan_hex_seq(self, start: int, end: int) -> int:
        """Scan ``hex4 *(":" hex4)``; -1 if there is none (or it is the start of an IPv4 address)."""
        stop = self.scan(_C_HEX, start, end)
        if stop <= start or self.at(stop, end, "."):
            return -1
        if stop > start + 4:
            raise _Invalid("IPv6 hexadecimal digit sequence too long")
        self.ipv6_bytes += 2
        pos = stop
        while pos < end:
            if not self.at(pos, end, ":") or self.at(pos + 1, end, ":"):
                break
            pos += 1
            stop = self.scan(_C_HEX, pos, end)
            if stop <= pos:
                raise _Invalid("expected digits for an IPv6 address")
            if self.at(stop, end, "."):
                pos -= 1
                break
            if stop > pos + 4:
                raise _Invalid("IPv6 hexadecimal digit sequence too long")
            self.ipv6_bytes += 2
            pos = stop
        return pos

    def take_ipv4(self, start: int, end: int) -> int:
        """An IPv4 address filling ``[start, end)`` exactly."""
        pos = self.scan_ipv4(start, end, strict=True)
        if pos <= start:
            raise _Invalid("expected IPv4 address")
        return pos
