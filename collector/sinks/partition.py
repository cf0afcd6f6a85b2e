"""Java Kafka's partition for a keyed record: ``toPositive(murmur2(key)) % partitions``.

The Java producer's default partitioner (``BuiltInPartitioner.partitionForKey``) places a record with a key
on partition ``(murmur2(key) & 0x7fffffff) % numPartitions``, with Kafka's own MurmurHash2 variant (seed
``0x9747b28c``). Divolte keys records by party id, so using the same function puts every party on the
partition Divolte would have chosen, and consumers that rely on that placement keep working.

Hashing runs in Python, so results are cached per key: a party sends many events.
"""

from __future__ import annotations

import struct

_SEED = 0x9747B28C
_M = 0x5BD1E995
_MASK = 0xFFFFFFFF
CACHE_LIMIT = 100_000
"""Keys remembered before the cache starts over (a plain dict: clearing is cheaper than LRU upkeep)."""


def murmur2(data: bytes) -> int:
    """Kafka's ``Utils.murmur2(data)``, as the signed 32-bit int Java returns."""
    length = len(data)
    h = (_SEED ^ length) & _MASK
    words = length >> 2
    if words:
        for k in struct.unpack_from(f"<{words}I", data):
            k = (k * _M) & _MASK
            k ^= k >> 24
            k = (k * _M) & _MASK
            h = ((h * _M) & _MASK) ^ k
    tail = length & 3
    if tail:
        base = length & ~3
        if tail == 3:
            h ^= data[base + 2] << 16
        if tail >= 2:
            h ^= data[base + 1] << 8
        h ^= data[base]
        h = (h * _M) & _MASK
    h ^= h >> 13
    h = (h * _M) & _MASK
    h ^= h >> 15
    return h - (1 << 32) if h & 0x80000000 else h


def partition_for_key(key: bytes, partitions: int) -> int:
    """The partition Java's producer chooses for ``key`` among ``partitions``."""
    return (murmur2(key) & 0x7FFFFFFF) % partitions


class KeyPartitioner:
    """``partition_for_key`` with a cache of each key's hash (the partition count may change)."""

    __slots__ = ("_hashes",)

    def __init__(self) -> None:
        self._hashes: dict[bytes, int] = {}

    def __call__(self, key: bytes, partitions: int) -> int:
        positive = self._hashes.get(key)
        if positive is None:
            if len(self._hashes) >= CACHE_LIMIT:
                self._hashes.clear()
            positive = self._hashes[key] = murmur2(key) & 0x7FFFFFFF
        return positive % partitions
