"""digest(algorithm[, seed]): plain hashes, Divolte's seeded HMAC with its short PBKDF2 key, formatting."""

from __future__ import annotations

import base64
import hashlib
import hmac
import urllib.parse
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from collector.errors import MappingError
from collector.mapping.java.digest import (
    SALT,
    SEEDABLE_ALGORITHMS,
    SUPPORTED_ALGORITHMS,
    Digester,
    to_base64,
    to_hex_lower,
    to_hex_upper,
)
from tests.vectors import load_vectors

_SEEDED = load_vectors()["seeded_digest"]["cases"]
_DIGEST_CASE = next(case for case in load_vectors()["mapping"]["cases"] if case["name"] == "digests")
_EVENT_ID = urllib.parse.parse_qs(load_vectors()["mapping"]["base_query"].lstrip("?"))["e"][0]
"""The event id of the mapping vectors' base query (``e=``)."""


@pytest.mark.parametrize("case", _SEEDED, ids=[case["alg"] for case in _SEEDED])
def test_seeded_digest_vectors(case: dict[str, Any]) -> None:
    digester = Digester(case["alg"], case["seed"])
    assert digester.key is not None
    assert digester.key.hex() == case["key_hex"]
    assert to_base64(digester.digest([case["message"].encode()])) == case["result_base64"]
    # Pieces are concatenated without separators.
    halves = [case["message"][:3].encode(), case["message"][3:].encode()]
    assert to_base64(digester.digest(halves)) == case["result_base64"]


@pytest.mark.parametrize(
    ("algorithm", "seed", "expected"),
    [
        # Computed with Divolte's key derivation and HMAC on JDK 17 (javax.crypto), message "0:abc0".
        ("SHA-1", "foo", "Mbdx5kwOuVP8D90FvnBsFtRgAd8="),
        ("SHA1", "", "GMfYFvo7SFXcJVH8hVAzjlQMb4c="),
        ("sha-224", "foo", "of/9I5bSr944Mp0MoAVC8kyHXTmXSRqrmCT5pg=="),
        ("SHA-256", "", "K09UD5lYnOVi1NfVdDjqhCij1ao5hghAS66jd/U0cPg="),
        ("SHA-256", "sëed😀", "RHu/zE6sfbn6XZKt4weMLEid836g7dZLEgiGvhUGTu8="),
        ("SHA-384", "foo", "lUEtcQVg+B66Q9ZzSVWpX5u5N4MhwzomJzE8FcGWxBQi9ufaudflKeTdLZzQzhwh"),
    ],
)
def test_seeded_digests_computed_on_a_jdk(algorithm: str, seed: str, expected: str) -> None:
    assert to_base64(Digester(algorithm, seed).digest([b"0:abc0"])) == expected


def test_seeded_key_is_mac_length_divided_by_eight_bytes() -> None:
    for algorithm, length in [("SHA-1", 2), ("SHA-224", 3), ("SHA-256", 4), ("SHA-384", 6), ("SHA-512", 8)]:
        digester = Digester(algorithm, "seed")
        assert digester.key is not None
        assert len(digester.key) == length
        name = algorithm.replace("-", "").lower()
        assert digester.key == hashlib.pbkdf2_hmac(name, b"seed", SALT, 100_000, dklen=length)
        assert digester.digest([b"x"]) == hmac.new(digester.key, b"x", name).digest()


def test_mapping_digest_expectations() -> None:
    expect = _DIGEST_CASE["expect"]
    sha256 = Digester("SHA-256")
    assert "eventId" in expect["sha256(eventId)"]
    assert sha256.digest([_EVENT_ID.encode()]) == hashlib.sha256(_EVENT_ID.encode()).digest()
    assert sha256.digest([b"aLiteralString"]) == hashlib.sha256(b"aLiteralString").digest()
    assert (
        sha256.digest([_EVENT_ID.encode(), b"aLiteralString"])
        == hashlib.sha256((_EVENT_ID + "aLiteralString").encode()).digest()
    )
    # "json pieces": the value nodes string, 42 and apple; arrays and objects are skipped by the caller.
    assert sha256.digest([b"string", b"42", b"apple"]) == hashlib.sha256(b"string42apple").digest()
    # "bytes piece": a digest result fed to another digest.
    assert sha256.digest([sha256.digest([])]) == hashlib.sha256(hashlib.sha256(b"").digest()).digest()
    # "missing piece": absent pieces are skipped, the result is always present.
    assert sha256.digest([]) == hashlib.sha256(b"").digest()
    assert expect["toBase64"].startswith("standard Base64")


def test_formatting() -> None:
    data = bytes([0x00, 0xAB, 0xFF, 0xFB, 0xEF])
    assert to_hex_lower(data) == "00abfffbef"
    assert to_hex_upper(data) == "00ABFFFBEF"
    assert to_base64(data) == "AKv/++8="
    assert to_base64(b"") == ""


@pytest.mark.parametrize(
    ("name", "canonical"),
    [
        ("SHA-256", "SHA-256"),
        ("sha-256", "SHA-256"),
        ("Sha256", "SHA-256"),
        ("sha-224", "SHA-224"),
        ("SHA-384", "SHA-384"),
        ("sha-512", "SHA-512"),
        ("md5", "MD5"),
        ("SHA", "SHA-1"),
        ("sha-1", "SHA-1"),
        ("SHA-512/256", "SHA-512/256"),
        ("sha3-256", "SHA3-256"),
    ],
)
def test_names_are_case_insensitive_with_jdk_aliases(name: str, canonical: str) -> None:
    digester = Digester(name)
    assert digester.algorithm == canonical
    assert digester.key is None


def test_plain_digests_match_hashlib() -> None:
    for name, hashlib_name in [("MD5", "md5"), ("SHA-1", "sha1"), ("SHA-512", "sha512"), ("SHA3-512", "sha3_512")]:
        assert Digester(name).digest([b"a", b"bc"]) == hashlib.new(hashlib_name, b"abc").digest()


def test_unknown_algorithm_is_a_start_up_error_listing_the_choices() -> None:
    with pytest.raises(MappingError) as raised:
        Digester("MD2")
    message = str(raised.value)
    assert "'MD2'" in message
    for name in SUPPORTED_ALGORITHMS:
        assert name in message


@pytest.mark.parametrize("name", ["MD5", "SHA", "SHA-512/256", "SHA3-256"])
def test_seed_refused_where_divolte_cannot_derive_a_key(name: str) -> None:
    with pytest.raises(MappingError, match="cannot be used with a seed") as raised:
        Digester(name, "seed")
    for seedable in SEEDABLE_ALGORITHMS:
        assert seedable in str(raised.value)


def test_repr_hides_the_seed() -> None:
    assert "secret" not in repr(Digester("SHA-256", "secret"))


@settings(max_examples=50, deadline=None)
@given(st.lists(st.binary(max_size=20), max_size=5))
def test_digest_is_the_hash_of_the_concatenation(pieces: list[bytes]) -> None:
    assert Digester("SHA-256").digest(pieces) == hashlib.sha256(b"".join(pieces)).digest()
    seeded = _SEEDED_SHA256
    assert seeded.key is not None
    assert seeded.digest(pieces) == hmac.new(seeded.key, b"".join(pieces), "sha256").digest()
    assert base64.b64decode(to_base64(b"".join(pieces))) == b"".join(pieces)


_SEEDED_SHA256 = Digester("SHA-256", "foo")
