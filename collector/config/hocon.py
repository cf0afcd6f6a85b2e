"""Read ``divolte-collector.conf`` (HOCON) into plain Python values, layered like Typesafe Config.

Layers, lowest first: the bundled ``reference.conf``, the user's file, then ``overrides`` (dotted keys, the
equivalent of Java ``-Dkey=value``). Substitutions are resolved once, over the merged tree, so the
``port = ${?DIVOLTE_PORT}`` lines of ``reference.conf`` see the environment passed in (``env``), never
``os.environ`` behind the caller's back. Files are first staged (``staging.py``) into a form pyhocon reads
correctly; pyhocon's errors are translated into ``ConfigError`` naming the file and line.
"""

from __future__ import annotations

import json
import math
import tempfile
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any

from pyhocon import ConfigParser, ConfigTree
from pyhocon.config_tree import NoneValue
from pyhocon.exceptions import ConfigException, ConfigMissingException, ConfigSubstitutionException
from pyparsing import ParseBaseException

from collector.config.staging import RESOURCES, Stage, blank_includes
from collector.errors import ConfigError

REFERENCE_CONF = RESOURCES / "reference.conf"


def read(path: Path | None, *, env: Mapping[str, str], overrides: Mapping[str, Any]) -> dict[str, object]:
    """Parse, layer and resolve the configuration; return the whole tree as dicts, lists and scalars."""
    origin = str(path) if path is not None else "the bundled reference.conf"
    user_file = _user_file(path) if path is not None else None
    override_text = _overrides_as_hocon(overrides)
    keep: set[str] = set()
    while True:
        with tempfile.TemporaryDirectory(prefix="divolte-config-") as tmp:
            stage = Stage(Path(tmp), env, keep)
            layers = [stage.file(REFERENCE_CONF)] + ([stage.file(user_file)] if user_file else [])
            if stage.problems:
                raise ConfigError(stage.problems)
            wrapper = "".join(
                f"include required({json.dumps(str(layer), ensure_ascii=False)})\n" for layer in layers if layer
            )
            tree = _parse_and_resolve(wrapper + override_text, stage, env, origin)
        # A name taken from the environment that is also a key of the configuration is a reference to
        # that key (Typesafe Config looks in the configuration first): stage again, leaving it to pyhocon.
        paths = {name for name in stage.substituted if name.split(".")[0] in tree} - keep
        if not paths:
            break
        keep |= paths
    plain = _plain(tree)
    if not isinstance(plain, dict):  # pragma: no cover - the wrapper is always an object
        raise ConfigError(f"{origin}: the configuration must be an object")
    return plain


def _user_file(path: Path) -> Path:
    if not path.exists():
        raise ConfigError(f"configuration file {path} does not exist; pass the path of a divolte-collector.conf")
    if not path.is_file():
        raise ConfigError(f"configuration file {path} is not a regular file; pass the path of a HOCON file")
    return path.resolve()


def _overrides_as_hocon(overrides: Mapping[str, Any]) -> str:
    """Render dotted-key overrides as one HOCON object (JSON is valid HOCON) appended after the files."""
    nested: dict[str, Any] = {}
    problems: list[str] = []
    for dotted, value in overrides.items():
        parts = dotted.split(".")
        if not dotted or any(not part for part in parts):
            problems.append(f"override {dotted!r}: not a dotted key such as 'divolte.global.server.port'")
            continue
        node = nested
        for part in parts[:-1]:
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                problems.append(f"override {dotted!r}: conflicts with the override of {part!r} as a value")
                break
            node = child
        else:
            if isinstance(node.get(parts[-1]), dict) and not isinstance(value, dict):
                problems.append(f"override {dotted!r}: conflicts with overrides of keys below it")
            node[parts[-1]] = value
    try:
        text = json.dumps(nested, allow_nan=False, ensure_ascii=False)
    except (TypeError, ValueError) as exc:
        problems.append(f"overrides: {exc}; give strings, numbers, booleans, null, lists or mappings")
        text = "{}"
    if problems:
        raise ConfigError(problems)
    return text[1:-1] + "\n" if nested else ""


