"""Configuration tests' helpers: write a configuration file, load it, and collect what it is refused for."""

from __future__ import annotations

from pathlib import Path

import pytest

from collector.config import ConfigError, Settings, load


def write(folder: Path, text: str, name: str = "divolte-collector.conf") -> Path:
    """``text`` as a configuration file in ``folder`` (each line's indentation removed)."""
    path = folder / name
    path.write_text("\n".join(line.strip() for line in text.splitlines()) + "\n", encoding="utf-8")
    return path


def problems(folder: Path, text: str, **env: str) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load(write(folder, text), env=env)
    return caught.value.problems


def settings(folder: Path, text: str, **env: str) -> Settings:
    return load(write(folder, text), env=env)
