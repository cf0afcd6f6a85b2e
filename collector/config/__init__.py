"""Load ``divolte-collector.conf`` into validated ``Settings``, reporting every problem at once.

    settings = load("conf/divolte-collector.conf")       # or load(None): the bundled defaults only

Layering follows Divolte (Typesafe Config): the bundled ``reference.conf`` < the file < ``overrides``
(dotted keys, like Java ``-Dkey=value``); ``${?DIVOLTE_PORT}``-style substitutions read ``env``
(default ``os.environ``). Only ``divolte.*`` is read. Any problem (unknown key, wrong type, broken rule)
ends in one ``ConfigError`` whose ``problems`` lists them all, each naming its key.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from collector.config import hocon, rules
from collector.config.build import build
from collector.config.reader import parse_duration
from collector.config.settings import Settings
from collector.errors import ConfigError

__all__ = ["ConfigError", "Settings", "load", "parse_duration"]


def load(
    path: str | os.PathLike[str] | None,
    *,
    env: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> Settings:
    """Read, layer, type and check the configuration; raise ``ConfigError`` listing every problem."""
    environment = os.environ if env is None else env
    file = Path(path) if path is not None else None
    tree = hocon.read(file, env=environment, overrides=overrides or {})
    problems: list[str] = []
    origin = str(file) if file is not None else "<embedded default>"
    settings, unusable = build(tree, origin=origin, env=environment, problems=problems)
    problems.extend(rules.check(settings, unusable=unusable))
    if problems:
        raise ConfigError(problems)
    return settings
