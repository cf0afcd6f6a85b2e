"""HOCON reading: includes, substitutions, comments, and pyhocon's failures translated into ConfigError."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from collector.config import ConfigError, Settings, load, parse_duration


def write(folder: Path, text: str, name: str = "divolte-collector.conf") -> Path:
    path = folder / name
    path.write_text("\n".join(line.strip() for line in text.splitlines()) + "\n", encoding="utf-8")
    return path


def problems_of(path: Path, **env: str) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load(path, env=env)
    return caught.value.problems


# --- includes ------------------------------------------------------------------------------------------


def test_classpath_include_finds_a_sibling_after_the_bundled_resources(tmp_path: Path) -> None:
    write(tmp_path, 'include classpath("reference.conf")\ndivolte.global.mapper.threads = 3', "base.conf")
    conf = write(tmp_path, 'include classpath("base.conf")\ndivolte.global.mapper.buffer_size = 8')
    mapper = load(conf, env={}).global_.mapper
    assert (mapper.threads, mapper.buffer_size, mapper.duplicate_memory_size) == (3, 8, 1000000)


def test_plain_and_file_includes_are_relative_to_the_including_file(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    write(tmp_path / "sub", 'include "more"\ndivolte.global.server.port = 1111', "part.conf")
    write(tmp_path / "sub", "divolte.global.server.debug_requests = true", "more.conf")
    conf = write(tmp_path, 'include file("sub/part.conf")\ndivolte.global.mapper.threads = 2')
    loaded = load(conf, env={})
    assert (loaded.global_.server.port, loaded.global_.server.debug_requests) == (1111, True)
    assert loaded.global_.mapper.threads == 2


def test_later_keys_override_included_ones(tmp_path: Path) -> None:
    write(tmp_path, "divolte.global.server.port = 1111", "part.conf")
    conf = write(tmp_path, 'divolte.global.server.port = 2222\ninclude "part.conf"\ndivolte.global.mapper.threads = 2')
    assert load(conf, env={}).global_.server.port == 1111
    conf = write(tmp_path, 'include "part.conf"\ndivolte.global.server.port = 2222')
    assert load(conf, env={}).global_.server.port == 2222


def test_include_inside_an_object(tmp_path: Path) -> None:
    write(tmp_path, "port = 3333", "server.conf")
    conf = write(tmp_path, 'divolte.global.server {\ninclude "server.conf"\n}')
    assert load(conf, env={}).global_.server.port == 3333


def test_missing_optional_include_is_skipped_and_required_one_reported(tmp_path: Path) -> None:
    assert load(write(tmp_path, 'include "nowhere.conf"'), env={}).global_.server.port == 8290
    found = problems_of(write(tmp_path, 'include required(classpath("nowhere.conf"))'))
    assert len(found) == 1
    assert "required include 'nowhere.conf' was not found" in found[0]


def test_include_cycle_and_url_are_reported(tmp_path: Path) -> None:
    write(tmp_path, 'include "b.conf"', "a.conf")
    write(tmp_path, 'include "a.conf"', "b.conf")
    assert "include cycle" in problems_of(tmp_path / "a.conf")[0]
    found = problems_of(write(tmp_path, 'include url("https://example.com/x.conf")'))
    assert "include of the URL 'https://example.com/x.conf' is not supported" in found[0]


# --- comments, strings and substitutions ---------------------------------------------------------------


def test_comment_markers_inside_strings_are_kept(tmp_path: Path) -> None:
    conf = write(
        tmp_path,
        '''
        divolte.sinks.g { type = gcs, bucket = "gs://bucket/folder#1" } // a comment ${NOT_RESOLVED}
        # ${ALSO_NOT} include "nowhere"
        divolte.sinks.k { type = kafka, topic = """multi
        # not a comment
        line""" }
        ''',
    )
    sinks = load(conf, env={}).sinks
    assert getattr(sinks["g"], "bucket") == "gs://bucket/folder#1"  # noqa: B009
    assert getattr(sinks["k"], "topic") == "multi\n# not a comment\nline"  # noqa: B009


def test_unresolvable_substitution(tmp_path: Path) -> None:
    found = problems_of(write(tmp_path, "divolte.global.server.host = ${NO_SUCH_VARIABLE}"))
    assert len(found) == 1
    assert "NO_SUCH_VARIABLE" in found[0] and "${?NAME}" in found[0]


def test_required_substitution_from_the_environment(tmp_path: Path) -> None:
    conf = write(tmp_path, "divolte.global.server.host = ${BIND_HOST}")
    assert load(conf, env={"BIND_HOST": "0.0.0.0"}).global_.server.host == "0.0.0.0"


def test_concatenated_substitution(tmp_path: Path) -> None:
    conf = write(tmp_path, 'divolte.global.mapper.ip2geo_database = ${?GEO_DIR}"/city.mmdb"')
    assert load(conf, env={"GEO_DIR": "/data"}).global_.mapper.ip2geo_database == "/data/city.mmdb"
    assert load(conf, env={}).global_.mapper.ip2geo_database == "/city.mmdb"


# --- files and syntax ----------------------------------------------------------------------------------


def test_syntax_error_names_file_and_line(tmp_path: Path) -> None:
    conf = write(tmp_path, "divolte {\n  global.server.port = 1\n  sources = [\n}\n")
    found = problems_of(conf)
    assert len(found) == 1
    assert found[0].startswith(f"{conf}: line ")
    assert "HOCON syntax error" in found[0]


def test_syntax_error_in_an_included_file_names_that_file(tmp_path: Path) -> None:
    part = write(tmp_path, "a = {", "part.conf")
    found = problems_of(write(tmp_path, 'include "part.conf"\ndivolte.global.server.port = 1'))
    assert found[0].startswith(f"{part}: line 2, column 1: HOCON syntax error (an empty line, or the end")


def test_missing_and_unreadable_files(tmp_path: Path) -> None:
    assert "does not exist" in problems_of(tmp_path / "nope.conf")[0]
    assert "is not a regular file" in problems_of(tmp_path)[0]
    binary = tmp_path / "binary.conf"
    binary.write_bytes(b"\xff\xfe\x00divolte")
    assert "cannot read the file" in problems_of(binary)[0]


def test_a_list_is_not_a_configuration(tmp_path: Path) -> None:
    found = problems_of(write(tmp_path, "[1, 2]"))
    assert any("must hold an object" in problem for problem in found), found


def test_divolte_must_be_an_object(tmp_path: Path) -> None:
    assert problems_of(write(tmp_path, "divolte = 5")) == [
        "divolte: expected an object holding the configuration, found 5"
    ]


# --- properties ------------------------------------------------------------------------------------------

_UNITS = {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
_LONG_UNITS = {"nanosecond": 1e-9, "microsecond": 1e-6, "millisecond": 1e-3, "second": 1.0, "minute": 60.0}


@given(
    amount=st.integers(min_value=0, max_value=10**6),
    unit=st.sampled_from(sorted(_UNITS) + sorted(_LONG_UNITS) + [u + "s" for u in _LONG_UNITS]),
    space=st.sampled_from(["", " ", "  "]),
)
def test_duration_units(amount: int, unit: str, space: str) -> None:
    factor = _UNITS.get(unit) or _LONG_UNITS[unit.removesuffix("s") if unit not in _UNITS else unit]
    assert parse_duration(f"{amount}{space}{unit}") == pytest.approx(amount * factor)


@given(st.text(max_size=20))
def test_duration_parser_only_raises_value_error(text: str) -> None:
    try:
        seconds = parse_duration(text)
    except ValueError:
        return
    assert isinstance(seconds, float)


_HOCON_PIECES = [*'{}[]=:,."$?#/\\\n \tabdilotevsr0123', "divolte", "include", "${"]
_HOCON_ALPHABET = st.sampled_from(_HOCON_PIECES)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_HOCON_ALPHABET, max_size=30).map("".join) | st.text(max_size=40))
def test_junk_is_a_config_error_never_another_exception(text: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "junk.conf"
        path.write_text(text, encoding="utf-8", errors="surrogatepass")
        try:
            outcome: Settings | ConfigError = load(path, env={})
        except ConfigError as exc:
            outcome = exc
    assert isinstance(outcome, Settings | ConfigError)
    if isinstance(outcome, ConfigError):
        assert outcome.problems and all(isinstance(problem, str) and problem for problem in outcome.problems)
