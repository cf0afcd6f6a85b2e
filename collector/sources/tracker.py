"""Serves ``<prefix><javascript.name>``: our divolte.js with the source's settings, built once at start-up.

The built script (``collector/resources/divolte.min.js``, made by ``static/build.mjs``) refers to the
global ``__DIVOLTE_CONFIG__`` exactly once; we replace it with a JSON object literal of the source's
settings. JSON is valid JavaScript, and escaping ``<``, ``>``, ``&`` and the two JavaScript line
separators means no configured value (a hostile ``cookie_domain``, say) can end the literal or the script.

As Divolte (SPEC §3.1): a gzip variant kept only if smaller (fixed header, no timestamp, so identical
bytes on every start and every node), strong ETags (``"<b64 sha256>"`` and ``"gz+<…>"``), 304 on a
matching ``If-None-Match``, ``Cache-Control: public, max-age=3600``, ``Vary: Accept-Encoding``.
"""

from __future__ import annotations

import base64
import hashlib
import zlib
from importlib import resources
from typing import Any

import orjson

from collector.config.settings import BrowserSourceSettings
from collector.counters import HttpCounts
from collector.errors import ConfigError
from collector.sources.http import SERVER_HEADER, Receive, Scope, Send, etag_matches, method_not_allowed

CONFIG_TOKEN = "__DIVOLTE_CONFIG__"
MAX_COOKIE_SECONDS = 2**31 - 1


def tracker_config(source: BrowserSourceSettings) -> dict[str, Any]:
    """The values the tracker reads from ``__DIVOLTE_CONFIG__`` (names documented at the top of divolte.js)."""
    js = source.javascript
    return {
        "partyCookie": source.party_cookie,
        "partyTimeoutSeconds": min(int(source.party_timeout), MAX_COOKIE_SECONDS),
        "sessionCookie": source.session_cookie,
        "sessionTimeoutSeconds": min(int(source.session_timeout), MAX_COOKIE_SECONDS),
        "cookieDomain": source.cookie_domain,
        "logging": js.logging,
        "scriptName": js.name,
        "eventSuffix": source.event_suffix,
        "autoPageViewEvent": js.auto_page_view_event,
        "eventTimeoutSeconds": js.event_timeout,
        "cookieSameSite": js.cookie_same_site,
        "cookieSecure": js.cookie_secure,
        "deliverOnPageHide": js.deliver_on_page_hide,
        "spaPageViews": js.spa_page_views,
        "respectPrivacySignals": js.respect_privacy_signals,
    }


def js_literal(value: Any) -> str:
    """``value`` as a JavaScript literal that is safe inside a script, whatever strings it holds."""
    text = orjson.dumps(value).decode("utf-8")
    return (
        text.replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("&", "\\u0026")
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
    )


def render(template: str, config: dict[str, Any]) -> bytes:
    if template.count(CONFIG_TOKEN) != 1:
        raise ConfigError(
            f"The bundled tracker script must contain {CONFIG_TOKEN} exactly once; rebuild it with 'make tracker'."
        )
    return template.replace(CONFIG_TOKEN, js_literal(config)).encode("utf-8")


def gzip_fixed(data: bytes) -> bytes:
    """Gzip with a fixed header (mtime 0, no name), so the bytes and the ETag are the same everywhere."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    deflated = compressor.compress(data) + compressor.flush()
    trailer = (zlib.crc32(data) & 0xFFFFFFFF).to_bytes(4, "little") + (len(data) & 0xFFFFFFFF).to_bytes(4, "little")
    return b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x00" + deflated + trailer


def strong_etag(body: bytes, prefix: str = "") -> bytes:
    digest = base64.b64encode(hashlib.sha256(body).digest()).decode("ascii")
    return f'"{prefix}{digest}"'.encode("ascii")


def load_template(debug: bool) -> str:
    name = "divolte.js" if debug else "divolte.min.js"
    return resources.files("collector.resources").joinpath(name).read_text("utf-8")


def accepts_gzip(value: bytes) -> bool:
    for item in value.split(b","):
        token, _, params = item.strip().partition(b";")
        if token.strip().lower() == b"gzip":
            params = params.replace(b" ", b"")
            return params not in (b"q=0", b"q=0.0", b"q=0.00", b"q=0.000")
    return False


class TrackerEndpoint:
    """``GET <prefix><javascript.name>`` for one browser source."""

    def __init__(
        self, source: BrowserSourceSettings, template: str | None = None, http: HttpCounts | None = None
    ) -> None:
        self._count = (http or HttpCounts()).add
        self._path = source.prefix + source.javascript.name
        if template is None:
            template = load_template(source.javascript.debug)
        self.body = render(template, tracker_config(source))
        self.etag = strong_etag(self.body)
        gzipped = gzip_fixed(self.body)
        self.gzipped = gzipped if len(gzipped) < len(self.body) else None
        self.gzip_etag = strong_etag(self.body, "gz+")
        common = [SERVER_HEADER, (b"cache-control", b"public, max-age=3600"), (b"x-content-type-options", b"nosniff")]
        if self.gzipped is not None:
            common.append((b"vary", b"Accept-Encoding"))
        self._plain = self._variant(common, self.body, self.etag, [])
        self._gzip = (
            self._variant(common, self.gzipped, self.gzip_etag, [(b"content-encoding", b"gzip")])
            if self.gzipped is not None
            else None
        )

    @staticmethod
    def _variant(
        common: list[tuple[bytes, bytes]], body: bytes, etag: bytes, extra: list[tuple[bytes, bytes]]
    ) -> tuple[bytes, dict[str, Any], dict[str, Any], dict[str, Any]]:
        headers = [*common, (b"etag", etag), *extra]
        full = [*headers, (b"content-type", b"application/javascript"), (b"content-length", str(len(body)).encode())]
        return (
            etag,
            {"type": "http.response.start", "status": 200, "headers": full},
            {"type": "http.response.body", "body": body},
            {"type": "http.response.start", "status": 304, "headers": headers},
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        method = scope["method"]
        if method not in ("GET", "HEAD"):
            self._count(self._path, 405)
            await method_not_allowed(send, method, "GET")
            return
        if_none_match: bytes | None = None  # the first header only, as Undertow reads it
        use_gzip = False
        for name, value in scope["headers"]:
            if name == b"accept-encoding" and self._gzip is not None and accepts_gzip(value):
                use_gzip = True
            elif name == b"if-none-match" and if_none_match is None:
                if_none_match = value
        etag, start, body, not_modified = self._gzip if use_gzip and self._gzip else self._plain
        if if_none_match is not None and etag_matches(if_none_match, etag):
            self._count(self._path, 304)
            await send(not_modified)
            await send({"type": "http.response.body", "body": b""})
            return
        self._count(self._path, 200)
        await send(start)
        await send(body if method == "GET" else {"type": "http.response.body", "body": b""})
