"""User-agent parsing onto Divolte's nine user-agent fields, with an LRU cache.

Divolte used uadetector with a database frozen in 2014; its names (``OS X``, ``Personal computer``,
``Apple Computer, Inc.``) are what existing consumers and dashboards expect. We parse with uap-core's
regexes (``ua-parser`` with its Rust matcher, ~10 µs a miss) and translate uap-core's vocabulary onto
Divolte's where a translation exists, so a 2014-era user agent yields Divolte's values and a modern one
yields a useful value instead of ``unknown``. The translation tables are documented in the README
("User agents").

Rules kept from Divolte: a request with no ``User-Agent`` header has *absent* user-agent fields (the
caller does not ask); any header, however odd, yields a value (``unknown`` for what nobody recognises).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

import ua_parser
import ua_parser.regex

# uap-core family → Divolte (uadetector) family name, where they differ.
_OS_FAMILY = {
    "Mac OS X": "OS X",
    "Mac OS": "OS X",
    "Chrome OS": "Chrome OS",
    "Windows": "Windows",
    "iOS": "iOS",
    "iPadOS": "iOS",
    "Android": "Android",
}

_OS_VENDOR = {
    "OS X": "Apple Computer, Inc.",
    "iOS": "Apple Computer, Inc.",
    "Windows": "Microsoft Corporation.",
    "Windows Phone": "Microsoft Corporation.",
    "Android": "Google, Inc.",
    "Chrome OS": "Google, Inc.",
    "Ubuntu": "Canonical Ltd.",
    "Fedora": "Red Hat, Inc.",
    "Linux": "Linux Foundation",
    "FreeBSD": "The FreeBSD Foundation",
    "BlackBerry OS": "Research In Motion Limited",
    "Tizen": "Linux Foundation",
    "KaiOS": "KaiOS Technologies",
}

_BROWSER_VENDOR = {
    "Chrome": "Google Inc.",
    "Chrome Mobile": "Google Inc.",
    "Chrome Mobile iOS": "Google Inc.",
    "Chrome Mobile WebView": "Google Inc.",
    "Chromium": "Google Inc.",
    "HeadlessChrome": "Google Inc.",
    "Googlebot": "Google Inc.",
    "Firefox": "Mozilla Foundation",
    "Firefox Mobile": "Mozilla Foundation",
    "Firefox iOS": "Mozilla Foundation",
    "Safari": "Apple Inc.",
    "Mobile Safari": "Apple Inc.",
    "Mobile Safari UI/WKWebView": "Apple Inc.",
    "Edge": "Microsoft Corporation.",
    "Edge Mobile": "Microsoft Corporation.",
    "IE": "Microsoft Corporation.",
    "IE Mobile": "Microsoft Corporation.",
    "bingbot": "Microsoft Corporation.",
    "Opera": "Opera Software ASA",
    "Opera Mini": "Opera Software ASA",
    "Opera Mobile": "Opera Software ASA",
    "Samsung Internet": "Samsung Electronics Co., Ltd.",
    "Yandex Browser": "Yandex LLC",
    "YandexBot": "Yandex LLC",
    "UC Browser": "UCWeb Inc.",
    "Vivaldi": "Vivaldi Technologies AS",
    "Brave": "Brave Software, Inc.",
    "DuckDuckGo Mobile": "Duck Duck Go, Inc.",
}

_LIBRARIES = frozenset(
    {
        "curl", "Wget", "Python Requests", "Python-urllib", "python-requests", "okhttp", "Go-http-client",
        "Apache-HttpClient", "Java", "libwww-perl", "HTTPie", "aiohttp", "axios", "node-fetch", "PycURL",
    }
)  # fmt: skip

_DESKTOP_OS = frozenset(
    {"OS X", "Windows", "Linux", "Ubuntu", "Fedora", "Chrome OS", "FreeBSD", "OpenBSD", "NetBSD", "Debian",
     "Mint", "Arch Linux", "Solaris", "SUSE", "Red Hat", "CentOS"}
)  # fmt: skip

_CONSOLES = ("PlayStation", "Xbox", "Nintendo", "Wii")
_TV_MARKERS = ("SmartTV", "Smart TV", "SMART-TV", "HbbTV", "GoogleTV", "AppleTV", "Apple TV", "BRAVIA", "Roku")
_TABLET_MARKERS = ("iPad", "Tablet", "Kindle", "Nexus 7", "Nexus 9", "Nexus 10", "SM-T", "Tab")


@dataclass(frozen=True, slots=True)
class UserAgent:
    """Divolte's nine user-agent values, in the order of the default schema's fields."""

    name: str
    family: str
    vendor: str
    type: str
    version: str
    device_category: str
    os_family: str
    os_version: str
    os_vendor: str


UNKNOWN = UserAgent("unknown", "unknown", "", "", "", "Other", "unknown", "", "")
"""What an unrecognisable user agent yields (Divolte's 'empty agent')."""


def _dotted(*parts: str | None) -> str:
    out = []
    for part in parts:
        if not part:
            break
        out.append(part)
    return ".".join(out)


def _device_category(ua: str, os_family: str, device_family: str, is_robot: bool) -> str:
    if is_robot:
        return "Other"
    if any(marker in ua for marker in _CONSOLES):
        return "Game console"
    if any(marker in ua for marker in _TV_MARKERS):
        return "Smart TV"
    if any(marker in device_family for marker in _TABLET_MARKERS):
        return "Tablet"
    if os_family == "Android":
        # Android phones say "Mobile"; Android tablets do not (Google's guidance to browser vendors).
        return "Smartphone" if "Mobile" in ua else "Tablet"
    if os_family in ("iOS", "Windows Phone", "BlackBerry OS", "KaiOS") or device_family in (
        "iPhone",
        "Generic Smartphone",
    ):
        return "Smartphone"
    if os_family in _DESKTOP_OS:
        return "Personal computer"
    return "Other"


def _agent_type(family: str, category: str, is_robot: bool) -> str:
    if is_robot:
        return "Robot"
    if family in _LIBRARIES:
        return "Library"
    if category in ("Smartphone", "Tablet"):
        return "Mobile Browser"
    return "Browser"


def translate(result: Any, ua: str) -> UserAgent:
    """Translate a uap-core parse result into Divolte's nine values."""
    agent = result.user_agent
    if agent is None:
        return UNKNOWN
    os_result = result.os
    device = result.device
    device_family = device.family if device is not None else ""
    is_robot = device_family == "Spider"
    raw_os = os_result.family if os_result is not None else ""
    os_family = _OS_FAMILY.get(raw_os, raw_os) if raw_os and raw_os != "Other" else "unknown"
    os_version = (
        _dotted(os_result.major, os_result.minor, os_result.patch, os_result.patch_minor)
        if (os_result is not None)
        else ""
    )
    category = _device_category(ua, os_family, device_family, is_robot)
    family = agent.family
    return UserAgent(
        name=family,
        family=family,
        vendor=_BROWSER_VENDOR.get(family, ""),
        type=_agent_type(family, category, is_robot),
        version=_dotted(agent.major, agent.minor, agent.patch, agent.patch_minor),
        device_category=category,
        os_family=os_family,
        os_version=os_version,
        os_vendor=_OS_VENDOR.get(os_family, ""),
    )


@functools.cache
def builtin_resolver() -> ua_parser.regex.Resolver:
    """The uap-core rules compiled (~0.3 s): once per process, and once for every worker of a multi-process
    collector, which fork from a server that called this (``collector.server.preload``)."""
    return ua_parser.regex.Resolver(ua_parser.load_builtins())


class UserAgentParser:
    """Parses user-agent strings, caching the last ``cache_size`` distinct strings (LRU).

    One instance is shared by all mappings of a process; the cache is what makes the common case (the same
    few hundred browsers over and over) cost a dictionary lookup instead of a regex scan.
    """

    def __init__(self, cache_size: int = 1000) -> None:
        self.cache_size = cache_size
        self._parser = ua_parser.Parser(builtin_resolver())
        self.parse = functools.lru_cache(maxsize=max(cache_size, 0))(self._parse_uncached)

    def _parse_uncached(self, ua: str) -> UserAgent:
        return translate(self._parser.parse(ua), ua)

    def cache_info(self) -> Any:
        """``functools`` cache statistics: hits, misses, current size (exported as metrics)."""
        return self.parse.cache_info()
