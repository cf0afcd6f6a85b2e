"""Request header values as text, the way Divolte's HTTP server (Undertow 2.1) hands them to Divolte.

Undertow's request parser rewrites every header value before any handler (and so any mapping) sees it:

- each byte is one character, ISO-8859-1: the UTF-8 bytes of ``Mözilla`` read as ``MÃ¶zilla``;
- every run of spaces and tabs becomes one space, and runs at either end are dropped;
- an obsolete line fold (CRLF followed by spaces or tabs) is such a run, so the lines join with one space;
- every other byte, control characters included, is kept as it is.

Our HTTP parser (llhttp, with lenient header values: see ``collector.server.protocol``) already drops the
spaces before a value and the CRLF of a fold; ``header_text`` does the rest. It is applied wherever a value
becomes text: ``userAgentString``, ``header()`` and ``cookie()`` in mappings, ``X-Forwarded-For``.
"""

from __future__ import annotations

import re

_BLANK_RUN = re.compile("[ \t]+")


def header_text(raw: bytes) -> str:
    """A raw header value as the text Divolte records for it."""
    text = raw.decode("latin-1")
    if "\t" in text or "  " in text or text[:1] == " " or text[-1:] == " ":
        text = _BLANK_RUN.sub(" ", text).strip(" ")
    return text
