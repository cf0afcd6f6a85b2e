"""Browser events to send: a real browser's headers and the checksum vectors' queries."""

from __future__ import annotations

from typing import Any

from tests.vectors import vector_case

CHROME_38 = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_10_1) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/38.0.2125.122 Safari/537.36"
)


BROWSER_HEADERS = {
    "User-Agent": CHROME_38,
    "Accept": "image/avif,image/webp,image/apng,image/*,*/*;q=0.8",
    "Accept-Language": "en-GB,en;q=0.9",
    "Referer": "http://localhost:8290/",
    "Cookie": "_dvp=0:i1t84hgy:5AF359Zjq5kUy98u4wQjlIZzWGhN~GlG; _dvs=0:i1t84hgy:95CbiPCYln_1e0a6rFvuRkDkeNnc6KC8",
}


def checksum_case(name: str, group: str = "browser_checksum") -> dict[str, Any]:
    """A case of the checksum vectors (its ``query`` is what divolte.js sends)."""
    return vector_case(group, name)
