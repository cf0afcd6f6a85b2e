"""``divolte-collector mapping-test`` and custom mappings in configurations (start-up errors via check-config)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from collector.cli import main
from collector.tools.mapping_test import MappingTester, event_from_description
from tests.paths import REPO

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
