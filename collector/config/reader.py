"""Typed reads of one configuration section that record problems instead of stopping at the first.

A ``Section`` wraps the mapping found at a key path (``divolte.global.server``). Each accessor names the key
it reads, checks and converts the value the way Divolte's Jackson mapping does (numbers and booleans may be
strings, as environment substitutions always are), and on a bad value records a problem naming the full key
path and returns the default, so that loading can go on and report everything at once. The keys read are
the keys allowed: ``finish()`` reports any other key as unknown, listing the allowed ones.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from datetime import timedelta

JAVA_INT_MAX = 2**31 - 1

_NANOS_PER_UNIT = {
    "ns": 1, "nanos": 1, "nanoseconds": 1,
    "us": 1_000, "micros": 1_000, "microseconds": 1_000,
    "": 1_000_000, "ms": 1_000_000, "millis": 1_000_000, "milliseconds": 1_000_000,
    "s": 10**9, "seconds": 10**9,
    "m": 60 * 10**9, "minutes": 60 * 10**9,
    "h": 3600 * 10**9, "hours": 3600 * 10**9,
    "d": 86400 * 10**9, "days": 86400 * 10**9,
}  # fmt: skip
_DECIMAL = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
_TRUE_FALSE = {"true": True, "false": False}


def parse_duration(text: str) -> float:
    """Seconds in a Divolte duration string (``30 seconds``, ``750ms``, ``1.5 h``; no unit means ms).

    Units are case-sensitive and, when longer than two letters, may be singular (``1 second``). Raises
    ``ValueError`` with Divolte's wording.
    """
    stripped = text.strip()
    unit_start = len(stripped)
    while unit_start > 0 and stripped[unit_start - 1].isalpha():
        unit_start -= 1
    number, unit = stripped[:unit_start].strip(), stripped[unit_start:]
    if not number:
        raise ValueError(f"No number in duration value '{text}'")
    canonical = unit + "s" if len(unit) > 2 and not unit.endswith("s") else unit
    nanos_per_unit = _NANOS_PER_UNIT.get(canonical)
    if nanos_per_unit is None:
        raise ValueError(f"Could not parse time unit '{unit}' (try ns, us, ms, s, m, h, d)")
    if number.isascii() and number.isdigit():
        return int(number) * nanos_per_unit / 1e9
    if not _DECIMAL.fullmatch(number):
        raise ValueError(f"Could not parse duration number '{number}'")
    return int(float(number) * nanos_per_unit) / 1e9


def describe(value: object) -> str:
    """A found value as a message shows it: strings quoted, ``null``, ``true``, or the kind of container."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, Mapping):
        return "an object"
    if isinstance(value, list):
        return "a list"
    seconds = _period_seconds(value)
    # pyhocon gives timedelta or, with python-dateutil installed, relativedelta: render both the same way.
    return f"a duration ({seconds:g} seconds)" if seconds is not None else repr(value)


def _period_seconds(value: object) -> float | None:
    """Seconds in a duration pyhocon parsed itself (unquoted ``30 seconds``): timedelta or relativedelta."""
    if isinstance(value, timedelta):
        return value.total_seconds()
    parts = ("years", "months", "days", "hours", "minutes", "seconds", "microseconds")
    if not all(isinstance(getattr(value, part, None), int) for part in parts):
        return None
    if getattr(value, "years") or getattr(value, "months"):  # noqa: B009 - duck-typed relativedelta
        raise ValueError("months and years are not duration units (try ns, us, ms, s, m, h, d)")
    return float(
        getattr(value, "days") * 86400  # noqa: B009
        + getattr(value, "hours") * 3600  # noqa: B009
        + getattr(value, "minutes") * 60  # noqa: B009
        + getattr(value, "seconds")  # noqa: B009
        + getattr(value, "microseconds") / 1e6  # noqa: B009
    )


