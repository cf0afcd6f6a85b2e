"""``divolte-collector mapping-test`` and custom mappings in configurations (start-up errors via check-config)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from collector.cli import main
from collector.tools.mapping_test import MappingTester, event_from_description
from tests.geodb import city_record, write_db
from tests.paths import FIXTURES, REPO
from tests.vectors import load_json_with_comments

SHOP = ["--schema", str(REPO / "schemas" / "ShopEvent.avsc"), "--mapping", str(REPO / "mappings" / "shop.py")]


def test_mapping_test_prints_the_record(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    event = tmp_path / "event.json"
    event.write_text(json.dumps({
        "location": "https://shop.example.com/bags/p-9.html?q=red+bag", "event_type": "addToBasket",
        "parameters": {"sku": "B-9", "price": 99, "tags": "single"}, "headers": {"Accept-Language": "nl, en"},
        "user_agent": "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:125.0) Gecko/20100101 Firefox/125.0",
    }))  # fmt: skip
    assert main(["mapping-test", *SHOP, "--event", str(event)]) == 0
    record = json.loads(capsys.readouterr().out)
    assert record["host"] == "shop.example.com" and record["searchTerm"] == "red bag"
    assert (record["category"], record["productId"]) == ("bags", "p-9")
    assert record["language"] == "nl" and record["browser"] == "Firefox"
    assert record["price"] == 99.0  # JSON 99 onto a double
    assert record["tags"] == ["single"]  # a single value wrapped into the array, as Jackson does


def test_mapping_test_names_bad_keys(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    event = tmp_path / "event.json"
    event.write_text('{"locaton": "typo"}')
    assert main(["mapping-test", *SHOP, "--event", str(event)]) == 1
    assert "unknown key 'locaton'" in capsys.readouterr().err
    with pytest.raises(ValueError, match="'viewport_pixel_width' must be a int"):
        event_from_description({"viewport_pixel_width": "wide"})


def test_discarding_mapping_prints_null(tmp_path: Path) -> None:
    tester = MappingTester(None, str(REPO / "mappings" / "route_by_event_type.py"))
    assert tester.run({"event_type": "click"}) == b"null"
    assert json.loads(tester.run({"event_type": "pageView"}))["eventType"] == "pageView"


def test_a_broken_mapping_stops_start_up_naming_file_and_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    mapping = tmp_path / "mapping.py"
    mapping.write_text("map_(location()).onto('location')\nmap_(timestamp()).onto('location')\n")
    groovy = tmp_path / "mapping.groovy"
    groovy.write_text("mapping {\n  map location() onto 'nope'\n}")
    conf = tmp_path / "c.conf"
    conf.write_text(
        "divolte.sources.browser.type = browser\n"
        f'divolte.sinks.files {{ type = hdfs, file_strategy {{ working_dir = "{tmp_path}" }} }}\n'
        f'divolte.sinks.files.file_strategy.publish_dir = "{tmp_path}"\n'
        f'divolte.mappings.a {{ sources = [browser], sinks = [files], mapping_script_file = "{mapping}" }}\n'
        f'divolte.mappings.b {{ sources = [browser], sinks = [files], mapping_script_file = "{groovy}" }}\n'
    )
    assert main(["check-config", str(conf)]) == 1
    err = capsys.readouterr().err
    assert f"divolte.mappings.a: {mapping}:2: field 'location': cannot map timestamp() (Long) onto string" in err
    assert f"divolte.mappings.b: {groovy}:2:3: field 'nope' does not exist" in err


GEO_MAPPING = REPO / "tests" / "data" / "divolte-mappings" / "geo-mapping.groovy"


def configuration(tmp_path: Path, mappings: str, database: Path | None = None) -> Path:
    """A collector configuration with the given ``divolte.mappings`` lines (and a GeoIP database when given)."""
    conf = tmp_path / "collector.conf"
    conf.write_text(
        "divolte.sources.browser.type = browser\n"
        f'divolte.sinks.files {{ type = hdfs, file_strategy {{ working_dir = "{tmp_path}" }} }}\n'
        f'divolte.sinks.files.file_strategy.publish_dir = "{tmp_path}"\n'
        + (f'divolte.global.mapper.ip2geo_database = "{database}"\n' if database else "")
        + mappings
    )
    return conf


def geo_mapping(name: str = "geo", script: Path = GEO_MAPPING) -> str:
    return (
        f"divolte.mappings.{name} {{ sources = [browser], sinks = [files], "
        f'schema_file = "{FIXTURES / "TestRecord.avsc"}", mapping_script_file = "{script}" }}\n'
    )


@pytest.fixture
def city_db(tmp_path: Path) -> Path:
    database = tmp_path / "city.mmdb"
    write_db(database, {"1.2.3.0/24": city_record()})
    return database


def test_mapping_test_takes_mapping_schema_and_geoip_database_from_the_configuration(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, city_db: Path
) -> None:
    """Divolte's geo-mapping.groovy with a GeoIP database: every GeoIP field as Divolte's test expects it."""
    conf = configuration(tmp_path, geo_mapping(), city_db)
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"remote_host": "1.2.3.4", "first_in_session": True}))
    expected = load_json_with_comments(FIXTURES / "city-response-expected-mapping.json")
    for argv in (["mapping-test", "--config", str(conf)], ["--config", str(conf), "mapping-test"]):
        assert main([*argv, "--event", str(event)]) == 0
        record = json.loads(capsys.readouterr().out)
        assert {field: record[field] for field in expected} == expected
        assert record["remoteHost"] == "1.2.3.4" and record["sessionStart"] is True


def test_mapping_test_with_a_configuration_runs_as_a_process(tmp_path: Path, city_db: Path) -> None:
    conf = configuration(tmp_path, geo_mapping(), city_db)
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"remote_host": "1.2.3.4"}))
    done = subprocess.run(
        [sys.executable, "-m", "collector.cli", "mapping-test", "--config", str(conf), "--event", str(event)],
        capture_output=True, text=True, timeout=60, cwd=REPO, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["geoCityName"] == "Bussum"


def test_mapping_test_configuration_errors_name_the_key_and_the_fix(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, city_db: Path
) -> None:
    event = tmp_path / "event.json"
    event.write_text("{}")
    no_database = configuration(tmp_path, geo_mapping())
    assert main(["mapping-test", "--config", str(no_database), "--event", str(event)]) == 1
    assert f"divolte.mappings.geo: {GEO_MAPPING}:22:15: ip2geo() needs a GeoIP database" in capsys.readouterr().err

    two = configuration(tmp_path, geo_mapping("geo") + geo_mapping("other"), city_db)
    assert main(["mapping-test", "--config", str(two), "--event", str(event)]) == 1
    assert "has the mappings geo, other: choose one with --name" in capsys.readouterr().err
    assert main(["mapping-test", "--config", str(two), "--name", "nope", "--event", str(event)]) == 1
    assert "divolte.mappings.nope does not exist" in capsys.readouterr().err
    assert main(["mapping-test", "--config", str(two), "--name", "other", "--event", str(event)]) == 0
    capsys.readouterr()

    assert main(["mapping-test", "--event", str(event)]) == 2
    assert "mapping-test needs --mapping FILE, or --config FILE" in capsys.readouterr().err


def test_mapping_test_options_replace_the_configured_files(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, city_db: Path
) -> None:
    """``--mapping`` replaces the configured script; a configured mapping without one is Divolte's built-in."""
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"remote_host": "1.2.3.4", "location": "https://example.com/"}))
    minimal = tmp_path / "city.groovy"
    minimal.write_text(
        "mapping {\n  map ip2geo().cityName() onto 'client'\n  map timestamp() onto 'ts'\n"
        "  map true onto 'sessionStart'\n  map remoteHost() onto 'remoteHost'\n}\n"
    )
    conf = configuration(tmp_path, geo_mapping(), city_db)
    assert main(["mapping-test", "--config", str(conf), "--mapping", str(minimal), "--event", str(event)]) == 0
    assert json.loads(capsys.readouterr().out)["client"] == "Bussum"
    builtin = configuration(tmp_path, "divolte.mappings.plain { sources = [browser], sinks = [files] }\n")
    assert main(["mapping-test", "--config", str(builtin), "--event", str(event)]) == 0
    assert json.loads(capsys.readouterr().out)["location"] == "https://example.com/"
