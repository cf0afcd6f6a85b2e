"""The suite's guard against silently dying tasks catches one (run in an inner pytest session)."""

from __future__ import annotations

import pytest

from tests.paths import REPO

UNSUPERVISED = """
import asyncio


def test_a_task_dies_unobserved():
    async def main():
        async def boom():
            raise RuntimeError("nobody is watching this task")

        asyncio.create_task(boom())  # deliberately unsupervised, its result never read
        await asyncio.sleep(0.05)

    asyncio.run(main())
"""


@pytest.fixture
def inner(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    """A separate pytest process over one deliberately broken test (its asyncio logs stay its own)."""
    monkeypatch.setenv("PYTHONPATH", str(REPO))
    pytester.makeini("[pytest]\nasyncio_default_fixture_loop_scope = function\n")
    pytester.makepyfile(UNSUPERVISED)
    return pytester


def test_the_guard_fails_a_test_whose_task_died_unobserved(inner: pytest.Pytester) -> None:
    guarded = inner.runpytest_subprocess("-p", "tests.asyncio_guard", "-p", "no:cacheprovider")
    guarded.assert_outcomes(passed=1, errors=1)
    guarded.stdout.fnmatch_lines(["*Task exception was never retrieved*nobody is watching this task*"])


def test_without_the_guard_the_same_test_passes(inner: pytest.Pytester) -> None:
    inner.runpytest_subprocess("-p", "no:cacheprovider").assert_outcomes(passed=1)
