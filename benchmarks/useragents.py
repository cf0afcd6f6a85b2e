"""Plausible real-world user-agent strings, generated from templates of browsers, versions and devices.

No network, no database: the strings follow the shapes browsers actually send (Chrome, Edge, Opera,
Samsung Internet on Windows/macOS/Linux/Android/ChromeOS; Safari on macOS/iOS/iPadOS; Firefox; a few
crawlers and HTTP libraries), with version numbers spread over the last few years. What matters for the
benchmark is that there are hundreds of distinct strings (so the collector's user-agent cache sees a
realistic working set, misses included) and that they are the length and shape of real ones.
"""

from __future__ import annotations

import itertools
import random

_WINDOWS = ["Windows NT 10.0; Win64; x64", "Windows NT 10.0; WOW64", "Windows NT 6.1; Win64; x64"]
_MAC = ["Macintosh; Intel Mac OS X 10_15_7", "Macintosh; Intel Mac OS X 10_14_6", "Macintosh; Intel Mac OS X 13_5"]
_LINUX = ["X11; Linux x86_64", "X11; Ubuntu; Linux x86_64", "X11; CrOS x86_64 14541.0.0"]
_ANDROID_DEVICES = [
    "SM-S918B", "SM-A546B", "SM-G991B", "SM-A536B", "Pixel 7", "Pixel 8 Pro", "Pixel 6a", "M2101K6G",
    "2201117TG", "CPH2219", "moto g(60)", "SM-T870", "SM-X200", "K",
]  # fmt: skip
_ANDROID_VERSIONS = ["10", "11", "12", "13", "14"]
_IOS_VERSIONS = ["15_8", "16_6_1", "16_7_8", "17_1_2", "17_4_1", "17_5", "17_6_1", "18_0", "18_1"]
_CHROME_MAJORS = range(110, 132)
_FIREFOX_MAJORS = range(110, 133)

_OTHER = [
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; Googlebot/2.1; +http://www.google.com/bot.html) "
    "Chrome/120.0.6099.129 Safari/537.36",
    "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
    "Mozilla/5.0 (compatible; YandexBot/3.0; +http://yandex.com/bots)",
    "Mozilla/5.0 (Windows NT 6.1; WOW64; Trident/7.0; rv:11.0) like Gecko",
    "Mozilla/5.0 (PlayStation; PlayStation 5/2.26) AppleWebKit/605.1.15 (KHTML, like Gecko)",
    "Mozilla/5.0 (SMART-TV; Linux; Tizen 6.5) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/2.2 "
    "Chrome/85.0.4183.93 TV Safari/537.36",
    "curl/8.5.0",
    "python-requests/2.31.0",
]


def _chrome_version(major: int, rng: random.Random) -> str:
    return f"{major}.0.{5000 + (major - 100) * 60 + rng.randrange(50)}.{rng.randrange(250)}"


def _candidates(rng: random.Random) -> list[str]:
    out: list[str] = list(_OTHER)
    webkit = "AppleWebKit/537.36 (KHTML, like Gecko)"
    for platform, major in itertools.product(_WINDOWS + _MAC + _LINUX, _CHROME_MAJORS):
        version = _chrome_version(major, rng)
        out.append(f"Mozilla/5.0 ({platform}) {webkit} Chrome/{major}.0.0.0 Safari/537.36")
        if platform in _WINDOWS and major % 2 == 0:
            out.append(f"Mozilla/5.0 ({platform}) {webkit} Chrome/{major}.0.0.0 Safari/537.36 Edg/{version}")
        if platform == _WINDOWS[0] and major % 5 == 0:
            out.append(f"Mozilla/5.0 ({platform}) {webkit} Chrome/{major}.0.0.0 Safari/537.36 OPR/{major - 14}.0.0.0")
    for device, android, major in itertools.product(_ANDROID_DEVICES, _ANDROID_VERSIONS, _CHROME_MAJORS[::3]):
        mobile = "" if device.startswith(("SM-T", "SM-X")) else " Mobile"
        out.append(
            f"Mozilla/5.0 (Linux; Android {android}; {device}) {webkit} Chrome/{major}.0.0.0{mobile} Safari/537.36"
        )
        if device.startswith("SM-") and major % 2 == 0:
            out.append(
                f"Mozilla/5.0 (Linux; Android {android}; {device}) {webkit} SamsungBrowser/{major // 5}.0 "
                f"Chrome/{major}.0.0.0{mobile} Safari/537.36"
            )
    for ios in _IOS_VERSIONS:
        safari = ".".join(ios.split("_")[:2])
        for device in ("iPhone; CPU iPhone OS", "iPad; CPU OS"):
            out.append(
                f"Mozilla/5.0 ({device} {ios} like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
                f"Version/{safari} Mobile/15E148 Safari/604.1"
            )
            out.append(
                f"Mozilla/5.0 ({device} {ios} like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
                f"CriOS/{rng.choice(list(_CHROME_MAJORS))}.0.{rng.randrange(6000, 6800)}.{rng.randrange(200)} "
                "Mobile/15E148 Safari/604.1"
            )
    for mac, safari in itertools.product(_MAC, ["15.6.1", "16.6", "17.0", "17.4.1", "17.6", "18.0", "18.1"]):
        out.append(f"Mozilla/5.0 ({mac}) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/{safari} Safari/605.1.15")
    for platform, major in itertools.product(_WINDOWS + _MAC + _LINUX[:2], _FIREFOX_MAJORS):
        platform = platform.replace("Intel Mac OS X 10_15_7", "Intel Mac OS X 10.15")
        out.append(f"Mozilla/5.0 ({platform}; rv:{major}.0) Gecko/20100101 Firefox/{major}.0")
    for android, major in itertools.product(_ANDROID_VERSIONS, _FIREFOX_MAJORS[::2]):
        out.append(f"Mozilla/5.0 (Android {android}; Mobile; rv:{major}.0) Gecko/{major}.0 Firefox/{major}.0")
    return list(dict.fromkeys(out))


def user_agents(count: int, seed: int = 7) -> list[str]:
    """``count`` distinct user-agent strings, most popular first (callers weight them Zipf-like)."""
    rng = random.Random(seed)
    pool = _candidates(rng)
    if count > len(pool):
        raise ValueError(f"only {len(pool)} distinct user agents can be generated, asked for {count}")
    rng.shuffle(pool)
    # Popular browsers first: recent Chrome and iOS Safari dominate real traffic.
    pool.sort(key=lambda ua: 0 if ("Chrome/13" in ua or "iPhone OS 17" in ua or "iPhone OS 18" in ua) else 1)
    return pool[:count]
