"""Plugins for the whole suite: the guard against tasks that die silently, and pytester to test that guard."""

pytest_plugins = ["tests.asyncio_guard", "pytester"]
