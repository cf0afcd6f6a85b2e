"""Where the shared Divolte data files live (the spec's vectors, test configurations and fixtures)."""

from __future__ import annotations

import os
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("DIVOLTE_SHARED") or REPO.parent / "shared" / "divolte")
