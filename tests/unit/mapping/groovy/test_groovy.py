"""Divolte's Groovy mappings: each file in ``groovy/`` runs as Groovy and as the Python ``convert-mapping`` prints.

The two paths must build the same action tree and give identical records on the same events; a few
expected values per file keep the comparison from being vacuous. Together the files use every construct
of SPEC §6.2 and every value function of §6.3 (checked below by walking their syntax trees).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from collector.avro.schemas import Schema, load_schema
from collector.cli import main
from collector.enrich.geo import GEO_FIELDS, GeoDatabase
from collector.enrich.useragent import UserAgentParser
from collector.errors import MappingError
from collector.events import DivolteEvent
from collector.mapping.compile import CompiledMapping, load_mapping
from collector.mapping.dsl import Action, MapAction, SectionAction, WhenAction
from collector.mapping.groovy import convert_groovy, load_any_mapping
from collector.mapping.groovy import parser as ast
from collector.mapping.groovy.numbers import number_value
from collector.mapping.groovy.vocabulary import METHODS, PRODUCER_METHODS
from collector.mapping.vocabulary import Environment, Vocabulary
from collector.tools.mapping_test import MappingTester, event_from_description
from tests.geodb import city_record as _city_record
from tests.geodb import write_db as _write_db
from tests.paths import REPO
from tests.unit.mapping.cases import CASES, SCHEMA, event

HERE = Path(__file__).parent / "scripts"
GROOVY_FILES = sorted(HERE.glob("*.groovy"))
SHOP = REPO / "mappings" / "shop.groovy"
CHROME = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36"
SHOP_LOCATION = (
    "https://shop.example.com:8443/path/with/7/p-9.html?q=red+bag&n=42&l=9000000000&f=1.1&b=TRUE&p=a&p=b&s=abc-12"
    "#/spa/route?x=1"
)


def described_event(**description: Any) -> DivolteEvent:
    """An event described as for mapping-test, with fixed identifiers and times (not generated ones)."""
    fixed = {"party_id": "0:p:party", "session_id": "0:p:session", "page_view_id": "0:p:view", "event_id": "0:p:e",
             "timestamp": 1700000000000, "client_timestamp": 1699999999000}  # fmt: skip
    return event_from_description({**fixed, **description})


def described() -> DivolteEvent:
    return described_event(**{
        "location": "http://www.example.com/", "event_type": "click", "corrupt": True, "duplicate": True,
        "remote_host": "1.2.3.4", "user_agent": CHROME,
        "headers": {"X-Client-IP": "1.2.3.99", "Accept-Language": "nl, en;q=0.5", "Cookie": "custom_cookie=c"},
        "parameters": {"foo": "x", "bar": 7, "items": [{"name": "n", "count": 1, "price": 2.5}]},
    })  # fmt: skip


EVENTS: dict[str, Callable[[], DivolteEvent]] = {
    "flat": lambda: event(location=CASES["flat"]["location"], referer=CASES["flat"]["referer"]),
    "uri": lambda: event(location=CASES["uri"]["location"], referer=CASES["uri"]["referer"]),
    "uri raw": lambda: event(location=CASES["uri raw"]["location"]),
    "regex": lambda: event(location=CASES["regex"]["location"], mincode=CASES["event params jsonpath"]["u_mincode"]),
    "bare": lambda: event(),
    "shop": lambda: event(SHOP_LOCATION, "http://example.com/", CASES["event params homogeneous"]["u_mincode"]),
    "described": described,
    "clean": lambda: described_event(location="http://example.com/", referer="http://example.com/"),
    "clean, no location": lambda: described_event(event_type="pageView"),
}
EXPECTED: dict[str, tuple[str, dict[str, Any]]] = {
    "values": ("flat", {
        "sessionStart": True, "unreliable": True, "dupe": False, "ts": 1412220184999, "remoteHost": "127.0.0.1",
        "location": "https://example.com/", "referer": "http://example.com/", "eventType": "pageView",
        "customCookie": "custom_cookie_value", "userAgentFamily": "Chrome", "userAgentOsFamily": "OS X",
    }),
    "uri": ("shop", {
        "locationProtocol": "https", "uriHost": "shop.example.com", "uriPort": 8443, "uriPath": "/path/with/7/p-9.html",
        "uriQueryStringValue": "red bag", "uriQueryStringValues": ["a", "b"], "uriFragment": "/spa/route?x=1",
        "pageview": "/spa/route", "event": "1", "refererProtocol": "http", "queryparamInteger": 42,
        "pathInteger": 42, "queryparamLong": 9000000000, "pathLong": 9000000000, "queryparamDouble": 1.1,
        "pathDouble": 1.1, "queryparamBoolean": True, "customInteger": 42,
    }),
    "headers_and_parameters": ("regex", {
        "headerList": ["first", "second", "last"], "headerFirst": "first", "headerLast": "last", "headerGet1": "second",
        "headerGet_1": "last", "paramValue": "string", "customEventParameter": "string", "paramIntValue": 42,
        "itemPrices": [1.23, 0.89], "contentPage": "",
    }),
    "conditions": ("regex", {
        "sessionStart": True, "flag1": True, "flag2": False, "unreliable": True, "dupe": True,
        "queryparamBoolean": True, "pathBoolean": True, "cookieBoolean": True, "refererProtocol": "direct",
        "subCategory": "42", "toplevelCategory": "about",
    }),
    "sections": ("regex", {  # a corrupt event: `when corrupt() stop()` ends the mapping
        "queryparam": "start", "contentPage": "article", "client": "in a section closure", "session": "has items",
        "pageview": None, "event": None,
    }),
    "sections-clean": ("clean", {
        "contentPage": "home", "referer": "http://example.com/", "refererProtocol": None, "session": "no items",
        "pageview": "not corrupt", "event": "reached the end", "customCookie": None,
    }),
    "sections-clean, no location": ("clean, no location", {"contentPage": "other", "pageview": "not corrupt",
                                                          "event": None}),
    "typed": ("shop", {
        "text": "a string", "flag": True, "int32": 2147483647, "int64": -(2**63), "fp32": 1.5, "fp64": 1000.0,
        "single": 'it\'s "single"\t\u00e9', "double": 'double "quoted" $5', "tripleSingle": "triple\nsingle",
        "tripleDouble": "triple double", "slashy": r"^/path/(\d+)\.html$", "dollarSlashy": r"dollar /slashy/ $ \d",
        "joined": "joined across lines", "parsedInt": 42, "parsedLong": 9000000000, "parsedDouble": 1.1,
        "parsedBool": True, "eqString": True, "eqBoolean": True, "eqInteger": True, "eqLong": True, "eqFloat": True,
        "eqDouble": True, "regexMatched": "abc",
    }),
    "syntax": ("shop", {
        "queryparam": "declared outside mapping { }", "client": "0:i0rjfnxc:JLOvH9Nda2c1uV8M~vmdhPGFEC3WxVNq",
        "refererProtocol": "has a referer", "locationProtocol": "has a location", "uriQueryStringValue": "red bag",
        "uriScheme": "https", "uriHost": "shop.example.com", "flag1": True, "contentPage": None,  # corrupt: exited
        "subCategory": "second block", "event": "end",
    }),
    "syntax-clean": ("clean", {"contentPage": "not corrupt", "flag1": False, "event": "end"}),
    "syntax-clean, no location": ("clean, no location", {"subCategory": "second block", "event": None}),
    "digests": ("regex", {"digestString": hashlib.sha256(b"aLiteralString").hexdigest()}),
    "geo": ("described", {"geoCityName": "Bussum", "client": "Bussum"}),
}  # fmt: skip


@pytest.fixture(scope="module")
def geo_environment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Environment]:
    database = tmp_path_factory.mktemp("geo") / "city.mmdb"
    _write_db(database, {"1.2.3.0/24": _city_record()})
    yield Environment(UserAgentParser(100), GeoDatabase.open(database))


def schema_for(path: Path) -> Schema:
    own = path.with_suffix(".avsc")
    return load_schema(own) if own.exists() else SCHEMA


def shape(actions: list[Action]) -> list[Any]:
    """The action tree without file positions: what both paths must build identically."""
    out: list[Any] = []
    for action in actions:
        if isinstance(action, MapAction):
            out.append(("map", action.field, action.producer.describe, action.is_literal, repr(action.literal)))
        elif isinstance(action, WhenAction):
            out.append(("when", action.condition.describe, shape(action.actions)))
        elif isinstance(action, SectionAction):
            out.append(("section", shape(action.actions)))
        else:
            out.append(type(action).__name__)
    return out


def positions(actions: list[Action]) -> Iterator[tuple[str, int, int]]:
    for action in actions:
        yield action.where.file, action.where.line, action.where.column
        if isinstance(action, WhenAction | SectionAction):
            yield from positions(action.actions)


def both(
    path: Path, tmp_path: Path, environment: Environment, schema: Schema | None = None
) -> tuple[CompiledMapping, CompiledMapping]:
    python = tmp_path / f"{path.stem}.py"
    python.write_text(convert_groovy(path))
    schema = schema or schema_for(path)
    return load_any_mapping(path, schema, environment), load_mapping(python, schema, environment)


@pytest.mark.parametrize("path", GROOVY_FILES, ids=lambda p: p.stem)
def test_groovy_and_its_python_conversion_map_identically(
    path: Path, tmp_path: Path, geo_environment: Environment
) -> None:
    from_groovy, from_python = both(path, tmp_path, geo_environment)
    assert shape(from_groovy.actions) == shape(from_python.actions)
    assert all(file == str(path) and line > 0 and column > 0 for file, line, column in positions(from_groovy.actions))
    for name, make in EVENTS.items():
        assert from_groovy.map(make()) == from_python.map(make()), name
    for key, (event_name, expected) in EXPECTED.items():
        if key.split("-")[0] == path.stem:
            record = from_groovy.map(EVENTS[event_name]())
            assert record is not None
            assert {field: record.get(field) for field in expected} == expected, key


def test_shop_groovy_and_shop_py_fill_the_shop_schema_identically(tmp_path: Path) -> None:
    events: list[dict[str, Any]] = [
        {"location": "https://shop.example.com/bags/p-9.html?q=red+bag&utm_source=news", "event_type": "addToBasket",
         "parameters": {"sku": "B-9", "price": 99, "tags": "single", "email": "a@example.com",
                        "basket": [{"sku": "B-9", "quantity": 2}]},
         "headers": {"Accept-Language": "nl, en", "Cookie": "ab_experiment=v2"}, "user_agent": CHROME},
        {"location": "not a url at all", "corrupt": True},
        {},
    ]  # fmt: skip
    groovy = MappingTester(str(REPO / "schemas" / "ShopEvent.avsc"), str(SHOP))
    python = MappingTester(str(REPO / "schemas" / "ShopEvent.avsc"), str(REPO / "mappings" / "shop.py"))
    converted = tmp_path / "shop_converted.py"
    converted.write_text(convert_groovy(SHOP))
    again = MappingTester(str(REPO / "schemas" / "ShopEvent.avsc"), str(converted))
    for description in events:
        fixed = {"timestamp": 1, "party_id": "p", "session_id": "s", "page_view_id": "v", "event_id": "e"}
        results = [json.loads(t.run({**fixed, **description})) for t in (groovy, python, again)]
        assert results[0] == results[1] == results[2]
    first = json.loads(groovy.run({**fixed, **events[0]}))
    assert (first["category"], first["productId"], first["experiment"]) == ("bags", "p-9", "v2")
    assert first["hashedEmail"] and first["basket"] == [{"sku": "B-9", "quantity": 2}]


def _walk(node: Any) -> Iterator[Any]:
    yield node
    for name in getattr(node, "__dataclass_fields__", {}):
        child = getattr(node, name)
        for item in child if isinstance(child, tuple) else (child,):
            if isinstance(item, ast.Node):
                yield from _walk(item)


def test_the_files_use_every_construct_and_value_function() -> None:
    calls: set[str] = set()
    methods: set[str] = set()
    for path in [*GROOVY_FILES, SHOP]:
        for statement in ast.parse(path.read_text(), str(path)).body:
            for node in _walk(statement):
                if isinstance(node, ast.Call):
                    calls.add(node.name)
                elif isinstance(node, ast.MethodCall):
                    methods.add(node.name)
    functions = set(Vocabulary(Environment(UserAgentParser(1))).functions())
    python_only = {"eventSource", "newPartyId"}  # not in Divolte's reference (SPEC §6.3)
    statements = {"mapping", "map", "when", "section", "stop", "exit", "exitWhen", "match", "matcher", "parse",
                  "not", "toInt", "toLong", "toFloat", "toDouble", "toBoolean", "parseUri"}  # fmt: skip
    assert (functions - python_only) | statements <= calls, (functions - python_only) | statements - calls
    every_method = set(PRODUCER_METHODS) | {name for table in METHODS.values() for name in table}
    every_method |= {"onto", "apply", "stop", "exit", "against", "to"} | set(GEO_FIELDS)
    assert every_method <= methods, every_method - methods


def test_convert_mapping_prints_the_python_mapping(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["convert-mapping", str(SHOP)]) == 0
    printed = capsys.readouterr().out
    assert printed == convert_groovy(SHOP)
    assert "url = parse(location()).to('uri')\n" in printed
    assert "productPage = match(r'^/(?<category>[a-z-]+)/(?<product>p-[0-9]+)\\.html$').against(url.path())" in printed
    assert "with when(productPage.matches()):\n    map_(productPage.group('category')).onto('category')" in printed
    assert "with when(corrupt().or_(duplicate())):\n    map_(True).onto('suspicious')\n" in printed
    assert "# Parts of the page URL. A malformed URL leaves these unset.\n" in printed


def test_convert_mapping_refuses_what_groovy_mappings_cannot_do(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = tmp_path / "m.groovy"
    path.write_text("mapping {\n    if (corrupt()) { stop() }\n}\n")
    assert main(["convert-mapping", str(path)]) == 1
    assert f"Error: {path}:2:9: `if` runs once, at start-up, and corrupt() (a Boolean) is computed per event" in (
        capsys.readouterr().err
    )


def test_python_names_that_would_hide_the_dsl_are_renamed(tmp_path: Path) -> None:
    path = tmp_path / "m.groovy"
    path.write_text("mapping {\n def location = referer()\n def lambda = eventType()\n map location onto 'client'\n"
                    " map lambda onto 'session'\n map referer() onto 'location'\n}\n")  # fmt: skip
    python = convert_groovy(path)
    assert "location_ = referer()\nlambda_ = eventType()\nmap_(location_).onto('client')" in python
    from_groovy, from_python = both(path, tmp_path, Environment(UserAgentParser(10)))
    flat = EVENTS["flat"]
    assert (
        from_groovy.map(flat())
        == from_python.map(flat())
        == {"client": "http://example.com/", "session": "pageView", "location": "http://example.com/"}
    )


def test_same_speed_because_the_same_actions(tmp_path: Path) -> None:
    """Both paths compile to the same closures: the compiled steps are built by the same Compiler."""
    shop_schema = load_schema(REPO / "schemas" / "ShopEvent.avsc")
    from_groovy, from_python = both(SHOP, tmp_path, Environment(UserAgentParser(10)), shop_schema)
    assert type(from_groovy) is type(from_python) is CompiledMapping
    assert shape(from_groovy.actions) == shape(from_python.actions)
    shared = EVENTS["shop"]()
    assert from_groovy.map(replace(shared, memo={})) == from_python.map(replace(shared, memo={}))


@pytest.mark.parametrize(
    ("source", "message"),
    [
        # Groovy outside the mapping subset: refused where it stands, saying what to write instead
        ("mapping {\n  if (corrupt()) { }\n}", "2:7: `if` runs once, at start-up, and corrupt() (a Boolean) is"),
        ("mapping {\n  for (x in y) {}\n}", "2:3: `for` is not supported"),
        ("mapping {\n  while (true) {}\n}", "2:3: `while` is not supported"),
        ("import groovy.json.JsonSlurper", "1:1: `import` is not supported"),
        ("class Foo {}", "1:1: `class` is not supported: a mapping cannot define classes"),
        ("def foo() { }", "1:8: defining methods (`def foo(…)`) is not supported"),
        ("mapping {\n  try { stop() } catch (e) {}\n}", "2:3: `try` (exception handling) is not supported"),
        ("mapping {\n  map new Date() onto 'client'\n}", "2:7: `new` is not supported"),
        ("mapping {\n  String x = location()\n}", "2:3: typed declarations (`String x = …`) are not supported"),
        ("@Grab('x')\nmapping {}", "1:1: annotations (@…) are not supported"),
        ("mapping {\n  map { x, y -> x } onto 'client'\n}", "2:3: this closure takes 2 argument(s) (x, y), not 0"),
        # Operators on values computed per event
        (
            "mapping {\n  map location() && referer() onto 'x'\n}",
            "2:18: the operator `&&` is not supported in a mapping on location() (a String), which is computed per "
            "event: combine conditions with a.and(b)",
        ),
        (
            "mapping {\n  map location() || referer() onto 'x'\n}",
            "2:18: the operator `||` is not supported in a mapping on location() (a String), which is computed per "
            "event: combine conditions with a.or(b)",
        ),
        (
            "mapping {\n  when !corrupt() apply {}\n}",
            "2:8: the operator `!` is not supported in a mapping on corrupt()",
        ),
        (
            "mapping {\n  when location() == referer() apply {}\n}",
            "2:19: the operator `==` is not supported in a mapping on location() (a String), which is computed per "
            "event: compare with a.equalTo(b)",
        ),
        ("mapping {\n  map timestamp() + 1 onto 'ts'\n}", "2:19: only strings known at start-up can be joined"),
        (
            "mapping {\n  map location() ? 'a' : 'b' onto 'client'\n}",
            "2:18: the operator `?` is not supported in a mapping on location()",
        ),
        (
            "mapping {\n  map -1 onto 'customInteger'\n}",
            "2:7: the operator `-` is not supported in a mapping: "
            "Groovy reads `name -1` as a subtraction; write name(-1)",
        ),
        ("mapping {\n  map location()?.length() onto 'x'\n}", "2:17: `?.` is not supported"),
        ("mapping {\n  map header('X')[0] onto 'client'\n}", "2:18: `[` is not supported in a mapping: indexing"),
        # Literals with Groovy's types
        ("mapping {\n  map \"x$y\" onto 'client'\n}", "2:10: 'y' is not defined"),
        ("mapping {\n  map \"x${1}\" onto 'client'\n}", '2:3: "x1" is a GString (a string with $…), which Divolte'),
        (
            "mapping {\n  map 42.0 onto 'queryparamDouble'\n}",
            "2:3: 42.0 is a BigDecimal in Groovy, which Divolte cannot use: write 42.0D for a double",
        ),
        (
            "mapping {\n  map 42 onto 'queryparamLong'\n}",
            "2:3: field 'queryparamLong': cannot map the literal 42 (Integer) onto long; write 42L for a long",
        ),
        (
            "mapping {\n  map 42L onto 'customInteger'\n}",
            "2:3: field 'customInteger': cannot map the literal 42L (Long) onto int; write 42 for an int",
        ),
        ("mapping {\n  map 2.5D onto 'customInteger'\n}", "2:3: field 'customInteger': cannot map the literal 2.5D"),
        ("mapping {\n  map null onto 'client'\n}", "2:3: null cannot be mapped"),
        ("mapping {\n  map '\\d' onto 'client'\n}", "2:8: '\\d' is not an escape Groovy knows in a quoted string"),
        ("mapping {\n  map 'abc onto 'client'\n}", "2:24: this string is never closed with '"),
        # What Java's equals can never make true, which Divolte evaluates to false for every event
        (
            "mapping {\n  map viewportPixelWidth().equalTo(1018L) onto 'flag1'\n}",
            "2:28: viewportPixelWidth() is an Integer and 1018L a Long: in Divolte (Java's equals) this equalTo is "
            "false for every event (write 1018)",
        ),
        (
            "mapping {\n  map eventParameters().path('$.a').equalTo('x') onto 'flag1'\n}",
            "2:37: eventParameters().path('$.a') is a JsonNode: equalTo('x') is false for every event",
        ),
        (
            "mapping {\n  map location().equalTo(viewportPixelWidth()) onto 'flag1'\n}",
            "2:18: location() is a String and viewportPixelWidth() an Integer",
        ),
        # The DSL's vocabulary and statements
        (
            "mapping {\n  map location().toUpperCase() onto 'client'\n}",
            "2:18: location() (a String) has no method toUpperCase(); it has isPresent(), isAbsent(), equalTo()",
        ),
        ("mapping {\n  println 'x'\n}", "2:3: println() is not part of Divolte's mapping DSL"),
        ("map location() onto 'location'", "1:5: location() is only available inside mapping { … }"),
        (
            "mapping {\n  when location().isAbsent apply {}\n}",
            "2:19: `.isAbsent` without parentheses reads a property, which location() (a String) does not have",
        ),
        ("mapping {\n  when corrupt() exit\n}", "2:18: `.exit` without parentheses reads a property"),
        ("mapping {\n  stop\n}", "2:3: `stop` is a function: call it with parentheses"),
        ("mapping {\n  map nope onto 'client'\n}", "2:7: 'nope' is not defined"),
        ("mapping {\n def u = location()\n def u = referer()\n}", "3:2: the variable 'u' is already declared (line 2)"),
        ("mapping { map location() }", "1:11: this map … has no onto 'field', so it maps nothing"),
        ("mapping {\n  def m = map location()\n}", "2:11: this map … has no onto 'field'"),
        ("mapping { when corrupt() }", "1:11: this when … has no apply { … }, stop() or exit(), so it does nothing"),
        ("mapping {\n  location()\n}", "2:3: this statement has no effect: location() (a String) is not mapped"),
        ("mapping {\n  when corrupt() discard()\n}", "2:18: discard() exists in Python mappings only"),
        (
            "mapping {\n  map parse(location()).to('int32') onto 'customInteger'\n}",
            "2:25: to takes one of int32, int64, fp32, fp64, bool, uri (names, not strings)",
        ),
        ("mapping {\n  map header(42).first() onto 'client'\n}", "2:7: header() takes a string, not the Integer 42"),
        ("mapping {\n  map header('a').get(1L) onto 'client'\n}", "2:19: get() takes an Integer, not the Long 1L"),
        ("mapping {\n  section(location())\n}", "2:3: expected a closure { … }, found location() (a String)"),
        (
            "mapping {\n  when referer().isAbsent() { stop() }\n}",
            "2:18: isAbsent() takes 0 arguments, not 1 (Groovy passes a { … } that follows a call on the same line",
        ),
        ("mapping {\n  when location() apply { }\n}", "2:3: location() is a String, not a Boolean condition"),
        ("mapping {\n  map ip2geo().cityName() onto 'client'\n}", "2:7: ip2geo() needs a GeoIP database"),
        (
            "mapping {\n  map match('(').against(location()).matches() onto 'flag1'\n}",
            "2:7: regular expression '(' is not valid",
        ),
        ("mapping {\n  map digest('SHA-999').add('x').result() onto 'digestBinary'\n}", "2:7: digest algorithm"),
        # Syntax
        (
            "mapping {\n map location() onto 'location'\n",
            "3:1: expected '}' to close the closure opened at line 1, column 9, found the end of the file",
        ),
        ("mapping {\n  map location() onto 'client' 'extra'\n}", "2:32: unexpected 'extra' after the end of the"),
        ("mapping {\n  map location() onto 'client'\n}}", "3:2: unexpected '}' (a closing brace without"),
        ("/* never closed", "1:1: this /* comment is never closed with */"),
        # The schema, checked at start-up as for Python mappings, at the Groovy position
        ("mapping { map location() onto 'nope' }", "1:11: field 'nope' does not exist in io.divolte.record.TestRecord"),
        (
            "mapping {\n    map timestamp() onto 'customInteger'\n}",
            "2:5: field 'customInteger': cannot map timestamp() (Long) onto int",
        ),
        (
            "mapping {\n  map userAgent() onto 'client'\n}",
            "2:3: field 'client': userAgent() is a UserAgent, which cannot be mapped itself",
        ),
    ],
)
def test_start_up_errors_name_the_groovy_file_line_and_column(source: str, message: str, tmp_path: Path) -> None:
    path = tmp_path / "m.groovy"
    path.write_text(source)
    with pytest.raises(MappingError) as raised:
        load_any_mapping(path, SCHEMA, Environment(UserAgentParser(10)))
    assert str(raised.value).startswith(f"{path}:{message}"), str(raised.value)


def test_check_config_names_the_groovy_file_of_a_broken_mapping(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    groovy = tmp_path / "broken.groovy"
    groovy.write_text("mapping {\n    map location() onto 'location'\n    if (corrupt()) { stop() }\n}\n")
    conf = tmp_path / "c.conf"
    conf.write_text(
        "divolte.sources.browser.type = browser\n"
        f'divolte.sinks.files {{ type = hdfs, file_strategy {{ working_dir = "{tmp_path}" }} }}\n'
        f'divolte.sinks.files.file_strategy.publish_dir = "{tmp_path}"\n'
        f'divolte.mappings.a {{ sources = [browser], sinks = [files], mapping_script_file = "{groovy}" }}\n'
    )
    assert main(["check-config", str(conf)]) == 1
    assert f"divolte.mappings.a: {groovy}:3:9: `if` runs once, at start-up" in capsys.readouterr().err
    groovy.write_text("mapping {\n    map location() onto 'location'\n}\n")
    assert main(["check-config", str(conf)]) == 0


@pytest.mark.parametrize(
    ("text", "value", "java"),
    [
        ("42", 42, "Integer"), ("42L", 42, "Long"), ("42i", 42, "Integer"), ("2147483648", 2**31, "Long"),
        ("9223372036854775808", 2**63, "BigInteger"), ("42G", 42, "BigInteger"), ("0x7fffffff", 2**31 - 1, "Integer"),
        ("0xFFFFFFFF", 2**32 - 1, "Long"), ("0x1FL", 31, "Long"), ("0b101", 5, "Integer"), ("017", 15, "Integer"),
        ("1_000", 1000, "Integer"), ("1.5", "1.5", "BigDecimal"), ("1e3", "1e3", "BigDecimal"), ("1.5d", 1.5, "Double"),
        ("42D", 42.0, "Double"), ("1e3d", 1000.0, "Double"), ("1.5F", 1.5, "Float"), ("42f", 42.0, "Float"),
        ("1.1f", 1.100000023841858, "Float"),  # the Java float nearest to 1.1, as parse … to fp32 gives
    ],
)  # fmt: skip
def test_number_literals_have_groovy_s_types(text: str, value: Any, java: str) -> None:
    assert number_value(text) == (value, java)


@pytest.mark.parametrize("text", ["2147483649i", "3.4e39f", "1.5L", "09"])
def test_number_literals_groovy_refuses(text: str) -> None:
    with pytest.raises(ValueError):
        number_value(text)
