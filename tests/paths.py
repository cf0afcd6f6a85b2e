"""Where the tests' data lives: everything a test reads is in the repository, under ``tests/data``.

``tests/data/test-vectors.json`` and ``tests/data/fixtures`` are copies of Divolte's (``tests/data/sync.py``
checks them against a Divolte source folder, or refreshes them); ``tests/data/configs`` holds our own
configuration files for the topologies and the errors the tests check.
"""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DATA = REPO / "tests" / "data"
FIXTURES = DATA / "fixtures"
CONFIGS = DATA / "configs"
VECTORS_FILE = DATA / "test-vectors.json"
DEFAULT_SCHEMA_FILE = REPO / "collector" / "resources" / "DefaultEventRecord.avsc"
