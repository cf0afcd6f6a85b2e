"""GeoIP test databases: Divolte's GeoIP2 City fixture written as a MaxMind DB file (mmdb-writer)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mmdb_writer import MMDBWriter
from netaddr import IPSet

from tests.paths import FIXTURES
from tests.vectors import load_json_with_comments


def city_record() -> dict[str, Any]:
    """Divolte's GeoIP2 response fixture as a MaxMind DB record.

    GeoIP2's JSON uses the database's own keys, so the record is the fixture itself, less ``traits.ip_address``,
    which GeoIP2 adds from the queried address rather than reading it from the database.
    """
    record: dict[str, Any] = load_json_with_comments(FIXTURES / "city-response-with-everything.json")
    del record["traits"]["ip_address"]
    return record


def write_db(
    path: Path, networks: dict[str, dict[str, Any]], *, ip_version: int = 6, database_type: str = "GeoIP2-City"
) -> None:
    writer = MMDBWriter(ip_version=ip_version, ipv4_compatible=ip_version == 6, database_type=database_type)
    for network, record in networks.items():
        writer.insert_network(IPSet([network]), record)
    writer.to_db_file(str(path))
