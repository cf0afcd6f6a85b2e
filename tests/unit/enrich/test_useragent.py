"""User agents onto Divolte's nine fields: Divolte's own vector, modern agents, caching."""

from __future__ import annotations

import pytest

from collector.enrich.useragent import UNKNOWN, UserAgent, UserAgentParser

CHROME_38_MAC = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_10_1) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/38.0.2125.122 Safari/537.36"
)


def test_divolte_vector() -> None:
    # DslRecordMapperTest.shouldPopulateFlatFields
    assert UserAgentParser().parse(CHROME_38_MAC) == UserAgent(
        "Chrome", "Chrome", "Google Inc.", "Browser", "38.0.2125.122", "Personal computer", "OS X", "10.10.1",
        "Apple Computer, Inc.",
    )  # fmt: skip


@pytest.mark.parametrize(
    ("ua", "family", "type_", "category", "os_family"),
    [
        ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
         "Version/17.4 Mobile/15E148 Safari/604.1", "Mobile Safari", "Mobile Browser", "Smartphone", "iOS"),
        ("Mozilla/5.0 (iPad; CPU OS 12_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/12.1 "
         "Mobile/15E148 Safari/604.1", "Mobile Safari", "Mobile Browser", "Tablet", "iOS"),
        ("Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 "
         "Mobile Safari/537.36", "Chrome Mobile", "Mobile Browser", "Smartphone", "Android"),
        ("Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:125.0) Gecko/20100101 Firefox/125.0", "Firefox", "Browser",
         "Personal computer", "Windows"),
        ("Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)", "Googlebot", "Robot", "Other",
         "unknown"),
        ("curl/8.5.0", "curl", "Library", "Other", "unknown"),
    ],
)  # fmt: skip
def test_modern_agents(ua: str, family: str, type_: str, category: str, os_family: str) -> None:
    parsed = UserAgentParser().parse(ua)
    found = (parsed.family, parsed.type, parsed.device_category, parsed.os_family)
    assert found == (family, type_, category, os_family)


def test_unrecognisable_agent_is_unknown_not_absent() -> None:
    assert UserAgentParser().parse("garbage/\x00") == UNKNOWN
    assert UserAgentParser().parse("") == UNKNOWN


def test_cache_counts_hits() -> None:
    parser = UserAgentParser(cache_size=2)
    for _ in range(3):
        parser.parse(CHROME_38_MAC)
    info = parser.cache_info()
    assert (info.hits, info.misses, info.maxsize) == (2, 1, 2)
