"""Java-style remote host strings and the X-Forwarded-For rule."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from collector.events import Headers
from collector.protocol.forwarded import java_host_string, peer_from_forwarded_for
from tests.vectors import load_vectors


def _headers(lines: list[str]) -> Headers:
    """ASGI-style headers from ``Name: value`` lines: lower-case names, raw values."""
    pairs = []
    for line in lines:
        name, _, value = line.partition(":")
        pairs.append((name.strip().lower().encode("latin-1"), value.strip().encode("latin-1")))
    return tuple(pairs)


@pytest.mark.parametrize("case", load_vectors()["x_forwarded_for"]["cases"], ids=lambda c: " | ".join(c["headers"]))
def test_divolte_x_forwarded_for_cases(case: dict[str, object]) -> None:
    headers = _headers(case["headers"])  # type: ignore[arg-type]
    assert peer_from_forwarded_for(headers, "10.0.0.1") == case["remoteHost"]


@pytest.mark.parametrize("raw, expected", sorted(load_vectors()["remote_host_formatting"]["cases"].items()))
def test_remote_host_formatting_vectors(raw: str, expected: str) -> None:
    address = raw.split(" (")[0]
    assert java_host_string(address) == expected
    assert peer_from_forwarded_for(_headers([f"X-Forwarded-For: 10.0.0.9, {address}"]), "10.0.0.1") == expected


@pytest.mark.parametrize(
    ("address", "expected"),
    [
        ("2001:DB8::1", "2001:db8:0:0:0:0:0:1"),
        ("0001:0db8:0000::00ff", "1:db8:0:0:0:0:0:ff"),
        ("::", "0:0:0:0:0:0:0:0"),
        ("::1.2.3.4", "0:0:0:0:0:0:102:304"),  # IPv4-compatible, not mapped: stays IPv6 in Java
        ("::ffff:0102:0304", "1.2.3.4"),
        ("[::ffff:10.0.0.1]", "10.0.0.1"),
        ("fe80::1%3", "fe80:0:0:0:0:0:0:1%3"),
        ("127.0.0.1", "127.0.0.1"),
        ("unix-socket", "unix-socket"),
        ("", ""),
        ("not:an:address", "not:an:address"),
    ],
)
def test_java_host_string(address: str, expected: str) -> None:
    assert java_host_string(address) == expected


@pytest.mark.parametrize(
    "value",
    [
        "unknown",
        "example.com",  # never resolved: no DNS lookups on request data (only localhost is known)
        "localhost.example.com",
        "1.2.3.4, ",  # Java would answer the loopback address for the empty last entry
        "",
        "[1.2.3.4]",  # brackets mean IPv6 to Java
        "1.2.3.4:8080",
        "1.2.3.256",
    ],
)
def test_unusable_forwarded_for_keeps_the_peer(value: str) -> None:
    headers = ((b"x-forwarded-for", value.encode("latin-1")),)
    assert peer_from_forwarded_for(headers, "10.0.0.1") == "10.0.0.1"
    assert peer_from_forwarded_for(headers, "::1") == "0:0:0:0:0:0:0:1"


def test_no_header_keeps_the_peer_in_java_form() -> None:
    headers = ((b"user-agent", b"x"), (b"x-forwarded-proto", b"https"))
    assert peer_from_forwarded_for(headers, "::ffff:192.0.2.7") == "192.0.2.7"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("\t 192.0.2.1 \t", "192.0.2.1"),
        ("192.0.2.1,2001:db8::2", "2001:db8:0:0:0:0:0:2"),
        ("192.0.2.1 ,  ::ffff:198.51.100.3  ", "198.51.100.3"),
    ],
)
def test_last_entry_is_trimmed_like_java(value: str, expected: str) -> None:
    assert peer_from_forwarded_for(((b"x-forwarded-for", value.encode()),), "10.0.0.1") == expected


@settings(max_examples=200, deadline=None)
@given(st.ip_addresses())
def test_every_ip_address_is_accepted_and_formatted(address: object) -> None:
    text = str(address)
    formatted = java_host_string(text)
    assert "::" not in formatted
    assert formatted == formatted.lower()
    headers = ((b"x-forwarded-for", b"203.0.113.9, " + text.encode()),)
    assert peer_from_forwarded_for(headers, "10.0.0.1") == formatted


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=40))
def test_any_header_value_gives_a_string(value: bytes) -> None:
    result = peer_from_forwarded_for(((b"x-forwarded-for", value),), "10.0.0.1")
    assert isinstance(result, str)
    assert result
