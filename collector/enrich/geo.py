"""Look up IP addresses in a MaxMind City database, and reload it when the file is replaced (SPEC §7.2).

``divolte.global.mapper.ip2geo_database`` names a City (or Enterprise) ``.mmdb`` file, or a gzipped one
(``.gz``). Mappings read Divolte's sub-values of a lookup (``ip2geo().cityName()``, ...) through
``GEO_FIELDS``, which names each sub-value's type for the start-up type check and extracts it from the
MaxMind record.

Why the database is copied into memory before it is memory-mapped: ``maxminddb``'s C reader maps the file,
and a map of a file that is rewritten in place (``cp new.mmdb GeoLite2-City.mmdb`` truncates it first) makes
the next lookup touch pages that no longer exist, which kills the process with SIGBUS; Java turns the same
fault into an exception, Python cannot. So the file (or the gunzipped ``.gz``) is copied into an anonymous
in-memory file (``memfd``) and the C reader maps that copy: lookups stay at C speed, and whatever happens to
the file on disk, a loaded database never changes under a lookup. The cost is one private copy per process
(about 70 MB for GeoLite2-City).

Reloading: Divolte watches the directory for modifications of the file. Here a lookup stats the path at most
once every ``check_interval`` seconds and compares device, inode, size and modification time, which notices
both an in-place rewrite and an atomic rename (``mv new.mmdb GeoLite2-City.mmdb``) on every platform. A
change is loaded in a background thread, so the event loop does not stall for the copy (and the gunzip), and
the new reader replaces the old one in a single assignment; a lookup in progress keeps the reader it
started with. A replacement that cannot be loaded (half-written, corrupt, removed) leaves the loaded
database in use and is logged once per distinct problem.
"""

from __future__ import annotations

import gzip
import io
import ipaddress
import logging
import os
import shutil
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import maxminddb

from collector.errors import ConfigError
from collector.supervise import failure

logger = logging.getLogger(__name__)

GEO_DATABASE_KEY = "divolte.global.mapper.ip2geo_database"

GeoRecord = Mapping[str, Any]
"""A MaxMind DB record as ``maxminddb`` returns it (``{"city": {"geoname_id": …, "names": {"en": …}}, …}``)."""

_Signature = tuple[int, int, int, int]
"""Device, inode, size and modification time (ns) of the database file: it changes whenever the file does."""


def _part(section: str, key: str) -> Callable[[GeoRecord], Any]:
    """Extract ``record[section][key]``; absent when either is missing."""

    def extract(record: GeoRecord) -> Any:
        part = record.get(section)
        return part.get(key) if part else None

    return extract


def _name(section: str) -> Callable[[GeoRecord], Any]:
    """Extract the English name of ``record[section]``, as GeoIP2's ``getName()`` with the default locale."""

    def extract(record: GeoRecord) -> Any:
        part = record.get(section)
        names = part.get("names") if part else None
        return names.get("en") if names else None

    return extract


def _most_specific(key: str, *, name: bool = False) -> Callable[[GeoRecord], Any]:
    """Extract from the last (most specific) subdivision; absent when there is none."""

    def extract(record: GeoRecord) -> Any:
        subdivisions = record.get("subdivisions")
        if not subdivisions:
            return None
        last = subdivisions[-1]
        return (last.get("names") or {}).get("en") if name else last.get(key)

    return extract


def _each_subdivision(key: str, *, name: bool = False) -> Callable[[GeoRecord], Any]:
    """Extract one value per subdivision, in order; GeoIP2 gives an empty list (present) when there are none.

    A subdivision lacking the value gives ``None`` in its place, as Java's list holds null there, so that the
    codes, ids and names lists stay aligned.
    """

    def extract(record: GeoRecord) -> Any:
        subdivisions = record.get("subdivisions") or ()
        if name:
            return [(s.get("names") or {}).get("en") for s in subdivisions]
        return [s.get(key) for s in subdivisions]

    return extract


def _trait_flag(key: str) -> Callable[[GeoRecord], Any]:
    """A boolean trait: GeoIP2's primitive getter is false when the database does not say."""

    def extract(record: GeoRecord) -> Any:
        traits = record.get("traits")
        return bool(traits.get(key, False)) if traits else False

    return extract


