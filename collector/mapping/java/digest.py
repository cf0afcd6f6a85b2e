"""Compute the mapping's ``digest(algorithm[, seed])`` results exactly as Divolte's ``Digester`` does (SPEC §6.7).

Digests are how Divolte users pseudonymise identifiers, so the bytes must match Divolte's or every
downstream join on a hashed id breaks. Without a seed the result is the plain hash of the pieces joined
without separators. With a seed it is an HMAC whose key Divolte derives with PBKDF2 (100,000 iterations,
a fixed salt); because Java's ``PBEKeySpec`` takes the key length in *bits* and Divolte passes the MAC
length in *bytes*, the key is only ``mac_length // 8`` bytes long (4 for SHA-256). That is reproduced.

The key derivation takes about a tenth of a second, so a ``Digester`` derives it once, when the mapping is
compiled, and every event only pays for the HMAC.

Algorithm names are matched without regard to case, like Java's ``MessageDigest.getInstance``. Besides the
documented SHA-2 names this accepts what the JDK accepts and Python can compute: ``MD5``, ``SHA-1``
(also ``SHA``, ``SHA1``), ``SHA-512/224``, ``SHA-512/256`` and ``SHA3-224`` … ``SHA3-512``, and the SHA-2
names without the hyphen. A seed works only where Divolte's key derivation works: Divolte looks up
``"PBKDF2WithHmac" + name-without-hyphens``, which the JDK provides for SHA-1 and SHA-2 (224 to 512) only,
so ``MD5``, ``SHA``, ``SHA-512/…`` and ``SHA3-…`` with a seed are refused at start-up, as in Divolte.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from collector.errors import MappingError

SALT = b"divolte" + bytes.fromhex("b687e2d9aa060372")
"""Divolte's fixed PBKDF2 salt (it personalises the key rather than protecting it)."""
ITERATIONS = 100_000


@dataclass(frozen=True)
class _Algorithm:
    """A digest algorithm: its canonical JDK name, hashlib name and whether a seed may be used."""

    name: str
    hashlib_name: str
    seedable: bool


_ALGORITHMS = (
    _Algorithm("MD5", "md5", seedable=False),
    _Algorithm("SHA-1", "sha1", seedable=True),
    _Algorithm("SHA-224", "sha224", seedable=True),
    _Algorithm("SHA-256", "sha256", seedable=True),
    _Algorithm("SHA-384", "sha384", seedable=True),
    _Algorithm("SHA-512", "sha512", seedable=True),
    _Algorithm("SHA-512/224", "sha512_224", seedable=False),
    _Algorithm("SHA-512/256", "sha512_256", seedable=False),
    _Algorithm("SHA3-224", "sha3_224", seedable=False),
    _Algorithm("SHA3-256", "sha3_256", seedable=False),
    _Algorithm("SHA3-384", "sha3_384", seedable=False),
    _Algorithm("SHA3-512", "sha3_512", seedable=False),
)
_BY_NAME: dict[str, _Algorithm] = {algorithm.name: algorithm for algorithm in _ALGORITHMS}
_ALIASES = {
    "SHA": "SHA-1",
    "SHA1": "SHA-1",
    "SHA224": "SHA-224",
    "SHA256": "SHA-256",
    "SHA384": "SHA-384",
    "SHA512": "SHA-512",
}
_SEED_REFUSED_ALIASES = frozenset({"SHA"})
"""``SHA`` is a digest alias in the JDK but ``HmacSHA`` is not a MAC, so Divolte cannot seed it."""

SUPPORTED_ALGORITHMS: tuple[str, ...] = tuple(
    algorithm.name for algorithm in _ALGORITHMS if algorithm.hashlib_name in hashlib.algorithms_available
)
"""Canonical names usable without a seed, in the order error messages list them."""
SEEDABLE_ALGORITHMS: tuple[str, ...] = tuple(a.name for a in _ALGORITHMS if a.seedable)
"""Canonical names usable with a seed."""


def _lookup(algorithm: str, seeded: bool) -> _Algorithm:
    """Find the algorithm named ``algorithm`` (any case) or raise ``MappingError`` listing the choices."""
    upper = algorithm.upper()
    found = _BY_NAME.get(_ALIASES.get(upper, upper))
    if found is None or found.name not in SUPPORTED_ALGORITHMS:
        raise MappingError(
            f"digest algorithm {algorithm!r} is not supported; use one of {', '.join(SUPPORTED_ALGORITHMS)}"
        )
    if seeded and (not found.seedable or upper in _SEED_REFUSED_ALIASES):
        raise MappingError(
            f"digest algorithm {algorithm!r} cannot be used with a seed (Divolte derives seeded keys only "
            f"for these); use one of {', '.join(SEEDABLE_ALGORITHMS)}"
        )
    return found


class Digester:
    """A configured digest: plain hash, or seeded HMAC with its key derived once at construction."""

    def __init__(self, algorithm: str, seed: str | None = None) -> None:
        found = _lookup(algorithm, seed is not None)
        self.algorithm = found.name
        self.seeded = seed is not None
        self._new: Callable[[], Any]
        if seed is None:
            hashlib_name = found.hashlib_name
            self._new = lambda: hashlib.new(hashlib_name)
            self.key: bytes | None = None
        else:
            mac_length = hashlib.new(found.hashlib_name).digest_size
            self.key = hashlib.pbkdf2_hmac(
                found.hashlib_name, seed.encode("utf-8"), SALT, ITERATIONS, dklen=mac_length // 8
            )
            template = hmac.new(self.key, digestmod=found.hashlib_name)
            self._new = template.copy

    def digest(self, pieces: Iterable[bytes]) -> bytes:
        """Return the digest (or seeded HMAC) of the pieces concatenated in order, with no separators."""
        state = self._new()
        for piece in pieces:
            state.update(piece)
        result: bytes = state.digest()
        return result

    def __repr__(self) -> str:
        return f"Digester({self.algorithm!r}, seeded={self.seeded})"


def to_hex_lower(data: bytes) -> str:
    """``toHexLower()``: lower-case hexadecimal."""
    return data.hex()


def to_hex_upper(data: bytes) -> str:
    """``toHexUpper()``: upper-case hexadecimal."""
    return data.hex().upper()


def to_base64(data: bytes) -> str:
    """``toBase64()``: standard Base64 alphabet with padding."""
    return base64.b64encode(data).decode("ascii")
