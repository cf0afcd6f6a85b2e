"""parse … to int32/int64/fp32/fp64/bool with Guava's and Java's rules, and Java's double formatting."""

from __future__ import annotations

import math
import struct
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from collector.mapping.java.numbers import (
    java_double_to_string,
    parse_bool,
    parse_fp32,
    parse_fp64,
    parse_int32,
    parse_int64,
)


@pytest.mark.parametrize(
    ("text", "int32", "int64"),
    [
        ("0", 0, 0),
        ("-0", 0, 0),
        ("42", 42, 42),
        ("-42", -42, -42),
        ("007", 7, 7),
        ("0" * 5000 + "1", 1, 1),
        ("2147483647", 2**31 - 1, 2**31 - 1),
        ("-2147483648", -(2**31), -(2**31)),
        ("2147483648", None, 2**31),
        ("-2147483649", None, -(2**31) - 1),
        ("9223372036854775807", None, 2**63 - 1),
        ("9223372036854775808", None, None),
        ("-9223372036854775808", None, -(2**63)),
        ("9" * 5000, None, None),
        ("+1", None, None),
        ("", None, None),
        ("-", None, None),
        ("--1", None, None),
        (" 1", None, None),
        ("1 ", None, None),
        ("1\n", None, None),
        ("1_000", None, None),
        ("1.0", None, None),
        ("1e3", None, None),
        ("0x10", None, None),
        ("\u0661", None, None),  # ARABIC-INDIC DIGIT ONE: Guava only takes ASCII digits
    ],
)
def test_integers(text: str, int32: int | None, int64: int | None) -> None:
    assert parse_int32(text) == int32
    assert parse_int64(text) == int64


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1", 1.0),
        ("-1.5", -1.5),
        ("+1.5", 1.5),
        ("1.", 1.0),
        (".5", 0.5),
        ("1e3", 1000.0),
        ("1E-3", 0.001),
        ("1.5e+2", 150.0),
        ("1f", 1.0),
        ("1.5D", 1.5),
        ("0x1.8p1", 3.0),
        ("0X.8P1", 1.0),
        ("-0x1p-2d", -0.25),
        ("1e400", math.inf),
        ("-1e400", -math.inf),
        ("1e-400", 0.0),
        ("Infinity", math.inf),
        ("-Infinity", -math.inf),
        ("+Infinity", math.inf),
        ("0x1p99999", math.inf),
        ("-0x1p99999", -math.inf),
        ("0x1p-99999", 0.0),
    ],
)
def test_doubles(text: str, expected: float) -> None:
    assert parse_fp64(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        ".",
        "e5",
        "1e",
        "1e+",
        "1.0.0",
        " 1.0",
        "1.0 ",
        "1_0.0",
        "inf",
        "nan",
        "infinity",
        "NaNf",
        "Infinityd",
        "0x1.8",  # hexadecimal floats need a binary exponent
        "0x",
        "1f5",
        "١.٥",
        "1,5",
    ],
)
def test_not_floating_point(text: str) -> None:
    assert parse_fp64(text) is None
    assert parse_fp32(text) is None


def test_nan() -> None:
    for text in ("NaN", "-NaN", "+NaN"):
        assert math.isnan(parse_fp64(text) or 0.0)
        assert math.isnan(parse_fp32(text) or 0.0)


def _float32_bits(value: float) -> int:
    return int(struct.unpack(">I", struct.pack(">f", value))[0])


def test_fp32_rounds_once_from_the_exact_decimal() -> None:
    one_ulp_up = struct.unpack(">f", struct.pack(">I", 0x3F800001))[0]
    # Just above the midpoint between 1.0f and the next float: the double is exactly the midpoint, so
    # double-then-float rounding would give 1.0f; Float.parseFloat gives the upper neighbour.
    assert parse_fp32("1.000000059604644775390625000000000001") == one_ulp_up
    assert parse_fp32("1.000000059604644775390624999999999999") == 1.0
    # Exactly the midpoint: ties to even.
    assert parse_fp32("1.000000059604644775390625") == 1.0
    assert parse_fp32("0x1.000001p0") == 1.0
    assert parse_fp32("0x1.0000010000000000001p0") == one_ulp_up


