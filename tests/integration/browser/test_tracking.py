"""divolte.js in headless Chromium against the real collector: identifiers, events, parameters, settings.

Each test starts the collector process and a Chromium with a fresh profile, drives pages of a static site
that embeds the collector's script (see conftest.py), and asserts on the Avro records the collector wrote.

Custom parameters (``u``) are not part of Divolte's default record (a custom mapping would put them into
one; see the mapping issue). So where a test checks parameters, it takes the event request Chromium sent
(from Playwright's network events: the exact URL on the wire), decodes ``u`` with the collector's own
mincode decoder and checks the checksum with the collector's own checksum code, and then finds the record
of that request: same page view and event type, ``detectedCorruption`` false, which means the server
decoded the same query and verified the same checksum.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from collector.protocol.checksum import is_checksum_correct
from collector.protocol.mincode import decode
from tests.integration.browser.harness import (
    Browser,
    Site,
    browser_config,
    finish,
    page_html,
    query_of,
    wait_for_records,
)
from tests.integration.collector_process import StartCollector

pytestmark = pytest.mark.integration

TWO_YEARS = 730 * 86400
THIRTY_MINUTES = 1800
CHROMIUM_COOKIE_CAP = 400 * 86400
"""Chromium (since 104) caps every cookie's lifetime at 400 days: the 2-year party cookie lives 400 days."""


def test_first_visit_reload_and_second_page(
    start_collector: StartCollector, tmp_path: Path, site: Site, browser: Browser
) -> None:
    collector = start_collector(browser_config(tmp_path))
    script = f"{collector.base_url}/divolte.js"
    site.pages["/"] = page_html(script, "Home", '<a id="next" href="/shop/basket.html?step=1">basket</a>')
    site.pages["/shop/basket.html"] = page_html(script, "Basket")
    started_ms = int(time.time() * 1000)

    first = browser.open(site.url("/"))
    wait_for_records(collector, tmp_path, 1)
    browser.page.reload()
    reloaded = browser.tracker_state()
    wait_for_records(collector, tmp_path, 2)
    browser.page.click("#next")
    browser.page.wait_for_url("**/basket.html?step=1")
    second = browser.tracker_state()
    wait_for_records(collector, tmp_path, 3)
    window = browser.page.evaluate(
        "() => ({ua: navigator.userAgent, w: innerWidth, h: innerHeight,"
        " sw: screen.availWidth, sh: screen.availHeight})"
    )
    party_cookie, session_cookie = browser.cookie("_dvp"), browser.cookie("_dvs")
    records = finish(collector, tmp_path)
    ended_ms = int(time.time() * 1000)

    assert [r["eventType"] for r in records] == ["pageView"] * 3
    home, reload, basket = records
    # First visit: a new party and a new session, both minted by this page load.
    assert first["isNewPartyId"] is True and first["isFirstInSession"] is True
    assert home["partyId"] == first["partyId"] and home["sessionId"] == first["sessionId"]
    assert home["pageViewId"] == first["pageViewId"]
    assert home["firstInSession"] is True
    party_minted_ms = int(first["partyId"].split(":")[1], 36)
    assert started_ms <= party_minted_ms <= home["clientTimestamp"] <= home["timestamp"] <= ended_ms
    assert query_of(browser.event_requests[0])["n"] == ["t"]
    # Reload: same party and session, a new page view, no longer first in the session.
    assert reloaded["isNewPartyId"] is False and reloaded["isFirstInSession"] is False
    assert (reload["partyId"], reload["sessionId"]) == (home["partyId"], home["sessionId"])
    assert reload["pageViewId"] == reloaded["pageViewId"] != home["pageViewId"]
    assert reload["firstInSession"] is False
    assert query_of(browser.event_requests[1])["n"] == ["f"]
    # Another page of the site, reached by a link: same party and session, the link's page as referer.
    assert (basket["partyId"], basket["sessionId"]) == (home["partyId"], home["sessionId"])
    assert basket["pageViewId"] == second["pageViewId"] not in (home["pageViewId"], reload["pageViewId"])
    assert basket["firstInSession"] is False
    assert basket["location"] == site.url("/shop/basket.html?step=1")
    assert basket["referer"] == site.url("/")

    for record in records:
        assert record["detectedCorruption"] is False and record["detectedDuplicate"] is False
        assert record["remoteHost"] == "127.0.0.1"
        assert record["userAgentString"] == window["ua"]
        assert (record["viewportPixelWidth"], record["viewportPixelHeight"]) == (window["w"], window["h"])
        assert (record["screenPixelWidth"], record["screenPixelHeight"]) == (window["sw"], window["sh"])
    assert home["location"] == reload["location"] == site.url("/")
    assert home["referer"] is None

    # The cookies, as the site's host holds them: identifiers, sliding lifetimes, SameSite=Lax.
    assert party_cookie is not None and session_cookie is not None
    assert party_cookie["value"] == home["partyId"] and session_cookie["value"] == home["sessionId"]
    for cookie, lifetime in ((party_cookie, TWO_YEARS), (session_cookie, THIRTY_MINUTES)):
        assert cookie["domain"] == "127.0.0.1" and cookie["path"] == "/"
        assert cookie["sameSite"] == "Lax" and cookie["secure"] is False and cookie["httpOnly"] is False
        expected_expiry = basket["clientTimestamp"] / 1000 + min(lifetime, CHROMIUM_COOKIE_CAP)
        assert abs(cookie["expires"] - expected_expiry) < 5


