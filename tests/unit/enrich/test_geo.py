"""GeoIP lookups (SPEC §6.3, §7.2) on databases built with mmdb-writer, and reloading when the file changes."""

from __future__ import annotations

import contextlib
import copy
import gzip
import logging
import os
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from collector.enrich.geo import GEO_DATABASE_KEY, GEO_FIELDS, GeoDatabase
from collector.errors import ConfigError
from tests.geodb import city_record as _city_record
from tests.geodb import write_db as _write_db
from tests.paths import FIXTURES
from tests.vectors import load_json_with_comments


def _city_named(name: str) -> dict[str, Any]:
    record = _city_record()
    record["city"]["names"]["en"] = name
    return record


def _city_name(db: GeoDatabase, address: str = "1.2.3.4") -> Any:
    record = db.lookup(address)
    return None if record is None else GEO_FIELDS["cityName"][1](record)


@pytest.fixture
def city_db(tmp_path: Path) -> Path:
    path = tmp_path / "GeoIP2-City-Test.mmdb"
    _write_db(path, {"1.2.3.0/24": _city_record(), "2001:db8::/32": {"city": {"geoname_id": 7}}, "5.6.7.8/32": {}})
    return path


def test_every_sub_value_matches_divolte_s_expected_mapping(city_db: Path) -> None:
    expected: dict[str, Any] = load_json_with_comments(FIXTURES / "city-response-expected-mapping.json")
    assert set(expected) == {"geo" + name[0].upper() + name[1:] for name in GEO_FIELDS}
    db = GeoDatabase.open(city_db)
    record = db.lookup("1.2.3.4")
    assert record is not None
    for name, (value_type, extract) in GEO_FIELDS.items():
        value = extract(record)
        assert value == expected["geo" + name[0].upper() + name[1:]], name
        if value_type in (list[str], list[int]):
            assert isinstance(value, list)
            assert all(type(item) is value_type.__args__[0] for item in value), name
        else:
            assert type(value) is value_type, name


def test_a_sparse_record_gives_absent_values_empty_lists_and_false_flags(city_db: Path) -> None:
    db = GeoDatabase.open(city_db)
    record = db.lookup("2001:db8::1")
    assert record == {"city": {"geoname_id": 7}}
    values = {name: extract(record) for name, (_, extract) in GEO_FIELDS.items()}
    assert values.pop("cityId") == 7
    assert values.pop("subdivisionCodes") == values.pop("subdivisionIds") == values.pop("subdivisionNames") == []
    assert values.pop("anonymousProxy") is values.pop("satelliteProvider") is False
    assert set(values.values()) == {None}
    empty = db.lookup("5.6.7.8")
    assert empty == {}
    assert GEO_FIELDS["cityName"][1](empty) is None


def test_subdivision_lists_stay_aligned_when_a_value_is_missing(tmp_path: Path) -> None:
    record = {"subdivisions": [{"geoname_id": 1, "names": {"en": "One"}}, {"iso_code": "TW", "geoname_id": 2}]}
    _write_db(tmp_path / "db.mmdb", {"1.0.0.0/8": record})
    found = GeoDatabase.open(tmp_path / "db.mmdb").lookup("1.1.1.1")
    assert found is not None
    assert GEO_FIELDS["subdivisionCodes"][1](found) == [None, "TW"]
    assert GEO_FIELDS["subdivisionNames"][1](found) == ["One", None]
    assert GEO_FIELDS["mostSpecificSubdivisionCode"][1](found) == "TW"
    assert GEO_FIELDS["mostSpecificSubdivisionName"][1](found) is None


@pytest.mark.parametrize(
    ("address", "found"),
    [
        ("1.2.3.4", True),
        ("1.2.3.255", True),
        ("::ffff:1.2.3.4", True),  # IPv4-mapped: Java's InetAddress makes it an IPv4 address
        ("0:0:0:0:0:ffff:102:304", True),
        ("2001:db8:0:0:0:0:0:1", True),  # Java's uncompressed IPv6 text (remoteHost())
        ("1.2.4.4", False),
        ("10.0.0.1", False),
        ("::1", False),
        ("1.2.3", False),  # inet_aton shorthand: not an address literal for Java either
        ("1.2.3.4 ", False),
        ("", False),
        ("localhost", False),
        ("1.2.3.256", False),
        ("fe80::1%eth0", False),
    ],
)
def test_lookup(city_db: Path, address: str, found: bool) -> None:
    assert (GeoDatabase.open(city_db).lookup(address) is not None) is found


