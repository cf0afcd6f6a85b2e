"""Request targets longer than httptools' URL parser takes, for the long queries Divolte accepts.

Divolte's server accepts a request line and headers of up to 1 MiB together, and custom events with large
parameters make targets of tens of kilobytes. ``httptools.parse_url``, which uvicorn calls for every request,
refuses anything over 65,535 bytes (its offsets are 16-bit). For a longer target this protocol lets uvicorn
parse only the part before the query, then gives the request its query. Shorter targets (all ordinary
ones) pass untouched. A path part over the parser's limit still gets 400.

It sits directly above uvicorn's ``HttpToolsProtocol``, under every other layer of the collector's protocol,
so the layers above (the pixel fast path) see the whole target in ``self.url``.
"""

from __future__ import annotations

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

URL_PARSER_LIMIT = 65535
"""The longest target ``httptools.parse_url`` accepts."""


class LongTargetProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol, taking request targets of any length up to the caller's own limit."""

    def on_headers_complete(self) -> None:
        if len(self.url) <= URL_PARSER_LIMIT:
            super().on_headers_complete()
            return
        path, _, rest = self.url.partition(b"?")
        query = rest.partition(b"#")[0]
        self.url = path
        super().on_headers_complete()
        # uvicorn built the scope (and the request cycle holding it) but has not run the application yet.
        self.scope["query_string"] = query