def signal_and_capture(browser: Browser, event_type: str, params: Any) -> tuple[str, dict[str, list[str]]]:
    """Call ``divolte.signal(event_type, params)`` in the page; return the event id and the query sent."""
    with browser.page.expect_request(browser.event_of_type(event_type)) as sent:
        event_id = browser.page.evaluate("([type, params]) => divolte.signal(type, params)", [event_type, params])
    return event_id, query_of(sent.value)


def test_signal_custom_parameters(
    start_collector: StartCollector, tmp_path: Path, site: Site, browser: Browser
) -> None:
    collector = start_collector(browser_config(tmp_path))
    site.pages["/product.html"] = page_html(f"{collector.base_url}/divolte.js", "Product A-1")
    state = browser.open(site.url("/product.html"))

    # The page's own literal, as a site writes it (evaluated in the page, not serialised by Playwright).
    with browser.page.expect_request(browser.event_of_type("addToBasket")) as sent:
        event_id = browser.page.evaluate(
            "() => divolte.signal('addToBasket', {sku: 'A-1', price: 12.5, tags: ['x', 'y'], nested: {ok: true}})"
        )
    query = query_of(sent.value)
    wait_for_records(collector, tmp_path, 2)
    records = finish(collector, tmp_path)

    assert query["e"] == [event_id] and event_id.startswith(state["pageViewId"])
    assert is_checksum_correct(query)
    parameters = decode(query["u"][0])
    assert parameters == {"sku": "A-1", "price": 12.5, "tags": ["x", "y"], "nested": {"ok": True}}
    assert list(parameters) == ["sku", "price", "tags", "nested"]
    assert type(parameters["price"]) is float

    assert [r["eventType"] for r in records] == ["pageView", "addToBasket"]
    basket = records[1]
    assert basket["detectedCorruption"] is False and basket["detectedDuplicate"] is False
    assert (basket["partyId"], basket["sessionId"], basket["pageViewId"]) == (
        state["partyId"], state["sessionId"], state["pageViewId"],
    )  # fmt: skip
    assert basket["location"] == site.url("/product.html")


UNICODE_TYPE = "ajouté au panier ✓ 😀 — купить 購入 شراء 🇳🇱"
UNICODE_PARAMETERS = {
    "naam": "Zoë Ünïcødé 😀👩‍👩‍👧",
    "текст": "привет, мир",
    "漢字": ["日本語", "🎉🎈", "עברית", "ελληνικά"],
    "🔑": {"ok": True, "count": 3, "ratio": -0.25},
    "reserved": "a~b!c&d=e%f+g#h?i/j ,;",
}