GEO_FIELDS: dict[str, tuple[Any, Callable[[GeoRecord], Any]]] = {
    "cityId": (int, _part("city", "geoname_id")),
    "cityName": (str, _name("city")),
    "continentCode": (str, _part("continent", "code")),
    "continentId": (int, _part("continent", "geoname_id")),
    "continentName": (str, _name("continent")),
    "countryCode": (str, _part("country", "iso_code")),
    "countryId": (int, _part("country", "geoname_id")),
    "countryName": (str, _name("country")),
    "latitude": (float, _part("location", "latitude")),
    "longitude": (float, _part("location", "longitude")),
    "metroCode": (int, _part("location", "metro_code")),
    "timeZone": (str, _part("location", "time_zone")),
    "mostSpecificSubdivisionCode": (str, _most_specific("iso_code")),
    "mostSpecificSubdivisionId": (int, _most_specific("geoname_id")),
    "mostSpecificSubdivisionName": (str, _most_specific("names", name=True)),
    "postalCode": (str, _part("postal", "code")),
    "registeredCountryCode": (str, _part("registered_country", "iso_code")),
    "registeredCountryId": (int, _part("registered_country", "geoname_id")),
    "registeredCountryName": (str, _name("registered_country")),
    "representedCountryCode": (str, _part("represented_country", "iso_code")),
    "representedCountryId": (int, _part("represented_country", "geoname_id")),
    "representedCountryName": (str, _name("represented_country")),
    "subdivisionCodes": (list[str], _each_subdivision("iso_code")),
    "subdivisionIds": (list[int], _each_subdivision("geoname_id")),
    "subdivisionNames": (list[str], _each_subdivision("names", name=True)),
    "autonomousSystemNumber": (int, _part("traits", "autonomous_system_number")),
    "autonomousSystemOrganization": (str, _part("traits", "autonomous_system_organization")),
    "domain": (str, _part("traits", "domain")),
    "isp": (str, _part("traits", "isp")),
    "organisation": (str, _part("traits", "organization")),
    "anonymousProxy": (bool, _trait_flag("is_anonymous_proxy")),
    "satelliteProvider": (bool, _trait_flag("is_satellite_provider")),
}
"""Divolte's GeoIP sub-values (SPEC §6.3): name → (value type, extractor from a record; ``None`` is absent).

Types follow Divolte's code, not its documentation: ``metroCode`` is an int, ``subdivisionIds`` a list of
ints. The last seven are only filled by ISP and Enterprise databases.
"""


def _signature(stat: os.stat_result) -> _Signature:
    return (stat.st_dev, stat.st_ino, stat.st_size, stat.st_mtime_ns)


def _open_reader(path: Path) -> tuple[maxminddb.Reader, _Signature]:
    """Load the database at ``path`` (gunzipping ``.gz``) into a private in-memory copy and open it.

    The signature comes from the open file itself, so it describes exactly the content that was read.
    """
    with path.open("rb") as file:
        signature = _signature(os.fstat(file.fileno()))
        source: io.BufferedIOBase = gzip.GzipFile(fileobj=file) if path.name.endswith(".gz") else file
        if not hasattr(os, "memfd_create"):  # not Linux: the pure-Python reader on an in-memory copy
            return maxminddb.open_database(io.BytesIO(source.read()), maxminddb.MODE_FD), signature
        copy_fd = os.memfd_create("ip2geo-database", os.MFD_CLOEXEC)
        try:
            with open(copy_fd, "wb", closefd=False) as copy:
                shutil.copyfileobj(source, copy, 1 << 20)
            # The reader opens the copy by path and maps it; the map outlives our descriptor.
            reader = maxminddb.open_database(f"/proc/self/fd/{copy_fd}", maxminddb.MODE_AUTO)
        finally:
            os.close(copy_fd)
    return reader, signature


def _database_type(reader: maxminddb.Reader) -> str:
    return str(reader.metadata().database_type)