def _parse_and_resolve(wrapper: str, stage: Stage, env: Mapping[str, str], origin: str) -> ConfigTree:
    try:
        tree = ConfigParser.parse(wrapper, resolve=False)
    except (ParseBaseException, ConfigException) as exc:
        raise ConfigError(_locate_syntax_error(stage) or [f"{origin}: cannot parse HOCON: {exc}"]) from exc
    except Exception as exc:  # pyhocon fails with assorted internal errors on some malformed input
        raise ConfigError(
            _locate_syntax_error(stage) or [f"{origin}: cannot parse HOCON ({type(exc).__name__}: {exc})"]
        ) from exc
    try:
        _resolver(env).resolve_substitutions(tree)
    except ConfigSubstitutionException as exc:
        raise ConfigError(
            f"{origin} (or a file it includes): {exc}; define the referenced key or environment variable, "
            "or write ${?NAME} to make the substitution optional"
        ) from exc
    except Exception as exc:  # pyhocon's resolver also fails with internal errors on odd input
        raise ConfigError(f"{origin} (or a file it includes): cannot resolve substitutions ({exc})") from exc
    if not isinstance(tree, ConfigTree):  # pragma: no cover - the wrapper is always an object
        raise ConfigError(f"{origin}: the configuration must be an object")
    return tree


def _locate_syntax_error(stage: Stage) -> list[str]:
    """Parse every original file alone (includes blanked, so lines keep their numbers) to name the culprit."""
    problems: list[str] = []
    for source in stage.originals.values():
        if source == REFERENCE_CONF:
            continue  # bundled and known to parse
        try:
            parsed = ConfigParser.parse(blank_includes(source.read_text(encoding="utf-8")), resolve=False)
        except ParseBaseException as exc:
            snippet = exc.line.strip()[:80]
            where = f"near {snippet!r}" if snippet else "(an empty line, or the end of the file)"
            problems.append(
                f"{source}: line {exc.lineno}, column {exc.col}: HOCON syntax error {where}; "
                "check for unbalanced braces or brackets, a missing value, or characters that need quotes"
            )
        except Exception as exc:  # pyhocon's internal errors on malformed input
            problems.append(f"{source}: HOCON syntax error ({type(exc).__name__}: {exc})")
        else:
            if not isinstance(parsed, ConfigTree):
                problems.append(f"{source}: the file must hold an object (keys and values), not a list")
    return problems


def _resolver(env: Mapping[str, str]) -> type[ConfigParser]:
    """A ConfigParser whose substitutions fall back to ``env`` instead of ``os.environ``."""

    class _EnvResolver(ConfigParser):  # type: ignore[misc]
        # pyhocon's one hook for where `${X}` values come from; it reads os.environ directly.
        @classmethod
        def _resolve_variable(cls, config: ConfigTree, substitution: Any) -> tuple[bool, Any]:
            try:
                return True, config.get(substitution.variable)
            except ConfigMissingException:
                value = env.get(substitution.variable)
                if value is not None:
                    return True, value
                if substitution.optional:
                    return False, None
                raise ConfigSubstitutionException(
                    f"cannot resolve ${{{substitution.variable}}}: no such key or environment variable"
                ) from None

    return _EnvResolver


def _plain(value: object) -> object:
    """pyhocon's tree as builtins: dict, list, str, int, float, bool, None; durations stay timedelta."""
    if isinstance(value, ConfigTree):
        return {str(key): _plain(child) for key, child in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    if value is None or isinstance(value, NoneValue):
        return None
    if isinstance(value, bool | int | timedelta):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, str):
        return str(value)
    return value  # e.g. dateutil's relativedelta, which the duration reader understands