def test_ipv6_address_in_an_ipv4_database_is_not_found(tmp_path: Path) -> None:
    _write_db(tmp_path / "v4.mmdb", {"1.2.3.0/24": _city_record()}, ip_version=4)
    db = GeoDatabase.open(tmp_path / "v4.mmdb")
    assert db.lookup("1.2.3.4") is not None
    assert db.lookup("2001:db8::1") is None


def test_gzipped_database(city_db: Path, tmp_path: Path) -> None:
    gz = tmp_path / "GeoIP2-City-Test.mmdb.gz"
    gz.write_bytes(gzip.compress(city_db.read_bytes()))
    db = GeoDatabase.open(gz)
    assert _city_name(db) == "Bussum"
    assert db.path == gz


def test_metadata_for_a_database_age_metric(city_db: Path) -> None:
    before = time.time()
    db = GeoDatabase.open(city_db)
    assert before <= db.loaded_at <= time.time()
    assert abs(db.build_epoch - time.time()) < 3600


@pytest.mark.parametrize(
    ("content", "name", "cause"),
    [
        (None, "missing.mmdb", "No such file or directory"),
        (b"not a database at all" * 100, "corrupt.mmdb", "InvalidDatabaseError"),
        (b"", "empty.mmdb", "Error"),
        (b"\x1f\x8b\x08 broken gzip", "corrupt.mmdb.gz", "Error"),
        (gzip.compress(b"garbage" * 100), "garbage.mmdb.gz", "InvalidDatabaseError"),
    ],
)
def test_an_unusable_file_at_start_up_is_a_config_error(
    tmp_path: Path, content: bytes | None, name: str, cause: str
) -> None:
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(ConfigError) as caught:
        GeoDatabase.open(path)
    message = str(caught.value)
    assert message.startswith(f"{GEO_DATABASE_KEY} = '{path}': cannot load the GeoIP database (")
    assert cause in message


