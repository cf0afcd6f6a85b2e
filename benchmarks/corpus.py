"""Generate a corpus of realistic, valid ``/csc-event`` requests, as divolte.js on real pages would send them.

Visitors (parties) come back in one to three sessions, each a few page views; a page view is a
``pageView`` event and, on some pages, custom events with mincode parameters (basket, search, video,
checkout: nested objects, arrays, floats, booleans, escaped ``!``/``~``, non-ASCII text). Every URL is
built exactly as ``signal()`` in ``static/divolte.js`` builds it: parameters in the order ``psvecnflrijkwhtu``,
values ``encodeURIComponent``-encoded, numbers in base 36, and the checksum ``x`` (murmur3 of the
canonical string, computed with the collector's own ``collector.protocol.checksum``, which the shared test
vectors pin to divolte.js's). Each request also carries the headers a browser sends with an image request:
one of several hundred user agents (popular ones more often), the collector's cookies, ``Accept-Language``,
and an ``X-Forwarded-For`` with the visitor's address as a load balancer would add it.

Output: one request per line, tab-separated: the request target, then ``Name: value`` headers. The wrk
script ``benchmarks/corpus.lua`` reads it. Deterministic for a given seed.

    python -m benchmarks.corpus --events 100000 --out corpus.tsv
"""

from __future__ import annotations

import argparse
import random
import string
import sys
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from benchmarks.mincode import mincode
from benchmarks.useragents import user_agents
from collector.protocol.base36 import to_base36
from collector.protocol.checksum import canonical_string, murmur3_32_signed

EVENT_PATH = "/csc-event"
PARAMETER_NAMES = "psvecnflrijkwhtu"
ID_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxzy0123456789~_"
"""divolte.js's identifier alphabet (its 'xzy' typo included: identifiers look exactly as in the wild)."""

_SAFE = "-_.!~*'()"
"""What ``encodeURIComponent`` leaves as is, besides letters and digits."""

_SITES = ["https://www.shop.example", "https://news.example.org", "https://blog.example.net"]
_PAGES = [
    "/", "/sale", "/c/heren/jassen", "/c/dames/schoenen?sort=price&page=2", "/p/zomerjas-blauw-12345",
    "/p/sneaker-wit-98765?size=42", "/search?q=winter+jas&lang=nl", "/artikel/caf%C3%A9-%C3%A9xtra-2024",
    "/nieuws/2024/11/verkiezingen-uitslag", "/blog/how-we-scaled-our-pipeline#comments", "/account/orders",
    "/checkout/payment", "/checkout/thank-you?order=A-77213", "/%E6%97%A5%E6%9C%AC%E8%AA%9E/page",
]  # fmt: skip
_REFERRERS = [
    "https://www.google.com/", "https://www.bing.com/", "https://duckduckgo.com/", "https://t.co/abc123",
    "https://www.facebook.com/", "https://news.ycombinator.com/item?id=41234567",
]  # fmt: skip
_SCREENS = [(1920, 1040, 1), (1536, 824, 1.25), (2560, 1400, 1), (1440, 875, 2), (390, 844, 3), (412, 915, 2.625),
            (360, 800, 3), (393, 852, 3), (768, 1024, 2), (1280, 680, 1.5)]  # fmt: skip
_PIXEL_RATIOS = {1: "1", 1.25: "1.9", 1.5: "1.i", 2: "2", 2.625: "2.mi", 3: "3"}
"""``devicePixelRatio.toString(36)`` as browsers send it (a fractional ratio is no base-36 int: absent)."""
_LANGUAGES = ["nl-NL,nl;q=0.9,en-US;q=0.8,en;q=0.7", "en-US,en;q=0.9", "de-DE,de;q=0.9,en;q=0.8",
              "fr-FR,fr;q=0.9", "en-GB,en;q=0.9", "ja,en-US;q=0.9,en;q=0.8"]  # fmt: skip
_SEARCHES = ["winter jas", "sneakers wit 42", "café crème", "regenjas ~ dames", "gift card!", "日本 ティー", "jas"]


def encode_uri_component(value: str) -> str:
    """JavaScript's ``encodeURIComponent`` (UTF-8, the same unreserved set)."""
    return urllib.parse.quote(value, safe=_SAFE)


def _random_digits(rng: random.Random) -> str:
    return "".join(rng.choice(ID_ALPHABET) for _ in range(32))


def _custom_parameters(rng: random.Random, event_type: str, page_view: int) -> Any:
    """Parameters a site would attach to ``event_type``, in the shapes real trackers send."""
    sku = f"{rng.choice(string.ascii_uppercase)}-{rng.randrange(100000)}"
    if event_type == "addToBasket":
        return {"sku": sku, "price": round(rng.uniform(2, 300), 2), "quantity": rng.randrange(1, 4), "currency": "EUR"}
    if event_type == "search":
        return {"query": rng.choice(_SEARCHES), "results": rng.randrange(200), "filters": ["size:M", "color:blue"]}
    if event_type == "scrollDepth":
        return {"percent": rng.choice([25, 50, 75, 100])}
    if event_type == "videoPlay":
        return {"id": f"v{rng.randrange(10**6)}", "position": round(rng.uniform(0, 600), 3), "autoplay": False}
    if event_type == "checkout":
        items = [{"sku": sku, "qty": rng.randrange(1, 3), "price": 9.99} for _ in range(rng.randrange(1, 4))]
        return {"order": {"id": f"A-{page_view}", "items": items, "total": 29.97}, "coupon": None, "gift": True}
    return {"target": "nav > a.promo!", "x": rng.randrange(1920), "y": rng.randrange(1080), "ts": 1.7e12}


