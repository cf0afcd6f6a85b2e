"""Reproduce the iteration order of the Java ``HashMap`` behind Divolte's parsed query strings.

Divolte's ``QueryStringParser`` collects ``.query()`` into ``Maps.newHashMapWithExpectedSize(10)`` with
``HashMap.compute``, and Avro writes a map's entries in the map's iteration order. To write the same Avro
bytes (and the same JSON from ``mapping-test``) the keys must come out in that order, which depends only
on the keys' ``String.hashCode()`` and the order of the ``compute`` calls:

* the table starts with 16 buckets and doubles when, at the start of a ``compute`` call, the map holds
  more entries than 3/4 of its buckets, or when a bucket reaches 8 entries while the table has fewer
  than 64 buckets (where Java would turn the bucket into a tree);
* ``compute`` puts a new key at the head of its bucket; a resize keeps the relative order within buckets;
* iteration walks the buckets in index order, each from head to tail.

Buckets of 8 or more colliding keys in a table of 64 or more buckets become trees in Java, whose order
is not reproduced; that takes deliberately colliding keys and is left as a documented difference.
"""

from __future__ import annotations

from collections.abc import Sequence

_INITIAL_BUCKETS = 16
_TREEIFY_THRESHOLD = 8
_MIN_TREEIFY_BUCKETS = 64


def java_string_hash(text: str) -> int:
    """Return Java's ``String.hashCode()`` of ``text`` as an unsigned 32-bit value."""
    value = 0
    if text.isascii():
        for char in text.encode("ascii"):
            value = (31 * value + char) & 0xFFFFFFFF
        return value
    units = text.encode("utf-16-be", "surrogatepass")
    for index in range(0, len(units), 2):
        value = (31 * value + (units[index] << 8 | units[index + 1])) & 0xFFFFFFFF
    return value


def _spread(hash_code: int) -> int:
    """``HashMap.hash()``: fold the high half into the low half so small tables use all the bits."""
    return hash_code ^ (hash_code >> 16)


def java_hash_map_order(keys: Sequence[str]) -> list[str]:
    """Return the distinct ``keys`` in the order a Java ``HashMap`` fed by ``compute(key)`` calls iterates.

    ``keys`` lists one entry per ``compute`` call, repeats included: a repeated key adds nothing but can
    still trigger a pending resize, exactly as in Java.
    """
    buckets: list[list[tuple[int, str]]] = [[] for _ in range(_INITIAL_BUCKETS)]
    size = 0
    seen: set[str] = set()
    for key in keys:
        capacity = len(buckets)
        if size > capacity * 3 // 4:
            buckets = _resize(buckets)
            capacity = len(buckets)
        if key in seen:
            continue
        seen.add(key)
        spread = _spread(java_string_hash(key))
        bucket = buckets[spread & (capacity - 1)]
        bucket.insert(0, (spread, key))
        size += 1
        if len(bucket) >= _TREEIFY_THRESHOLD and capacity < _MIN_TREEIFY_BUCKETS:
            buckets = _resize(buckets)
    return [key for bucket in buckets for _, key in bucket]


def _resize(buckets: list[list[tuple[int, str]]]) -> list[list[tuple[int, str]]]:
    """Double the table, splitting each bucket into its low and high halves in their existing order."""
    old_capacity = len(buckets)
    grown: list[list[tuple[int, str]]] = [[] for _ in range(old_capacity * 2)]
    for index, bucket in enumerate(buckets):
        for entry in bucket:
            grown[index + old_capacity if entry[0] & old_capacity else index].append(entry)
    return grown