def test_fp32_limits() -> None:
    assert parse_fp32("3.4028235e38") == struct.unpack(">f", b"\x7f\x7f\xff\xff")[0]
    assert parse_fp32("3.4028236e38") == math.inf
    assert parse_fp32("-1e39") == -math.inf
    assert parse_fp32("1.4e-45") == struct.unpack(">f", b"\x00\x00\x00\x01")[0]
    assert parse_fp32("1e-46") == 0.0
    assert parse_fp32("0.1") == struct.unpack(">f", struct.pack(">f", 0.1))[0]
    # Just below the point where float rounding overflows.
    assert parse_fp32("340282356779733661637539395458142568447.99") == struct.unpack(">f", b"\x7f\x7f\xff\xff")[0]
    assert parse_fp32("340282356779733661637539395458142568448") == math.inf


@pytest.mark.parametrize(
    ("text", "expected"),
    [("true", True), ("TRUE", True), ("tRuE", True), ("false", False), ("yes", False), ("", False), (" true", False)],
)
def test_bool(text: str, expected: bool) -> None:
    assert parse_bool(text) is expected


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (0.0, "0.0"),
        (-0.0, "-0.0"),
        (1.0, "1.0"),
        (-2.5, "-2.5"),
        (123.0, "123.0"),
        (1.23, "1.23"),
        (0.001, "0.001"),
        (0.000999, "9.99E-4"),
        (9999999.0, "9999999.0"),
        (1e7, "1.0E7"),
        (12345678.9, "1.23456789E7"),
        (1e20, "1.0E20"),
        (1.5e-5, "1.5E-5"),
        (5e-324, "4.9E-324"),
        # JDK 8 to 18 print integral doubles from 2**53 to 2**63 through long arithmetic.
        (74851412993393696.0, "7.4851412993393696E16"),
        (2.2813760842896033e18, "2.28137608428960333E18"),
        (2.0**62, "4.6116860184273879E18"),
        (9007199254740994.0, "9.007199254740994E15"),
        (1.7976931348623157e308, "1.7976931348623157E308"),
        (math.inf, "Infinity"),
        (-math.inf, "-Infinity"),
        (math.nan, "NaN"),
    ],
)
def test_java_double_to_string(value: float, text: str) -> None:
    assert java_double_to_string(value) == text


def _nearest_float32(exact: Fraction) -> float:
    """Oracle: round an exact value to the nearest float by brute force over the candidate neighbours."""
    approx = float(exact)
    try:
        bits = _float32_bits(approx)
    except OverflowError:
        return math.copysign(math.inf, approx)
    candidates: list[float] = []
    for delta in (-2, -1, 0, 1, 2):
        candidate_bits = (bits & 0x7FFFFFFF) + delta
        if 0 <= candidate_bits <= 0x7F800000:
            value = struct.unpack(">f", struct.pack(">I", candidate_bits | (bits & 0x80000000)))[0]
            candidates.append(float(value))
    finite = [c for c in candidates if not math.isinf(c)]
    return min(finite, key=lambda c: (abs(Fraction(c) - exact), _float32_bits(c) & 1))


@settings(max_examples=200, deadline=None)
@given(
    st.integers(-(10**12), 10**12),
    st.integers(0, 40),
    st.integers(-50, 40),
)
def test_fp32_matches_exact_rounding(mantissa: int, fraction_digits: int, exponent: int) -> None:
    digits = str(abs(mantissa)).rjust(fraction_digits + 1, "0")
    text = f"{'-' if mantissa < 0 else ''}{digits[:-fraction_digits] if fraction_digits else digits}"
    if fraction_digits:
        text += "." + digits[-fraction_digits:]
    text += f"e{exponent}"
    exact = Fraction(mantissa, 10**fraction_digits) * Fraction(10) ** exponent
    assert parse_fp32(text) == _nearest_float32(exact)


@settings(max_examples=200, deadline=None)
@given(st.floats(allow_nan=False))
def test_fp64_and_java_formatting_round_trip(value: float) -> None:
    assert parse_fp64(java_double_to_string(value)) == value
    if math.isfinite(value):
        assert parse_fp64(repr(value)) == value
        assert parse_fp64(value.hex()) == value


@settings(max_examples=200, deadline=None)
@given(st.integers(-(2**70), 2**70))
def test_integers_round_trip_in_range(value: int) -> None:
    assert parse_int64(str(value)) == (value if -(2**63) <= value < 2**63 else None)
    assert parse_int32(str(value)) == (value if -(2**31) <= value < 2**31 else None)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=20))
def test_arbitrary_text_never_raises(text: str) -> None:
    parse_int32(text)
    parse_int64(text)
    parse_fp32(text)
    parse_fp64(text)
    parse_bool(text)
