"""The inspector page in headless Chromium: events a real tracker sends appear live, with their outcome.

The site embeds divolte.js as every site does; a second tab has the collector's ``/inspect`` open. The
events travel the whole way: Chromium's tracker → the collector's pixel → the processor → the mapping →
the file sink, and the page learns of each over its live stream. A corrupt event is a tracker request a
proxy altered on the way (the page sends it again with its event id changed, so the checksum fails); a
duplicate is the same request sent again; a mapping error comes from a mapping whose value raises on one
event type, as a buggy extension would (the DSL's own values never raise).
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, Route

from tests.integration.browser.harness import Browser, Site, page_html
from tests.integration.collector_process import RunningCollector, StartCollector
from tests.integration.file_sink import file_sink_config

pytestmark = pytest.mark.integration

SCHEMA = {"type": "record", "name": "Basket", "namespace": "com.example", "fields": [
    {"name": "eventType", "type": ["null", "string"], "default": None},
    {"name": "partyId", "type": ["null", "string"], "default": None},
    {"name": "sku", "type": ["null", "string"], "default": None},
    {"name": "price", "type": ["null", "double"], "default": None},
]}  # fmt: skip
MAPPING = """
from collector.mapping.producers import Producer

when(eventType().equalTo("notForUs")).discard()
map_(partyId()).onto("partyId")
map_(eventParameters().value("sku")).onto("sku")
map_(eventParameters().path("$.price")).onto("price")
# A value computed by a buggy extension: it raises on 'checkout' events.
checked = Producer(eventType().value_type, "checkedEventType()",
                   lambda event: 1 // 0 if event.event_type == "checkout" else event.event_type)
map_(checked).onto("eventType")
"""
SHOP = """<button id="add" onclick="divolte.signal('addToBasket', {sku: 'A-1', price: 12.5})">Add to basket</button>"""
XSS = '<img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script>'
XSS_AGENT = 'Mozilla/5.0 <img src=x onerror="window.__pwned=3">'


def start(start_collector: StartCollector, tmp_path: Path) -> RunningCollector:
    (tmp_path / "basket.avsc").write_text(json.dumps(SCHEMA))
    (tmp_path / "basket.py").write_text(MAPPING)
    mapping = f'schema_file = "{tmp_path / "basket.avsc"}"\nmapping_script_file = "{tmp_path / "basket.py"}"'
    return start_collector(file_sink_config(tmp_path, mapping_extra=mapping, extra_global="inspector.enabled = true"))


def is_event(url: str) -> bool:
    return "/csc-event?" in url


def inspector_tab(browser: Browser, collector: RunningCollector, width: int = 1400, height: int = 900) -> Page:
    tab = browser.context.new_page()
    tab.set_viewport_size({"width": width, "height": height})
    tab.goto(f"{collector.base_url}/inspect")
    tab.wait_for_selector("#live[data-state='live']")
    return tab


def rows(tab: Page) -> list[list[str]]:
    """The table as the user sees it, newest first: time, outcome, event type, source, party, sinks."""
    found: list[list[str]] = tab.eval_on_selector_all(
        "#events tbody tr", "rows => rows.map(r => [...r.cells].map(c => c.textContent))"
    )
    return found


def wait_rows(tab: Page, count: int) -> list[list[str]]:
    # Locators, not wait_for_function: the page's Content-Security-Policy forbids the eval that one needs.
    tab.locator("#events tbody tr").nth(count - 1).wait_for()
    return rows(tab)


def send_every_outcome(collector: RunningCollector, site: Site, browser: Browser, tab: Page) -> Page:
    """Through the shop's page and its tracker: a page view and a basket (recorded), a checkout (the mapping
    fails), an event the mapping discards, the basket altered (corrupt) and the basket again (duplicate)."""
    site.pages["/"] = page_html(f"{collector.base_url}/divolte.js", "Shop", SHOP)
    shop = browser.page
    shop.goto(site.url("/"))
    shop.wait_for_function("() => window.divolte !== undefined")
    with shop.expect_request(browser.event_of_type("addToBasket")):
        shop.click("#add")
    for event_type in ("checkout", "notForUs"):
        with shop.expect_request(browser.event_of_type(event_type)):
            shop.evaluate("(t) => divolte.signal(t)", event_type)
    basket = next(r.url for r in browser.event_requests if "t=addToBasket" in r.url)
    altered = re.sub(r"&e=([^&]*)", r"&e=\1X", basket)  # a proxy rewrote a parameter: the checksum fails
    for count, url in ((5, altered), (6, basket)):  # then the same request again: a duplicate
        shop.evaluate("(url) => fetch(url, {mode: 'no-cors', cache: 'no-store'})", url)
        wait_rows(tab, count)
    return shop


def test_events_appear_live_with_their_outcome(
    start_collector: StartCollector, tmp_path: Path, site: Site, browser: Browser
) -> None:
    collector = start(start_collector, tmp_path)
    tab = inspector_tab(browser, collector)
    assert tab.text_content("#empty") and tab.is_visible("#empty")

    shop = send_every_outcome(collector, site, browser, tab)
    table = wait_rows(tab, 6)
    assert [(row[1], row[2]) for row in table] == [
        ("duplicate", "addToBasket"), ("corrupt", "addToBasket"), ("discarded", "notForUs"),
        ("mapping_error", "checkout"), ("recorded", "addToBasket"), ("recorded", "pageView"),
    ]  # fmt: skip
    assert table[-1][3:] == ["browser", shop.evaluate("divolte.partyId"), "files"]

    tab.click("#events tbody tr:nth-child(4)")  # the mapping error: its message in the detail pane
    detail = tab.text_content("#detail-body") or ""
    assert "mapping 'test': ZeroDivisionError: integer division or modulo by zero" in detail
    tab.focus("#events tbody tr:nth-child(5)")  # the basket (from the keyboard): parameters, the record as written
    tab.keyboard.press("Enter")
    detail = tab.text_content("#detail-body") or ""
    assert '"sku": "A-1"' in detail and '"price": 12.5' in detail and '"eventType": "addToBasket"' in detail
    assert "→ files" in detail and "GET" in detail and "/csc-event?p=" in detail

    counts = {li.get_attribute("data-outcome"): li.text_content() for li in tab.query_selector_all("#rates li")}
    assert counts["recorded"] is not None and counts["recorded"].startswith("recorded2")
    assert all(counts[o] is not None and f"{o.replace('_', ' ')}1" in (counts[o] or "")
               for o in ("corrupt", "duplicate", "discarded", "mapping_error"))  # fmt: skip

    tab.select_option("select[name=outcome]", "recorded")
    assert [row[2] for row in rows(tab)] == ["addToBasket", "pageView"]
    tab.select_option("select[name=outcome]", "")
    tab.fill("input[name=type]", "checkout")
    assert [row[1] for row in rows(tab)] == ["mapping_error"]
    tab.fill("input[name=type]", "")

    tab.click("#pause")  # the table holds still while events go on arriving
    assert tab.text_content("#live") == "paused"
    with shop.expect_request(browser.event_of_type("whilePaused")):
        shop.evaluate("() => divolte.signal('whilePaused')")
    tab.locator("#rates li[data-outcome=recorded] .n", has_text="3").wait_for()  # the header still counts
    assert len(rows(tab)) == 6
    tab.click("#pause")
    assert wait_rows(tab, 7)[0][2] == "whilePaused" and tab.text_content("#live") == "live"

    tab.click("#reset")
    tab.locator("#events tbody tr").first.wait_for(state="detached")
    assert collector.stop() == 0, collector.log()


def test_hostile_content_is_shown_as_text(
    start_collector: StartCollector, tmp_path: Path, site: Site, browser: Browser
) -> None:
    collector = start(start_collector, tmp_path)

    def hostile_agent(route: Route) -> None:
        route.continue_(headers={**route.request.headers, "user-agent": XSS_AGENT, "x-note": XSS})

    site.pages["/"] = page_html(f"{collector.base_url}/divolte.js", "Shop")
    shop = browser.page
    shop.route(is_event, hostile_agent)
    shop.goto(site.url("/"))
    shop.wait_for_function("() => window.divolte !== undefined")
    with shop.expect_request(browser.event_of_type(XSS)):
        shop.evaluate("(payload) => divolte.signal(payload, {sku: payload, note: payload})", XSS)

    tab = inspector_tab(browser, collector)
    table = wait_rows(tab, 2)
    assert table[0][2] == XSS  # the event type, literally
    tab.click("#events tbody tr:nth-child(1)")
    tab.wait_for_selector("#detail:not([hidden])")
    detail = tab.text_content("#detail-body") or ""
    assert XSS_AGENT in detail and detail.count(XSS) >= 4  # parameters, query, header, record
    assert tab.text_content("#detail-title") == f"#2 {XSS} · {table[0][0]}"
    assert tab.evaluate("window.__pwned") is None
    assert tab.evaluate("document.querySelectorAll('main img, main script').length") == 0
    assert collector.stop() == 0, collector.log()


def test_pleasant_at_desktop_and_phone_widths(
    start_collector: StartCollector, tmp_path: Path, site: Site, browser: Browser
) -> None:
    """Screenshots at both widths (kept in the test's folder; docs/inspector.png is one), and the layout checks
    a person would make: nothing wider than the screen, the detail pane beside the table on a desktop and in
    place of it on a phone."""
    collector = start(start_collector, tmp_path)
    send_every_outcome(collector, site, browser, inspector_tab(browser, collector))
    for name, (width, height) in {"desktop": (1400, 860), "phone": (390, 844)}.items():
        tab = inspector_tab(browser, collector, width, height)
        wait_rows(tab, 6)
        tab.screenshot(path=str(tmp_path / f"inspector-{name}-list.png"))
        tab.click("#events tbody tr:nth-child(5)")
        tab.wait_for_selector("#detail:not([hidden])")
        tab.screenshot(path=str(tmp_path / f"inspector-{name}.png"))
        assert tab.evaluate("document.documentElement.scrollWidth") <= width
        table, detail = (tab.locator(s).bounding_box() for s in (".list", "#detail"))
        assert table is not None and detail is not None
        if name == "desktop":
            assert detail["x"] >= table["x"] + table["width"] - 1  # side by side
        else:
            assert detail["x"] == 0 and detail["width"] == width  # the detail takes the screen
            tab.click("#close")
            assert tab.is_hidden("#detail") and tab.is_visible("#events")
        assert (tmp_path / f"inspector-{name}.png").stat().st_size > 10_000
        tab.close()
    assert collector.stop() == 0, collector.log()


def test_a_sites_end_to_end_test(start_collector: StartCollector, tmp_path: Path, site: Site, browser: Browser) -> None:
    """The README's example: a site's own test asserts that a click produced the right record."""
    collector = start(start_collector, tmp_path)
    site.pages["/product.html"] = page_html(f"{collector.base_url}/divolte.js", "Product", SHOP)
    inspect = f"{collector.base_url}/inspect/api"
    httpx.post(f"{inspect}/reset")

    page = browser.page
    page.goto(site.url("/product.html"))
    page.click("#add")

    def baskets() -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = httpx.get(f"{inspect}/events?type=addToBasket").json()["events"]
        return found

    deadline = time.monotonic() + 10
    while not baskets() and time.monotonic() < deadline:
        time.sleep(0.05)
    (event,) = baskets()
    assert event["outcome"] == "recorded"
    assert event["parameters"] == {"sku": "A-1", "price": 12.5}
    (mapped,) = event["mappings"]
    assert mapped["record"]["sku"] == "A-1" and mapped["record"]["price"] == 12.5
    assert collector.stop() == 0, collector.log()