def test_emoji_and_non_latin_scripts_arrive_uncorrupted(
    start_collector: StartCollector, tmp_path: Path, site: Site, browser: Browser
) -> None:
    collector = start_collector(browser_config(tmp_path))
    site.pages["/日本/ページ.html"] = page_html(f"{collector.base_url}/divolte.js", "Ünïcødé 😀")
    browser.open(site.url("/日本/ページ.html"))
    event_id, query = signal_and_capture(browser, UNICODE_TYPE, UNICODE_PARAMETERS)
    wait_for_records(collector, tmp_path, 2)
    records = finish(collector, tmp_path)

    assert query["e"] == [event_id]
    assert is_checksum_correct(query)
    assert decode(query["u"][0]) == UNICODE_PARAMETERS
    assert [r["eventType"] for r in records] == ["pageView", UNICODE_TYPE]
    # Deliberate difference from Divolte, whose server flags events with emoji corrupt (SPEC, README).
    assert [r["detectedCorruption"] for r in records] == [False, False]
    assert records[1]["location"] == browser.page.url
    assert "%E6%97%A5%E6%9C%AC" in records[1]["location"]  # the page URL as the browser reports it


def test_custom_script_name_event_suffix_and_prefix(
    start_collector: StartCollector, tmp_path: Path, site: Site, browser: Browser
) -> None:
    """Divolte's selenium-test-custom-* and browser-source-* configurations, all three at once."""
    source = "prefix = /a-prefix\njavascript.name = dvt.js\nevent_suffix = web-event"
    collector = start_collector(browser_config(tmp_path, source))
    browser.event_suffix = "web-event"
    site.pages["/"] = page_html(f"{collector.base_url}/a-prefix/dvt.js", "Custom")
    state = browser.open(site.url("/"))
    signal_and_capture(browser, "custom", {"n": 1})
    wait_for_records(collector, tmp_path, 2)
    with httpx.Client(base_url=collector.base_url) as client:
        paths = ("/divolte.js", "/csc-event", "/a-prefix/divolte.js")
        statuses = {path: client.get(path).status_code for path in paths}
    records = finish(collector, tmp_path)

    assert [urlpath(r.url) for r in browser.event_requests] == ["/a-prefix/web-event"] * 2
    assert [r["eventType"] for r in records] == ["pageView", "custom"]
    assert all(r["detectedCorruption"] is False and r["pageViewId"] == state["pageViewId"] for r in records)
    assert statuses == {"/divolte.js": 404, "/csc-event": 404, "/a-prefix/divolte.js": 404}


def urlpath(url: str) -> str:
    return httpx.URL(url).path


def test_no_automatic_page_view(start_collector: StartCollector, tmp_path: Path, site: Site, browser: Browser) -> None:
    """``auto_page_view_event = false``: loading the page sends nothing; the page's own events still go."""
    collector = start_collector(browser_config(tmp_path, "javascript.auto_page_view_event = false"))
    site.pages["/"] = page_html(f"{collector.base_url}/divolte.js", "Quiet")
    state = browser.open(site.url("/"))
    browser.page.wait_for_load_state("load")
    assert browser.event_requests == []
    # One request at a time, in order: had the load sent a pageView, it would be written before this one.
    signal_and_capture(browser, "marker", None)
    wait_for_records(collector, tmp_path, 1)
    records = finish(collector, tmp_path)

    assert len(browser.event_requests) == 1
    assert [r["eventType"] for r in records] == ["marker"]
    assert records[0]["pageViewId"] == state["pageViewId"] and records[0]["firstInSession"] is True


