"""Serving divolte.js: configuration substituted safely, gzip variant, ETags, 304."""

from __future__ import annotations

import gzip
import json
import re
import subprocess

import pytest

from collector.config.settings import BrowserSourceSettings, JavascriptSettings
from collector.errors import ConfigError
from collector.sources.tracker import (
    TrackerEndpoint,
    accepts_gzip,
    gzip_fixed,
    js_literal,
    render,
    strong_etag,
    tracker_config,
)

TEMPLATE = "(function(){var c=__DIVOLTE_CONFIG__;window.seen=c;})();"


def test_config_values_come_from_the_source() -> None:
    source = BrowserSourceSettings(
        name="b", party_cookie="p", session_timeout=60.0, cookie_domain="example.com",
        party_timeout=10.0**12, javascript=JavascriptSettings(event_timeout=1.5, auto_page_view_event=False),
    )  # fmt: skip
    config = tracker_config(source)
    assert config["partyCookie"] == "p"
    assert config["sessionTimeoutSeconds"] == 60
    assert config["partyTimeoutSeconds"] == 2**31 - 1  # capped like Divolte
    assert config["cookieDomain"] == "example.com"
    assert config["eventTimeoutSeconds"] == 1.5
    assert config["autoPageViewEvent"] is False


@pytest.mark.parametrize(
    "hostile",
    ["</script><script>alert(1)</script>", '"};alert(1);//', "\u2028alert(1)", 'a\\"b', "<!--", "]]>"],
)
def test_hostile_values_cannot_leave_the_literal(hostile: str) -> None:
    literal = js_literal({"cookieDomain": hostile})
    assert "<" not in literal and ">" not in literal and "\u2028" not in literal
    assert json.loads(literal) == {"cookieDomain": hostile}  # still the same value once parsed


def test_hostile_values_evaluate_to_the_same_string_in_javascript() -> None:
    hostile = '</script>"};\u2028alert(1)//'
    body = render(TEMPLATE, {"cookieDomain": hostile}).decode()
    script = body + "; process.stdout.write(JSON.stringify(globalThis.window.seen));"
    out = subprocess.run(["node", "-e", "globalThis.window = {};" + script], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout) == {"cookieDomain": hostile}


def test_template_must_contain_the_token_once() -> None:
    with pytest.raises(ConfigError, match="exactly once"):
        render("var a = 1;", {})
    with pytest.raises(ConfigError):
        render("__DIVOLTE_CONFIG__ + __DIVOLTE_CONFIG__", {})


def test_gzip_variant_is_deterministic_and_valid() -> None:
    data = b"var x = 1;" * 200
    assert gzip.decompress(gzip_fixed(data)) == data
    assert gzip_fixed(data) == gzip_fixed(data)
    assert gzip_fixed(data)[4:8] == b"\x00\x00\x00\x00"  # no timestamp


def test_etags_are_strong_and_distinct() -> None:
    endpoint = TrackerEndpoint(BrowserSourceSettings(name="b"), template=TEMPLATE + "/* padding */" * 40)
    assert re.fullmatch(rb'"[A-Za-z0-9+/]{43}="', endpoint.etag)
    assert endpoint.gzip_etag == b'"gz+' + endpoint.etag[1:]
    assert endpoint.etag == strong_etag(endpoint.body)


@pytest.mark.parametrize(
    ("header", "expected"),
    [(b"gzip", True), (b"gzip, deflate, br", True), (b"deflate, gzip;q=1.0", True), (b"br", False),
     (b"gzip;q=0", False), (b"x-gzip", False), (b"", False)],
)  # fmt: skip
def test_accept_encoding(header: bytes, expected: bool) -> None:
    assert accepts_gzip(header) is expected


@pytest.mark.parametrize("debug", [False, True])
def test_bundled_tracker_renders(debug: bool) -> None:
    source = BrowserSourceSettings(name="b", javascript=JavascriptSettings(debug=debug))
    endpoint = TrackerEndpoint(source)
    assert b"__DIVOLTE_CONFIG__" not in endpoint.body
    assert endpoint.gzipped is not None and len(endpoint.gzipped) < len(endpoint.body)
    # The debug variant is the readable source: comments kept, much larger than the minified script.
    assert (b"divolte.js: the browser tracker" in endpoint.body) is debug
