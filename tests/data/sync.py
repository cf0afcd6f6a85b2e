"""Check the repository's copies of Divolte's test data against a Divolte data folder, or refresh them.

    python tests/data/sync.py SOURCE           # compare; exit 1 and name every file that differs
    python tests/data/sync.py SOURCE --write   # copy the changed files in, then compare again

SOURCE is a folder laid out as Divolte's test data is: ``test-vectors.json``, ``DefaultEventRecord.avsc`` and
``test-fixtures/``. Only the files the tests read are copied. The default schema is not copied: the tests
read the collector's own (``collector/resources/DefaultEventRecord.avsc``), so a difference there is reported
and left for a person to look at, since it changes what the collector writes.

The configuration files in ``tests/data/configs`` are our own and are not compared with anything.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

DATA = Path(__file__).resolve().parent
REPO = DATA.parents[1]

COPIED = {
    "test-vectors.json": DATA / "test-vectors.json",
    "test-fixtures/MinimalRecord.avsc": DATA / "fixtures" / "MinimalRecord.avsc",
    "test-fixtures/TestRecord.avsc": DATA / "fixtures" / "TestRecord.avsc",
    "test-fixtures/city-response-expected-mapping.json": DATA / "fixtures" / "city-response-expected-mapping.json",
    "test-fixtures/city-response-with-everything.json": DATA / "fixtures" / "city-response-with-everything.json",
    "test-fixtures/jackson-mapping-fixtures.json": DATA / "fixtures" / "jackson-mapping-fixtures.json",
    "test-fixtures/mincode-samples.json": DATA / "fixtures" / "mincode-samples.json",
}
"""Source-relative name → our copy."""

CHECKED_ONLY = {"DefaultEventRecord.avsc": REPO / "collector" / "resources" / "DefaultEventRecord.avsc"}
"""Source-relative name → the file of ours that must be the same, but that this script never writes."""


def differences(source: Path, files: dict[str, Path] | None = None) -> list[str]:
    """One line per file of ours that is missing or differs from the source's, and per source file missing.

    ``files`` maps source-relative names to our files (default: ``COPIED`` and ``CHECKED_ONLY``).
    """
    problems = []
    for name, ours in (files if files is not None else {**COPIED, **CHECKED_ONLY}).items():
        theirs = source / name
        if not theirs.is_file():
            problems.append(f"{theirs}: missing from the source folder")
        elif not ours.is_file():
            problems.append(f"{_shown(ours)}: missing (copy of {theirs})")
        elif ours.read_bytes() != theirs.read_bytes():
            problems.append(f"{_shown(ours)}: differs from {theirs}")
    return problems


def refresh(source: Path, files: dict[str, Path] | None = None) -> list[str]:
    """Copy every changed file of ``files`` (default: ``COPIED``) from the source; return what was copied."""
    copied = []
    for name, ours in (files if files is not None else COPIED).items():
        theirs = source / name
        if theirs.is_file() and (not ours.is_file() or ours.read_bytes() != theirs.read_bytes()):
            ours.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(theirs, ours)
            copied.append(_shown(ours))
    return copied


def _shown(path: Path) -> str:
    return str(path.relative_to(REPO)) if path.is_relative_to(REPO) else str(path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("source", type=Path, help="a Divolte data folder (test-vectors.json, test-fixtures/, ...)")
    parser.add_argument("--write", action="store_true", help="copy changed files in before comparing")
    args = parser.parse_args(argv)
    source: Path = args.source
    if not source.is_dir():
        print(f"{source}: not a folder", file=sys.stderr)
        return 2
    if args.write:
        for path in refresh(source):
            print(f"copied {path}")
    problems = differences(source)
    for problem in problems:
        print(problem, file=sys.stderr)
    if not problems:
        print(f"tests/data matches {source} ({len(COPIED) + len(CHECKED_ONLY)} files)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