def test_a_truncated_database_is_a_config_error(city_db: Path) -> None:
    data = city_db.read_bytes()
    city_db.write_bytes(data[: len(data) // 2])
    with pytest.raises(ConfigError, match=GEO_DATABASE_KEY):
        GeoDatabase.open(city_db)


def test_a_directory_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="Is a directory"):
        GeoDatabase.open(tmp_path)


NOBODY = 65534
"""The unprivileged user of Debian and most Linux systems (``nobody``)."""


@contextlib.contextmanager
def unprivileged() -> Iterator[None]:
    """Run the block as an ordinary user: root (as in most containers) may read any file whatever its mode.

    Only the effective user id changes (the real one stays root), so the block's end can switch back.
    """
    if os.geteuid() != 0:
        yield
        return
    os.seteuid(NOBODY)
    try:
        yield
    finally:
        os.seteuid(0)


def test_an_unreadable_file_is_a_config_error() -> None:
    with tempfile.TemporaryDirectory() as folder:
        Path(folder).chmod(0o755)  # anyone may look inside: only the database's own mode stops the read
        path = Path(folder) / "GeoIP2-City-Test.mmdb"
        _write_db(path, {"1.2.3.0/24": _city_record()})
        path.chmod(0)
        with unprivileged(), pytest.raises(ConfigError, match="Permission denied") as caught:
            GeoDatabase.open(path)
        assert isinstance(caught.value.__cause__, PermissionError)
        assert str(path) in str(caught.value)


def test_a_non_city_database_loads_with_a_warning(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    _write_db(tmp_path / "asn.mmdb", {"1.0.0.0/8": {"autonomous_system_number": 1}}, database_type="GeoLite2-ASN")
    with caplog.at_level(logging.WARNING, logger="collector.enrich.geo"):
        db = GeoDatabase.open(tmp_path / "asn.mmdb")
    assert "not a City or Enterprise database" in caplog.text
    assert db.lookup("1.1.1.1") == {"autonomous_system_number": 1}


def test_reload_after_an_in_place_rewrite(city_db: Path) -> None:
    db = GeoDatabase.open(city_db, check_interval=3600)
    first_load = db.loaded_at
    inode = city_db.stat().st_ino
    _write_db(city_db, {"1.2.3.0/24": _city_named("Amsterdam, in place")})
    assert city_db.stat().st_ino == inode
    assert _city_name(db) == "Bussum"  # not checked again before the interval has passed
    assert db.refresh() is True
    assert _city_name(db) == "Amsterdam, in place"
    assert db.loaded_at >= first_load
    assert db.refresh() is False  # unchanged since


def test_reload_after_an_atomic_rename(city_db: Path, tmp_path: Path) -> None:
    db = GeoDatabase.open(city_db, check_interval=3600)
    replacement = tmp_path / "download.mmdb"
    _write_db(replacement, {"1.2.3.0/24": _city_named("Utrecht, renamed")})
    os.replace(replacement, city_db)
    assert db.refresh() is True
    assert _city_name(db) == "Utrecht, renamed"


def _wait_for_city(db: GeoDatabase, name: str) -> None:
    deadline = time.monotonic() + 10
    while _city_name(db) != name:
        assert time.monotonic() < deadline, f"the database was not reloaded (still {_city_name(db)!r})"
        time.sleep(0.01)


def test_lookups_notice_replacements_by_themselves(city_db: Path, tmp_path: Path) -> None:
    db = GeoDatabase.open(city_db, check_interval=0.05)
    _write_db(city_db, {"1.2.3.0/24": _city_named("Leiden, in place")})
    _wait_for_city(db, "Leiden, in place")
    replacement = tmp_path / "new.mmdb"
    _write_db(replacement, {"1.2.3.0/24": _city_named("Delft, renamed")})
    os.replace(replacement, city_db)
    _wait_for_city(db, "Delft, renamed")


def test_a_corrupt_replacement_keeps_the_database_in_use(city_db: Path, caplog: pytest.LogCaptureFixture) -> None:
    db = GeoDatabase.open(city_db, check_interval=3600)
    loaded_at = db.loaded_at
    with caplog.at_level(logging.ERROR, logger="collector.enrich.geo"):
        city_db.write_bytes(b"half a download")
        for _ in range(3):
            assert db.refresh() is False
            assert _city_name(db) == "Bussum"
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 1  # once per problem, not on every check
    assert "cannot load the replaced GeoIP database" in errors[0].getMessage()
    assert db.loaded_at == loaded_at
    _write_db(city_db, {"1.2.3.0/24": _city_named("Haarlem, fixed")})
    assert db.refresh() is True
    assert _city_name(db) == "Haarlem, fixed"


def test_a_corrupt_replacement_noticed_by_lookups_keeps_the_database(city_db: Path) -> None:
    db = GeoDatabase.open(city_db, check_interval=0.01)
    city_db.write_bytes(b"\x00" * 5000)
    deadline = time.monotonic() + 1
    while time.monotonic() < deadline:
        assert _city_name(db) == "Bussum"
        time.sleep(0.005)


def test_a_removed_file_keeps_the_database_in_use(city_db: Path, caplog: pytest.LogCaptureFixture) -> None:
    db = GeoDatabase.open(city_db, check_interval=0)
    city_db.unlink()
    with caplog.at_level(logging.ERROR, logger="collector.enrich.geo"):
        for _ in range(3):
            assert _city_name(db) == "Bussum"
            assert db.refresh() is False
    assert len([r for r in caplog.records if r.levelno == logging.ERROR]) == 1
    _write_db(city_db, {"1.2.3.0/24": _city_named("Zwolle, back")})
    assert db.refresh() is True
    assert _city_name(db) == "Zwolle, back"


def test_close(city_db: Path) -> None:
    db = GeoDatabase.open(city_db)
    db.close()
    assert db.lookup("1.2.3.4") is None
    assert db.refresh() is False


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self/maps")
def test_replaced_databases_are_released(city_db: Path) -> None:
    def mapped_copies() -> int:
        return Path("/proc/self/maps").read_text().count("ip2geo-database")

    db = GeoDatabase.open(city_db, check_interval=3600)
    for generation in range(5):
        _write_db(city_db, {"1.2.3.0/24": _city_named(f"generation {generation}" + "!" * generation)})
        assert db.refresh() is True
    assert mapped_copies() <= 1


def test_records_are_not_shared_between_lookups(city_db: Path) -> None:
    db = GeoDatabase.open(city_db)
    first = db.lookup("1.2.3.4")
    assert first is not None
    pristine = copy.deepcopy(first)
    first["city"]["names"]["en"] = "changed by a caller"
    assert db.lookup("1.2.3.4") == pristine