class GeoDatabase:
    """A loaded GeoIP database: ``lookup(address)`` gives the MaxMind record, or ``None``.

    Create it with ``GeoDatabase.open(path)``. ``loaded_at`` (epoch seconds) is when the database in use
    was loaded and ``build_epoch`` when MaxMind built it, for a database-age metric.
    """

    def __init__(self, path: Path, reader: maxminddb.Reader, signature: _Signature, check_interval: float) -> None:
        self.path = path
        self.check_interval = check_interval
        self._reader = reader
        self._signature = signature
        self._failed: _Signature | None = None
        self._last_problem = ""
        self._next_check = time.monotonic() + check_interval
        self._lock = threading.Lock()
        self._closed = False
        self.loaded_at = time.time()
        self.build_epoch = int(reader.metadata().build_epoch)

    @classmethod
    def open(cls, path: str | os.PathLike[str], *, check_interval: float = 5.0) -> GeoDatabase:
        """Load the database, or raise ``ConfigError`` naming the setting, the path and what is wrong."""
        location = Path(path)
        try:
            reader, signature = _open_reader(location)
        except Exception as exc:  # any failure to read or parse the file means it cannot be used
            raise ConfigError(
                f"{GEO_DATABASE_KEY} = '{location}': cannot load the GeoIP database ({_cause(exc)}). "
                "Point it at a readable MaxMind City database (.mmdb, or .mmdb.gz)."
            ) from exc
        _warn_unless_city(reader, location)
        return cls(location, reader, signature, check_interval)

    def lookup(self, address: str) -> GeoRecord | None:
        """The record for an IPv4 or IPv6 literal; ``None`` if not in the database or not an address.

        An IPv4-mapped IPv6 address is looked up as IPv4, as Java's ``InetAddress`` treats it. Private
        addresses are looked up like any other; real databases have no records for them.
        """
        if time.monotonic() >= self._next_check:
            self._poll()
        try:
            ip = ipaddress.ip_address(address)
            if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
                ip = ip.ipv4_mapped
            record = self._reader.get(ip)
        except (ValueError, TypeError, maxminddb.InvalidDatabaseError):
            # Not an address, IPv6 in an IPv4-only database, a damaged data section, or a closed reader.
            return None
        return record if isinstance(record, dict) else None

    def refresh(self) -> bool:
        """Load the file now if it changed since the database in use was loaded; True if one was loaded.

        Lookups call this in the background every ``check_interval`` seconds; tests and operators may call
        it directly. A file that cannot be loaded keeps the current database and is logged as an error.
        """
        with self._lock:
            try:
                current = _signature(os.stat(self.path))
            except OSError as exc:
                self._report(f"cannot read {self.path} ({_cause(exc)}); keeping the database loaded earlier")
                return False
            if current in (self._signature, self._failed) or self._closed:
                return False
            try:
                reader, signature = _open_reader(self.path)
            except Exception as exc:  # a half-written or corrupt replacement must never stop the collector
                self._failed = current
                self._report(
                    f"cannot load the replaced GeoIP database {self.path} ({_cause(exc)}); "
                    "keeping the database loaded earlier"
                )
                return False
            _warn_unless_city(reader, self.path)
            self._reader, self._signature, self._failed, self._last_problem = reader, signature, None, ""
            self.loaded_at = time.time()
            self.build_epoch = int(reader.metadata().build_epoch)
        logger.info("Reloaded the GeoIP database %s (built %s).", self.path, time.ctime(self.build_epoch))
        return True

    def close(self) -> None:
        """Stop reloading and release the database; lookups afterwards give ``None``."""
        with self._lock:
            self._closed = True
            self._reader.close()

    def _poll(self) -> None:
        """The cheap check lookups make: one ``stat``, and a background reload only if the file changed."""
        self._next_check = time.monotonic() + self.check_interval
        if self._lock.locked():  # a reload is already running
            return
        try:
            current = _signature(os.stat(self.path))
        except OSError as exc:
            self._report(f"cannot read {self.path} ({_cause(exc)}); keeping the database loaded earlier")
            return
        if current == self._signature:
            self._last_problem = ""  # the file is back as it was: report the next problem again
        elif current != self._failed:
            threading.Thread(target=self._refresh_in_background, name="ip2geo-reload", daemon=True).start()

    def _refresh_in_background(self) -> None:
        try:
            self.refresh()
        except Exception as exc:  # refresh() handles the expected failures; anything else is logged and counted
            failure("geoip-reload", exc, f"could not reload {self.path} (the database loaded earlier stays in use)")

    def _report(self, problem: str) -> None:
        """Log a reload problem once, not on every check, until it changes or a reload succeeds."""
        if problem != self._last_problem:
            self._last_problem = problem
            logger.error("GeoIP database: %s.", problem)


def _cause(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


def _warn_unless_city(reader: maxminddb.Reader, path: Path) -> None:
    """Divolte asks for City records; another kind of database loads but gives few or no sub-values."""
    kind = _database_type(reader)
    if "City" not in kind and "Enterprise" not in kind:
        logger.warning(
            "GeoIP database %s is of type '%s', not a City or Enterprise database; most ip2geo() "
            "values will be absent.",
            path,
            kind,
        )
