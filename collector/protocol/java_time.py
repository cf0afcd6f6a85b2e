"""Java's ``DateTimeFormatter.ISO_OFFSET_DATE_TIME`` parse and ``Instant.toEpochMilli``, as Divolte's JSON source
reads ``client_timestamp_iso`` (JDK 17 rules).

Accepted: ``yyyy-MM-ddTHH:mm[:ss[.fraction]]`` and an offset, letters in either case (``t``, ``z``). The year
has four digits, or more (up to ten, at most 999,999,999) with a sign: ``0000``, ``-0001``, ``+10000``,
``+292278994``; a ``+`` before four digits, five digits without a sign and ``-0000`` are refused. The fraction
has zero to nine digits after a ``.`` (``39.`` is a whole second); ten digits or a comma are refused. The
offset is ``Z``, or ``+hh``, ``+hh:mm`` or ``+hh:mm:ss`` (two digits each, at most 18:00): ``+0200`` and
``+19:00`` are refused. Fields are checked strictly (no 24:00, no leap second, no 30 February); week dates,
ordinal dates and the basic format (``20160824T132939Z``) are refused.

The result is the epoch millisecond, rounded down, as ``Instant.toEpochMilli``; an instant that does not fit
in a Java long (after ``+292278994-08-17T07:12:55.807Z``, before ``-292275055-05-16T16:47:04.192Z``) is
refused, as ``toEpochMilli`` throws there. Computed with integers, so years outside Python's ``datetime``
range work too.
"""

from __future__ import annotations

import re
from datetime import datetime

_ISO_OFFSET_DATE_TIME = re.compile(
    r"([+-]?[0-9]{4,10})-([0-9]{2})-([0-9]{2})[Tt]([0-9]{2}):([0-9]{2})(?::([0-9]{2})(?:\.([0-9]{0,9}))?)?"
    r"(?:[Zz]|([+-])([0-9]{2})(?::([0-9]{2})(?::([0-9]{2}))?)?)\Z"
)
"""Year, month, day, hour, minute, second, fraction; offset sign, hours, minutes, seconds."""
_COMMON = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]{1,9})?"
    r"(?:Z|[+-](?:(?:0[0-9]|1[0-7]):[0-5][0-9]|18:00))"
)
"""The form nearly every client sends, where Python's ``fromisoformat`` computes what Java does."""
_common_form = _COMMON.fullmatch
_from_iso = datetime.fromisoformat
_epoch_in = datetime.fromtimestamp
_MAX_YEAR = 999_999_999
_LONG_MIN, _LONG_MAX = -(2**63), 2**63 - 1
_DAYS_BEFORE_MONTH = (0, 0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334)
_DAYS_IN_MONTH = (0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


class TimestampError(ValueError):
    """Java refuses the timestamp (``DateTimeParseException``) or its millisecond (``ArithmeticException``)."""


def _is_leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def _epoch_day(year: int, month: int, day: int) -> int:
    """Days from 1970-01-01 to a proleptic Gregorian date (any year; Python's ``//`` floors as needed)."""
    before = year - 1
    days = 365 * before + before // 4 - before // 100 + before // 400  # days from 0001-01-01 to this year
    days += _DAYS_BEFORE_MONTH[month] + (1 if month > 2 and _is_leap(year) else 0) + day - 1
    return days - 719_162  # 0001-01-01 to 1970-01-01


def _year(text: str) -> int:
    digits = text.lstrip("+-")
    if text[0] == "+" and len(digits) <= 4:
        raise TimestampError("a '+' before the year needs more than four digits")
    if text[0] not in "+-" and len(digits) > 4:
        raise TimestampError("a year of more than four digits needs a sign")
    year = int(text)
    if text[0] == "-" and year == 0:
        raise TimestampError("the year -0000 does not exist")
    if abs(year) > _MAX_YEAR:
        raise TimestampError(f"year {year} is outside -999999999..999999999")
    return year


def epoch_millis(text: str) -> int:
    """Milliseconds since the epoch of ``text``; ``TimestampError`` says why Java refuses it."""
    if _common_form(text) is not None:
        try:
            moment = _from_iso(text)
        except ValueError:
            pass  # year 0000, or a field out of range: the exact rules below decide
        else:
            delta = moment - _epoch_in(0, moment.tzinfo)
            return (delta.days * 86_400 + delta.seconds) * 1000 + delta.microseconds // 1000
    return _java_epoch_millis(text)


def _java_epoch_millis(text: str) -> int:
    match = _ISO_OFFSET_DATE_TIME.match(text)
    if match is None:
        raise TimestampError(f"{text!r} is not an ISO-8601 date-time with an offset, such as 2016-08-24T13:29:39Z")
    year_text, month_text, day_text, hour_text, minute_text, second_text, fraction, sign, *offset_texts = match.groups()
    year = int(year_text) if len(year_text) == 4 else _year(year_text)
    month, day = int(month_text), int(day_text)
    hour, minute, second = int(hour_text), int(minute_text), int(second_text or 0)
    if not 1 <= month <= 12:
        raise TimestampError(f"month {month} is outside 1..12")
    days_in_month = 29 if month == 2 and _is_leap(year) else _DAYS_IN_MONTH[month]
    if not 1 <= day <= days_in_month:
        raise TimestampError(f"day {day} is outside 1..{days_in_month} for {year}-{month:02d}")
    if hour > 23 or minute > 59 or second > 59:
        raise TimestampError(f"time {hour:02d}:{minute:02d}:{second:02d} is outside 00:00:00..23:59:59")
    offset = 0
    if sign:
        offset_hours, offset_minutes, offset_seconds = (int(text or 0) for text in offset_texts)
        offset = offset_hours * 3600 + offset_minutes * 60 + offset_seconds
        if offset_hours > 18 or offset_minutes > 59 or offset_seconds > 59 or offset > 18 * 3600:
            raise TimestampError("the offset is outside -18:00..+18:00")
        offset = -offset if sign == "-" else offset
    seconds = _epoch_day(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second - offset
    millis = seconds * 1000 + (int(fraction[:3].ljust(3, "0")) if fraction else 0)
    if not _LONG_MIN <= millis <= _LONG_MAX:
        raise TimestampError("the instant does not fit in epoch milliseconds (a Java long)")
    return millis