class Section:
    """The mapping at one key path, read key by key; problems go to the shared ``problems`` list."""

    def __init__(self, path: str, data: Mapping[str, object], problems: list[str]) -> None:
        self.path = path
        self.data = data
        self.problems = problems
        self._allowed: list[str] = []

    # --- structure -----------------------------------------------------------------------------------

    def key(self, name: str) -> str:
        return f"{self.path}.{name}"

    def problem(self, name: str, message: str) -> None:
        self.problems.append(f"{self.key(name)}: {message}")

    def _get(self, name: str) -> object:
        if name not in self._allowed:
            self._allowed.append(name)
        return self.data.get(name)

    def section(self, name: str) -> Section:
        """The object at ``name`` (an empty one when absent or null)."""
        value = self._get(name)
        if value is not None and not isinstance(value, Mapping):
            self.problem(name, f"expected an object ({{ ... }}), found {describe(value)}")
            value = None
        return Section(self.key(name), value or {}, self.problems)

    def entries(self, name: str) -> dict[str, Section] | None:
        """Named entries (``sources.<name> { ... }``); None when the whole section is absent."""
        value = self._get(name)
        if value is None:
            return None
        if not isinstance(value, Mapping):
            self.problem(name, f"expected an object of named entries, found {describe(value)}")
            return {}
        result: dict[str, Section] = {}
        for entry, body in value.items():
            if isinstance(body, Mapping):
                result[entry] = Section(f"{self.key(name)}.{entry}", body, self.problems)
            else:
                self.problems.append(f"{self.key(name)}.{entry}: expected an object, found {describe(body)}")
        return result

    def finish(self) -> None:
        """Report every key that no accessor read: Divolte refuses unknown keys (typos would go unnoticed)."""
        for name in self.data:
            if name not in self._allowed:
                allowed = ", ".join(self._allowed) or "(none)"
                self.problem(name, f"unknown key; the keys allowed in {self.path} are: {allowed}")

    # --- scalars -------------------------------------------------------------------------------------

    def string(self, name: str, default: str) -> str:
        value = self.optional_string(name)
        return default if value is None else value

    def optional_string(self, name: str) -> str | None:
        value = self._get(name)
        if value is None or isinstance(value, str):
            return value
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, int | float):
            return str(value)
        hint = "; put the value in quotes" if _is_period(value) else ""
        self.problem(name, f"expected a string, found {describe(value)}{hint}")
        return None

    def boolean(self, name: str, default: bool) -> bool:
        value = self._get(name)
        if value is None:
            return default
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in _TRUE_FALSE:
            return _TRUE_FALSE[value.strip().lower()]
        self.problem(name, f"expected a boolean (true or false), found {describe(value)}")
        return default

    def integer(self, name: str, default: int, *, minimum: int = 1, maximum: int = JAVA_INT_MAX) -> int:
        value = self.optional_integer(name, minimum=minimum, maximum=maximum)
        return default if value is None else value

    def optional_integer(self, name: str, *, minimum: int = 1, maximum: int = JAVA_INT_MAX) -> int | None:
        value = self._get(name)
        if value is None:
            return None
        number: int | None = None
        if isinstance(value, int) and not isinstance(value, bool):
            number = value
        elif isinstance(value, float) and value.is_integer():
            number = int(value)
        elif isinstance(value, str) and re.fullmatch(r"[+-]?\d+", value.strip()):
            number = int(value.strip())
        if number is None:
            self.problem(name, f"expected an integer, found {describe(value)}")
            return None
        if not minimum <= number <= maximum:
            self.problem(name, f"must be between {minimum} and {maximum}, found {number}")
            return None
        return number

    def number(self, name: str, default: float, *, minimum: float = 0.0, maximum: float = math.inf) -> float:
        value = self.optional_number(name, minimum=minimum, maximum=maximum)
        return default if value is None else value

    def optional_number(self, name: str, *, minimum: float = 0.0, maximum: float = math.inf) -> float | None:
        value = self._get(name)
        if value is None:
            return None
        number: float | None = None
        if isinstance(value, int | float) and not isinstance(value, bool):
            number = float(value)
        elif isinstance(value, str) and _DECIMAL.fullmatch(value.strip()):
            number = float(value.strip())
        if number is None:
            self.problem(name, f"expected a number, found {describe(value)}")
            return None
        if not minimum <= number <= maximum:
            bounds = f"at least {minimum:g}" if maximum == math.inf else f"between {minimum:g} and {maximum:g}"
            self.problem(name, f"must be {bounds}, found {number:g}")
            return None
        return number

    def duration(self, name: str, default: float) -> float:
        value = self.optional_duration(name)
        return default if value is None else value

    def optional_duration(self, name: str) -> float | None:
        """Seconds; the value must be a duration string such as ``"30 seconds"``, as in Divolte."""
        value = self._get(name)
        if value is None:
            return None
        try:
            if isinstance(value, str):
                seconds = parse_duration(value)
            else:
                period = _period_seconds(value)
                if period is None:
                    raise ValueError(
                        f'expected a duration such as "30 seconds" or "750 ms", found {describe(value)}'
                        + ("; a bare number is not accepted, add a unit" if isinstance(value, int | float) else "")
                    )
                seconds = period
        except ValueError as exc:
            self.problem(name, str(exc))
            return None
        if seconds < 0:
            self.problem(name, f"must not be negative, found {describe(value)}")
            return None
        return seconds

    def choice(self, name: str, default: str, allowed: Sequence[str], *, ignore_case: bool = False) -> str:
        """One of ``allowed`` (Divolte's enum names); ``ignore_case`` where Divolte ignores case."""
        value = self._get(name)
        if value is None:
            return default
        match = None
        if isinstance(value, str):
            wanted = value.strip().lower() if ignore_case else value
            match = next((a for a in allowed if (a.lower() if ignore_case else a) == wanted), None)
        if match is None:
            self.problem(name, f"{describe(value)} is not one of: {', '.join(allowed)}")
            return default
        return match

    # --- collections ---------------------------------------------------------------------------------

    def names(self, name: str, what: str) -> tuple[str, ...]:
        """A required list of names (``sources = [browser]``), duplicates dropped as Divolte's sets do."""
        value = self._get(name)
        if value is None:
            self.problem(name, f"missing; list the {what} by name, e.g. {name} = [{what[:-1]}-name]")
            return ()
        items = [_property_text(item) for item in value] if isinstance(value, list) else [None]
        if any(item is None for item in items):
            self.problem(name, f"expected a list of {what} names, found {describe(value)}")
            return ()
        return tuple(dict.fromkeys(item for item in items if item is not None))

    def string_list(self, name: str) -> tuple[str, ...]:
        """An optional list of strings (``cors_allowed_origins = ["https://a.example"]``); empty when absent."""
        value = self._get(name)
        if value is None:
            return ()
        items = [_property_text(item) for item in value] if isinstance(value, list) else [None]
        if any(item is None for item in items):
            self.problem(name, f"expected a list of strings, found {describe(value)}")
            return ()
        return tuple(item for item in items if item is not None)

    def properties(self, name: str) -> dict[str, str] | None:
        """A free-form properties block, flattened as Divolte does: nested keys joined with ``.``, lists
        with ``,``. None when absent."""
        value = self._get(name)
        if value is None:
            return None
        if not isinstance(value, Mapping):
            self.problem(name, f"expected an object of properties, found {describe(value)}")
            return None
        flat: dict[str, str] = {}
        self._flatten(self.key(name), "", value, flat)
        return flat

    def _flatten(self, path: str, prefix: str, block: Mapping[str, object], flat: dict[str, str]) -> None:
        for key, value in block.items():
            dotted = f"{prefix}{key}"
            if isinstance(value, Mapping):
                self._flatten(path, f"{dotted}.", value, flat)
            elif isinstance(value, list):
                items = [_property_text(item) for item in value]
                if any(item is None for item in items):
                    self.problems.append(
                        f"{path}.{dotted}: a list in properties may hold only strings, numbers and booleans"
                    )
                    continue
                flat[dotted] = ",".join(item for item in items if item is not None)
            else:
                text = _property_text(value)
                if text is None:
                    self.problems.append(
                        f"{path}.{dotted}: {describe(value)} is not allowed in properties; "
                        "give a string, number or boolean, or remove the key"
                    )
                    continue
                flat[dotted] = text


def _property_text(value: object) -> str | None:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float):
        return str(value)
    return None


def _is_period(value: object) -> bool:
    try:
        return _period_seconds(value) is not None
    except ValueError:
        return True
