"""A custom schema filled by a Python mapping from a real page: URL parts, query parameters, event parameters."""

from __future__ import annotations

import hashlib
import signal
from pathlib import Path

import pytest

from tests.integration.browser.harness import Browser, Site, page_html
from tests.integration.collector_process import StartCollector
from tests.integration.file_sink import file_sink_config, read_published
from tests.paths import REPO

pytestmark = pytest.mark.integration


def test_shop_mapping_from_a_real_page(
    start_collector: StartCollector, tmp_path: Path, site: Site, browser: Browser
) -> None:
    mapping = f'schema_file = "{REPO / "schemas" / "ShopEvent.avsc"}"\n' \
              f'mapping_script_file = "{REPO / "mappings" / "shop.py"}"'  # fmt: skip
    collector = start_collector(file_sink_config(tmp_path, mapping_extra=mapping))
    path = "/shoes/p-123.html?q=running+shoes&utm_source=newsletter&utm_campaign=spring%202026"
    site.pages["/shoes/p-123.html"] = page_html(f"{collector.base_url}/divolte.js", "Running shoes")
    browser.context.add_cookies([{"name": "ab_experiment", "value": "checkout-v2", "url": site.url("/")}])
    browser.open(site.url(path))
    params = {"sku": "A-1", "price": 12.5, "tags": ["x", "y"], "email": "someone@example.com",
              "basket": [{"sku": "A-1", "quantity": 2}, {"sku": "B-2"}]}  # fmt: skip
    with browser.page.expect_request(browser.event_of_type("addToBasket")):
        browser.page.evaluate("(params) => divolte.signal('addToBasket', params)", params)
    browser.page.evaluate("() => new Promise(resolve => divolte.whenCommitted(resolve, 5000))")
    assert collector.stop(signal.SIGTERM) == 0, collector.log()

    records = read_published(tmp_path, "com.example.clickstream.ShopEvent")
    page_view, basket = records
    for record in (page_view, basket):
        assert record["host"] == "127.0.0.1"
        assert record["path"] == "/shoes/p-123.html"
        assert record["searchTerm"] == "running shoes"
        assert record["utmSource"] == "newsletter" and record["utmCampaign"] == "spring 2026"
        assert record["category"] == "shoes" and record["productId"] == "p-123"
        assert record["experiment"] == "checkout-v2"
        assert record["browser"] == "HeadlessChrome" and record["deviceCategory"] == "Personal computer"
        assert record["language"]  # Chromium sends Accept-Language
        assert record["suspicious"] is False
    assert page_view["eventType"] == "pageView" and page_view["firstInSession"] is True
    assert page_view["sku"] is None and page_view["basket"] is None
    assert basket["eventType"] == "addToBasket"
    assert (basket["sku"], basket["price"], basket["tags"]) == ("A-1", 12.5, ["x", "y"])
    assert basket["basket"] == [{"sku": "A-1", "quantity": 2}, {"sku": "B-2", "quantity": 1}]  # schema default
    assert basket["hashedEmail"] is not None and "someone" not in basket["hashedEmail"]
    assert basket["hashedEmail"] != hashlib.sha256(b"someone@example.com").hexdigest()  # keyed, not a plain hash
    assert page_view["partyId"] == basket["partyId"] and page_view["pageViewId"] == basket["pageViewId"]
