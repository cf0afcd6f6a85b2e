"""Regenerate ``java-partitions.json``: Java's murmur2 and partition choice for a fixed set of keys.

    python -m tests.servers.kafka.make_partition_vectors   # needs java and the jars (broker.py fetch)

The keys: edge cases (empty, 1-7 bytes, bytes >= 0x80, non-ASCII UTF-8), random byte strings of every
length up to 39, and 200 party ids shaped like Divolte's, all from a fixed seed.
"""

from __future__ import annotations

import base64
import json
import random
import subprocess
from pathlib import Path

from tests.servers.kafka.broker import JARS, KAFKA_VERSION, fetch

HERE = Path(__file__).resolve().parent
COUNTS = [1, 2, 3, 5, 12, 64, 1000]


def keys() -> list[bytes]:
    rng = random.Random(20261128)
    result = [b"", b"a", b"ab", b"abc", b"abcd", b"abcde", b"\xff", b"\x80\x81\x82", b"\xff\xfe\xfd\xfc\xfb",
              b"0:i1t84hgy:5AF359Zjq5kUy98u4wQjlIZzWGhN~GlG", "0:kx:émoji-😀".encode()]  # fmt: skip
    result += [bytes(rng.randrange(256) for _ in range(n)) for n in range(1, 40)]
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    for _ in range(200):
        ts, t36 = rng.randrange(10**12, 2 * 10**12), ""
        while ts:
            ts, digit = divmod(ts, 36)
            t36 = digits[digit] + t36
        random_id = base64.urlsafe_b64encode(bytes(rng.randrange(256) for _ in range(24))).decode()
        result.append(f"0:{t36}:{random_id}".encode())
    return result


def main() -> None:
    fetch()
    all_keys = keys()
    output = subprocess.run(
        ["java", "-cp", f"{JARS}/*", str(HERE / "Murmur2Reference.java"), *map(str, COUNTS)],
        input="".join(k.hex() + "\n" for k in all_keys), capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    cases = []
    for line in output.splitlines():
        key_hex, murmur, *partitions = line.split(" ")
        cases.append({"key_hex": key_hex, "murmur2": int(murmur), "partitions": [int(p) for p in partitions]})
    assert len(cases) == len(all_keys)
    document = {
        "_about": f"Computed by tests/servers/kafka/Murmur2Reference.java with kafka-clients {KAFKA_VERSION}: "
        "Utils.murmur2(key) and BuiltInPartitioner.partitionForKey(key, n) for each n in partition_counts "
        "(the Java producer's choice for a keyed record). "
        "Regenerate: python -m tests.servers.kafka.make_partition_vectors",
        "partition_counts": COUNTS,
        "cases": cases,
    }
    (HERE / "java-partitions.json").write_text(json.dumps(document, indent=1) + "\n")


if __name__ == "__main__":
    main()
