"""Divolte's Groovy mapping files, run without a JVM: the script evaluated into the Python DSL's actions.

A ``mapping_script_file`` ending in ``.groovy`` is read (``lexer.py``, ``numbers.py``, ``expressions.py``,
``parser.py`` into ``nodes.py``; ``refusals.py`` says what is refused and why) and evaluated once at start-up
(``evaluate.py`` for Groovy's statements, closures and values known at start-up, ``constants.py`` for their
semantics, ``translate.py`` for the DSL, with ``vocabulary.py`` saying what may be called), the
way Divolte runs it: ``mapping { … }`` delegates to the mapping, ``map … onto``,
``when … apply``, ``section``, ``stop()``, ``exit()``, ``match … against``, ``parse … to`` and every value
function call the same objects a Python mapping calls (``dsl.py``, ``functions.Vocabulary``), so the two
build the same action tree and run at the same speed. Each action remembers the ``.groovy`` file, line and
column it came from, and so does every start-up error.

Groovy's typing is kept where Divolte depends on it: a literal maps only onto its exact Avro type (``42``
is an Integer and fits an ``int`` field, ``42L`` a ``long`` one; a plain ``42.0`` is a BigDecimal, which
Divolte refuses), and an ``equalTo`` that Java's ``equals`` can never make true (an Integer against a Long,
JSON against a string) is refused rather than silently false for every event.

The same evaluation writes the equivalent Python mapping (``convert_groovy``, the ``convert-mapping``
command), so a team can move to the Python DSL when it wants to.
"""

from __future__ import annotations

from pathlib import Path
from typing import cast

from collector.avro.schemas import Schema
from collector.enrich.geo import GeoDatabase
from collector.enrich.useragent import UserAgentParser
from collector.errors import MappingError
from collector.mapping import dsl
from collector.mapping.compile import CompiledMapping, load_mapping
from collector.mapping.groovy.parser import parse
from collector.mapping.groovy.translate import Translator
from collector.mapping.vocabulary import Environment


class _NoGeoDatabase:
    """Stands in for the GeoIP database when a mapping is only converted, never run."""

    def lookup(self, address: str) -> None:
        return None


def _translate(path: str | Path, environment: Environment) -> tuple[Translator, dsl.Recorder]:
    file = str(Path(path).resolve())
    try:
        source = Path(file).read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise MappingError(f"Cannot read mapping file '{path}': {exc.strerror}.") from exc
    except UnicodeDecodeError as exc:
        raise MappingError(f"{file}: not UTF-8 text ({exc.reason} at byte {exc.start})") from exc
    script = parse(source, file)
    with dsl.recording(file) as recorder:
        translator = Translator(file, environment, script, source)
        translator.run()
    return translator, recorder


def load_groovy_mapping(path: str | Path, schema: Schema, environment: Environment) -> CompiledMapping:
    """Run a Divolte ``.groovy`` mapping once, then check and compile what it declared."""
    translator, recorder = _translate(path, environment)
    translator.check_literals(schema)
    return CompiledMapping(schema, recorder.actions, translator.file)


def convert_groovy(path: str | Path) -> str:
    """The Python mapping equivalent to a ``.groovy`` one (checked as far as it can be without a schema)."""
    environment = Environment(UserAgentParser(1), cast(GeoDatabase, _NoGeoDatabase()))
    translator, _ = _translate(path, environment)
    header = (
        f"# Converted from {Path(path).name} by `divolte-collector convert-mapping`: Divolte's mapping DSL in\n"
        '# Python (see README, "Custom mappings"). Try it with `divolte-collector mapping-test`.'
    )
    return translator.out.text(header)


def load_any_mapping(path: str | Path, schema: Schema, environment: Environment) -> CompiledMapping:
    """A ``mapping_script_file``: Divolte's Groovy (``.groovy``) or the Python DSL (anything else)."""
    if Path(path).suffix == ".groovy":
        return load_groovy_mapping(path, schema, environment)
    return load_mapping(path, schema, environment)