_EVENT_TYPES = ["addToBasket", "search", "scrollDepth", "videoPlay", "checkout", "click"]


def event_query(values: list[Any]) -> str:
    """The query string ``signal()`` builds from its 16 values (``None`` = not sent), checksum last."""
    query: list[str] = []
    params: dict[str, list[str]] = {}
    for name, value in zip(PARAMETER_NAMES, values, strict=True):
        if value is None:
            continue
        text = value if isinstance(value, str) else to_base36(value)
        query.append(f"{name}={encode_uri_component(text)}")
        params[name] = [text]
    checksum = murmur3_32_signed(canonical_string(params).encode("utf-8"))
    query.append(f"x={to_base36(checksum)}")
    return "&".join(query)


def requests(count: int, *, seed: int = 1, agents: int = 600) -> Iterator[list[str]]:
    """Yield ``count`` requests as ``[target, "Name: value", …]``, visitor by visitor."""
    rng = random.Random(seed)
    ua_pool = user_agents(agents, seed)
    weights = [1 / (rank + 1) ** 0.9 for rank in range(len(ua_pool))]
    now_ms = 1_735_000_000_000
    produced = 0
    party_number = 0
    while produced < count:
        # The first parties take every user agent once, so all of them occur; then Zipf-like popularity.
        ua = ua_pool[party_number] if party_number < len(ua_pool) else rng.choices(ua_pool, weights)[0]
        party_created = now_ms - rng.randrange(90 * 86_400_000)
        party_id = f"0:{to_base36(party_created)}:{_random_digits(rng)}"
        ip = f"{rng.randrange(1, 224)}.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}"
        if rng.random() < 0.05:
            ip = f"2a02:a46{rng.randrange(16):x}:{rng.randrange(65536):x}:1::{rng.randrange(65536):x}"
        forwarded = ip if rng.random() < 0.9 else f"{ip}, 10.0.{rng.randrange(256)}.{rng.randrange(1, 255)}"
        language = rng.choice(_LANGUAGES)
        width, height, ratio = rng.choice(_SCREENS)
        site = rng.choice(_SITES)
        chrome = "Chrome/" in ua
        new_party = True
        for _session in range(rng.choice([1, 1, 1, 2, 3])):
            session_start = now_ms - rng.randrange(86_400_000)
            session_id = f"0:{to_base36(session_start)}:{_random_digits(rng)}"
            first_in_session = True
            referrer: str | None = rng.choice(_REFERRERS) if rng.random() < 0.6 else None
            clock = session_start
            for page_view in range(rng.randrange(1, 8)):
                location = site + rng.choice(_PAGES)
                page_view_id = f"0:{_random_digits(rng)}"
                events: list[tuple[str, Any]] = [("pageView", None)]
                for _ in range(rng.choice([0, 0, 1, 1, 2, 4])):
                    event_type = rng.choice(_EVENT_TYPES)
                    events.append((event_type, _custom_parameters(rng, event_type, page_view)))
                for counter, (event_type, custom) in enumerate(events):
                    clock += rng.randrange(50, 30_000)
                    values: list[Any] = [
                        party_id, session_id, page_view_id, f"{page_view_id}{counter:x}", clock,
                        "t" if new_party else "f", "t" if first_in_session else "f", location, referrer,
                        width, height, _PIXEL_RATIOS[ratio], width, height - 120, event_type,
                        None if custom is None else mincode(custom),
                    ]  # fmt: skip
                    headers = [
                        f"User-Agent: {ua}",
                        "Accept: image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8",
                        "Accept-Encoding: gzip, deflate, br, zstd",
                        f"Accept-Language: {language}",
                        f"Referer: {site}/",
                        f"X-Forwarded-For: {forwarded}",
                    ]
                    if not new_party:
                        headers.append(f"Cookie: _dvs={session_id}; _dvp={party_id}")
                    if chrome:
                        headers += ["Sec-Fetch-Dest: image", "Sec-Fetch-Mode: no-cors", "Sec-Fetch-Site: same-site"]
                    yield [f"{EVENT_PATH}?{event_query(values)}", *headers]
                    produced += 1
                    if produced >= count:
                        return
                    new_party = first_in_session = False
                referrer = location
        party_number += 1


def write_corpus(path: Path, count: int, *, seed: int = 1, agents: int = 600) -> dict[str, int]:
    """Write ``count`` requests to ``path``; return counts of what is in it (for the report)."""
    targets: set[str] = set()
    parties: set[str] = set()
    sessions: set[str] = set()
    uas: set[str] = set()
    custom = 0
    with path.open("w", encoding="utf-8") as out:
        for fields in requests(count, seed=seed, agents=agents):
            out.write("\t".join(fields))
            out.write("\n")
            target = fields[0]
            targets.add(target)
            query = urllib.parse.parse_qs(target.split("?", 1)[1])
            parties.add(query["p"][0])
            sessions.add(query["s"][0])
            uas.add(fields[1])
            custom += "u" in query
    return {"requests": count, "distinct_urls": len(targets), "parties": len(parties), "sessions": len(sessions),
            "user_agents": len(uas), "custom_events": custom}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    stats = write_corpus(args.out, args.events, seed=args.seed)
    print(", ".join(f"{k}={v}" for k, v in stats.items()), file=sys.stderr)


if __name__ == "__main__":
    main()
