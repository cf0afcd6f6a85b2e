"""divolte.js delivery in headless Chromium against the real collector: whenCommitted, leaving the page.

The tracker sends one event at a time; ``whenCommitted(callback, timeout)`` runs the callback once every
event signalled before it has been answered by the server (or given up after ``event_timeout``), or after
``timeout`` ms, whichever comes first. ``http_response_delay`` makes the collector hold each reply (after
it has accepted the event), which makes "the server is slow" and "a request is still in flight"
deterministic. Times compared across the page and the collector are wall-clock milliseconds of the same
machine: the record's ``timestamp`` is when the collector received the request.
"""

from __future__ import annotations

import itertools
import time
from pathlib import Path

import pytest

from tests.integration.browser.harness import Browser, Site, browser_config, finish, page_html, wait_for_records
from tests.integration.collector_process import StartCollector

pytestmark = pytest.mark.integration


def test_when_committed_runs_after_earlier_events_reached_the_server(
    start_collector: StartCollector, tmp_path: Path, site: Site, browser: Browser
) -> None:
    delay_ms = 300
    source = f"http_response_delay = {delay_ms} milliseconds\njavascript.event_timeout = 10 seconds"
    collector = start_collector(browser_config(tmp_path, source))
    site.pages["/"] = page_html(f"{collector.base_url}/divolte.js", "Commit")
    browser.open(site.url("/"))
    browser.page.evaluate("""() => {
      divolte.signal('first');
      divolte.signal('second', {n: 2});
      divolte.whenCommitted(() => { window.committedAt = Date.now(); }, 10000);
      divolte.signal('after');
    }""")
    committed_at = browser.page.wait_for_function("() => window.committedAt").json_value()
    wait_for_records(collector, tmp_path, 4)
    records = finish(collector, tmp_path)

    assert [r["eventType"] for r in records] == ["pageView", "first", "second", "after"]
    assert all(r["detectedCorruption"] is False for r in records)
    received = [r["timestamp"] for r in records]
    # One request at a time: each is sent only after the previous reply (held delay_ms by the server).
    assert all(later - earlier >= delay_ms - 5 for earlier, later in itertools.pairwise(received))
    # The callback ran after the server had received, and answered, every earlier event...
    assert received[2] + delay_ms - 5 <= committed_at
    # ...and before the event signalled after it was sent.
    assert committed_at <= received[3]


def test_when_committed_runs_on_its_timeout_when_the_server_is_slow(
    start_collector: StartCollector, tmp_path: Path, site: Site, browser: Browser
) -> None:
    """As Divolte's selenium-test-slow-server.conf, with a 3 s reply delay (Divolte's uses 15 s)."""
    source = (
        "http_response_delay = 3 seconds\njavascript.event_timeout = 10 seconds\n"
        "javascript.auto_page_view_event = false"
    )
    collector = start_collector(browser_config(tmp_path, source))
    site.pages["/"] = page_html(f"{collector.base_url}/divolte.js", "Slow")
    browser.open(site.url("/"))
    elapsed_ms = browser.page.evaluate("""() => new Promise((resolve) => {
      const start = Date.now();
      divolte.signal('slowServer');
      divolte.whenCommitted(() => resolve(Date.now() - start), 500);
    })""")
    # The collector accepted the event at once; only its reply is late.
    wait_for_records(collector, tmp_path, 1)
    browser.context.close()
    records = finish(collector, tmp_path)

    # Neither the reply (3 s) nor the event timeout (10 s) released the callback: its own 500 ms did.
    assert 490 <= elapsed_ms < 3000
    assert [r["eventType"] for r in records] == ["slowServer"]
    assert records[0]["detectedCorruption"] is False


LEAVING_PAGE = """<a id="out" href="/next.html" onclick="divolte.signal('outboundClick', {href: this.href})">next</a>"""


@pytest.mark.parametrize("deliver_on_page_hide", [True, False], ids=["deliver_on_page_hide", "divolte_default"])
def test_event_signalled_before_navigating_away(
    start_collector: StartCollector, tmp_path: Path, site: Site, browser: Browser, deliver_on_page_hide: bool
) -> None:
    """An event queued behind a slow request when the user follows a link (Divolte issue #160).

    The collector holds its replies for 1 s, so the page view's request is still in flight when the link is
    clicked right after the page loaded, and the click's event waits in the tracker's queue. With
    ``deliver_on_page_hide = true`` the tracker sends what is queued when the page is hidden, with a
    keepalive fetch (a GET to the same endpoint) that outlives the page: the event arrives. Without it
    (Divolte's behaviour, the default) the queue dies with the page and the event is lost: documented
    here, not desired.
    """
    source = (
        "http_response_delay = 1 second\njavascript.event_timeout = 10 seconds\n"
        f"javascript.deliver_on_page_hide = {str(deliver_on_page_hide).lower()}"
    )
    collector = start_collector(browser_config(tmp_path, source))
    script = f"{collector.base_url}/divolte.js"
    site.pages["/"] = page_html(script, "Leaving", LEAVING_PAGE)
    site.pages["/next.html"] = page_html(script, "Next")
    browser.page.goto(site.url("/"), wait_until="commit")
    first = browser.tracker_state()
    page_view = wait_for_records(collector, tmp_path, 1)[0]  # accepted; its reply is held for 1 s
    browser.page.click("#out")
    clicked_by_ms = int(time.time() * 1000)
    assert clicked_by_ms < page_view["timestamp"] + 1000, "premise: the link was clicked while the reply was held"
    browser.page.wait_for_url("**/next.html")
    second = browser.tracker_state()
    records = wait_for_records(collector, tmp_path, lambda rs: any(r["pageViewId"] == second["pageViewId"] for r in rs))
    if deliver_on_page_hide:
        records = wait_for_records(collector, tmp_path, 3)
    browser.context.close()  # no request left waiting for a held reply: the collector stops at once
    records = finish(collector, tmp_path)

    by_type = {(r["eventType"], r["pageViewId"]): r for r in records}
    assert ("pageView", first["pageViewId"]) in by_type and ("pageView", second["pageViewId"]) in by_type
    assert all(r["detectedCorruption"] is False and r["partyId"] == first["partyId"] for r in records)
    if deliver_on_page_hide:
        assert len(records) == 3
        outbound = by_type[("outboundClick", first["pageViewId"])]
        assert outbound["location"] == site.url("/")
        # (The keepalive request leaves an unloading page: Playwright's network events do not show it.)
    else:
        assert [r["eventType"] for r in records] == ["pageView", "pageView"]