def test_session_expires_after_inactivity(
    start_collector: StartCollector, tmp_path: Path, site: Site, browser: Browser
) -> None:
    """``session_timeout = 2 seconds``: the session cookie slides with every event and expires 2 s after the last."""
    collector = start_collector(browser_config(tmp_path, "session_timeout = 2 seconds"))
    site.pages["/"] = page_html(f"{collector.base_url}/divolte.js", "Session")
    first = browser.open(site.url("/"))
    loaded = time.monotonic()
    wait_for_records(collector, tmp_path, 1)

    time.sleep(max(0.0, loaded + 1.0 - time.monotonic()))
    signal_and_capture(browser, "stillHere", None)
    active = time.monotonic()
    # Past the first event's 2 s, the session is still there: the second event slid it.
    time.sleep(max(0.0, max(loaded + 2.2, active + 0.5) - time.monotonic()))
    session_cookie = browser.cookie("_dvs")
    assert session_cookie is not None and session_cookie["value"] == first["sessionId"]
    # Then 2 s without an event: the browser drops the session cookie (the party cookie stays).
    deadline = time.monotonic() + 5
    while browser.cookie("_dvs") is not None:
        assert time.monotonic() < deadline, "the session cookie did not expire"
        time.sleep(0.05)
    assert time.monotonic() - active >= 1.9
    browser.page.reload()
    later = browser.tracker_state()
    wait_for_records(collector, tmp_path, 3)
    records = finish(collector, tmp_path)

    assert [r["eventType"] for r in records] == ["pageView", "stillHere", "pageView"]
    start, still, restart = records
    assert start["firstInSession"] is True and still["firstInSession"] is False
    assert still["sessionId"] == start["sessionId"] == first["sessionId"]
    assert later["isFirstInSession"] is True and later["isNewPartyId"] is False
    assert restart["firstInSession"] is True
    assert restart["sessionId"] == later["sessionId"] != start["sessionId"]
    assert restart["partyId"] == start["partyId"] == first["partyId"]


def test_page_view_id_supplied_by_the_server(
    start_collector: StartCollector, tmp_path: Path, site: Site, browser: Browser
) -> None:
    """A site that renders ``<script src=".../divolte.js#<page view id>">`` gets that page view id."""
    collector = start_collector(browser_config(tmp_path))
    site.pages["/"] = page_html(f"{collector.base_url}/divolte.js#srvPageView1", "Server page view")
    state = browser.open(site.url("/"))
    event_id, _ = signal_and_capture(browser, "clicked", None)
    wait_for_records(collector, tmp_path, 2)
    records = finish(collector, tmp_path)

    assert state["pageViewId"] == "srvPageView1" and browser.page.evaluate("divolte.isServerPageView") is True
    assert event_id == "srvPageView11"  # page view id + event counter in hex: the page view was event 0
    assert [(r["eventType"], r["pageViewId"]) for r in records] == [
        ("pageView", "srvPageView1"),
        ("clicked", "srvPageView1"),
    ]


def test_single_page_app_navigation(
    start_collector: StartCollector, tmp_path: Path, site: Site, browser: Browser
) -> None:
    """``javascript.spa_page_views = true``: History API navigation starts a new page view."""
    collector = start_collector(browser_config(tmp_path, "javascript.spa_page_views = true"))
    site.pages["/app/"] = page_html(f"{collector.base_url}/divolte.js", "App")
    first = browser.open(site.url("/app/"))
    wait_for_records(collector, tmp_path, 1)
    browser.page.evaluate("history.pushState({step: 2}, '', '/app/checkout?step=2')")
    pushed = browser.tracker_state()
    wait_for_records(collector, tmp_path, 2)
    browser.page.go_back()
    wait_for_records(collector, tmp_path, 3)
    records = finish(collector, tmp_path)

    assert [r["eventType"] for r in records] == ["pageView"] * 3
    start, checkout, back = records
    assert pushed["pageViewId"] != first["pageViewId"]
    assert (start["pageViewId"], checkout["pageViewId"]) == (first["pageViewId"], pushed["pageViewId"])
    assert back["pageViewId"] not in (start["pageViewId"], checkout["pageViewId"])
    assert checkout["location"] == site.url("/app/checkout?step=2") and checkout["referer"] == site.url("/app/")
    assert back["location"] == site.url("/app/") and back["referer"] == checkout["location"]
    assert len({(r["partyId"], r["sessionId"]) for r in records}) == 1
    assert [r["firstInSession"] for r in records] == [True, False, False]
