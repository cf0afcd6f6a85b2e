"""Decode URI parts and query strings as the JDK and Divolte's ``QueryStringParser`` decode them.

A parsed URI's decoded parts (``uri.path`` …) are what ``URI.getPath()`` and friends return: every run of
``%XX`` escapes is read as UTF-8, malformed bytes becoming U+FFFD the way the JDK's decoder replaces them.
``.query()`` in a mapping is Divolte's ``QueryStringParser`` over the raw query: items split on ``&`` and
at their first ``=``, form-decoded with ``URLDecoder`` (``+`` is a space), collected in a ``HashMap``.
The map is returned in that ``HashMap``'s iteration order (``collector.mapping.java.hashmap``) because Avro
writes a map's entries in iteration order, and the bytes must match Divolte's.
"""

from __future__ import annotations

import re

from collector.mapping.java.hashmap import java_hash_map_order
from collector.protocol.java_utf8 import java_utf8_decode

_ESCAPE_RUN = re.compile(r"(?:%[0-9A-Fa-f]{2})+")
_FORM_PART = re.compile(r"\+|(?:%[0-9A-Fa-f]{2})+")


def _decode_escapes(match: re.Match[str]) -> str:
    """Turn one run of ``%XX`` escapes into text."""
    return java_utf8_decode(bytes.fromhex(match.group().replace("%", "")))


def decode_escapes(raw: str | None) -> str | None:
    """Decode the ``%XX`` escapes of a raw component, as ``URI.getPath()``/``getQuery()`` etc. do."""
    if raw is None or "%" not in raw:
        return raw
    return _ESCAPE_RUN.sub(_decode_escapes, raw)


def _form_decode_part(match: re.Match[str]) -> str:
    """Decode a ``+`` or a run of escapes the way ``java.net.URLDecoder`` does."""
    text = match.group()
    return " " if text == "+" else _decode_escapes(match)


def form_decode(raw: str) -> str:
    """Decode one query-string key or value as ``URLDecoder.decode(raw, "UTF-8")`` does (``+`` is a space).

    A ``%`` not followed by two hex digits is kept as it is; Java would throw, but a raw query that passed
    the URI parser cannot contain one.
    """
    if "+" not in raw and "%" not in raw:
        return raw
    return _FORM_PART.sub(_form_decode_part, raw)


def parse_query_string(raw: str) -> dict[str, list[str]]:
    """Parse a raw query into ``{key: [values]}`` the way Divolte's ``QueryStringParser`` does.

    Items are split on ``&`` and at their first ``=``; an item without ``=`` has the value ``""`` and an
    empty item (``a=1&&b=2``) is the key ``""`` with value ``""`` (a trailing ``&`` adds nothing). Keys
    and values are form-decoded; repeated keys keep every value in order. The dict iterates in Java
    ``HashMap`` order.
    """
    pairs: list[tuple[str, str]] = []
    if raw:
        items = raw.split("&")
        if items[-1] == "":
            items.pop()
        for item in items:
            key, _, value = item.partition("=")
            pairs.append((form_decode(key), form_decode(value)))
    merged: dict[str, list[str]] = {}
    for key, value in pairs:
        merged.setdefault(key, []).append(value)
    return {key: merged[key] for key in java_hash_map_order([key for key, _ in pairs])}
