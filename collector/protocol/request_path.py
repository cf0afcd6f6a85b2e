"""The path Divolte's router matches for a request path: what reaches each endpoint, and what is a 404.

Divolte registers every endpoint (event, tracker, JSON, ``/ping``) as an exact path with Undertow, whose
request parser, ``CanonicalPathHandler`` and ``PathMatcher`` turn the path of the request target into the
path that is looked up:

1. path parameters go: everything from the first ``;`` (``/csc-event;jsessionid=1``);
2. ``%XX`` escapes are decoded as UTF-8, except an encoded ``/`` or ``\\``, which stays encoded (so it never
   separates segments); a malformed escape makes Undertow refuse the request (400);
3. ``.`` and ``..`` segments are resolved and runs of slashes collapse (``//csc-event``, ``/x/../csc-event``);
4. trailing slashes go (``/csc-event/``).

So ``//csc-event``, ``/csc-event/`` and ``/csc-event;jsessionid=1`` all reach the event endpoint, as they do
in Divolte. Not copied: Undertow also resolves dot segments between backslashes (``\\..\\``); here a
backslash is an ordinary character, as it is in every URL a browser sends.

A pure function used by the front door and the pixel fast path alike, so both route a path the same way.
"""

from __future__ import annotations

import re
import urllib.parse

from collector.protocol.java_utf8 import java_utf8_decode

_MALFORMED_ESCAPE = re.compile(rb"%(?![0-9A-Fa-f]{2})")
_ENCODED_SEPARATOR = re.compile(rb"(%2[Ff]|%5[Cc])")


def _decode(path: bytes) -> str:
    """Decode the escapes of a path as Undertow does, leaving ``%2F`` and ``%5C`` encoded."""
    pieces = _ENCODED_SEPARATOR.split(path)
    # split() with a group alternates text and separators: decode the text, keep each separator upper-case.
    return "".join(
        java_utf8_decode(urllib.parse.unquote_to_bytes(piece)) if index % 2 == 0 else piece.decode("ascii").upper()
        for index, piece in enumerate(pieces)
    )


def route_path(raw_path: bytes) -> str | None:
    """The path Divolte's router looks up for ``raw_path`` (the request target before ``?``, undecoded).

    ``None`` when Divolte's server refuses the request for its path (a malformed ``%`` escape).
    """
    semicolon = raw_path.find(b";")
    if semicolon >= 0:
        raw_path = raw_path[:semicolon]
    if b"%" in raw_path:
        if _MALFORMED_ESCAPE.search(raw_path) is not None:
            return None
        path = _decode(raw_path)
    else:
        path = java_utf8_decode(raw_path)
    segments: list[str] = []
    for segment in path.split("/"):
        if segment == "..":
            if segments:
                segments.pop()
        elif segment and segment != ".":
            segments.append(segment)
    return "/" + "/".join(segments)
