"""Divolte's own 41 test mapping scripts and its example, run as Divolte runs them (``tests/data/divolte-mappings``).

Each script runs on the request its test in Divolte's ``DslRecordMapperTest`` sends (base query, headers,
location, referer, event parameters) with ``TestRecord.avsc``, and the record holds the values that test
asserts; the scripts Divolte refuses at start-up are refused here too, for the same reason. The seeded
digests are computed here from the algorithm of SPEC §6.7 (PBKDF2 key, then HMAC), with Python's hashlib.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from collector.avro.schemas import load_schema
from collector.enrich.geo import GeoDatabase
from collector.enrich.useragent import UserAgentParser
from collector.errors import MappingError
from collector.events import DivolteEvent
from collector.mapping.compile import load_mapping
from collector.mapping.groovy import convert_groovy, load_any_mapping
from collector.mapping.vocabulary import Environment
from tests.geodb import city_record, write_db
from tests.paths import FIXTURES
from tests.unit.mapping.cases import CASES, SCHEMA, event
from tests.vectors import load_json_with_comments

SCRIPTS = Path(__file__).resolve().parents[3] / "data" / "divolte-mappings"
EVENT_ID = "0:OxVC1WJ4PZNEGIUuzdXPsy_bztnKMuoH0"
PARTY_ID = "0:i0rjfnxc:JLOvH9Nda2c1uV8M~vmdhPGFEC3WxVNq"
HOMOGENEOUS = CASES["event params homogeneous"]["u_mincode"]
HETEROGENEOUS = CASES["event params jsonpath"]["u_mincode"]
URI, URI_RAW, URI_FRAGMENT = CASES["uri"], CASES["uri raw"], CASES["uri of fragment"]


def sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def seeded(algorithm: str, seed: str, message: bytes) -> bytes:
    """Divolte's ``digest(algorithm, seed)``: an HMAC keyed by PBKDF2 of the seed, the key as many bytes as the
    MAC has bytes divided by 8 (Java takes the byte length for a bit length)."""
    salt = b"divolte" + bytes.fromhex("b687e2d9aa060372")
    key = hashlib.pbkdf2_hmac(algorithm, seed.encode(), salt, 100_000, dklen=hashlib.new(algorithm).digest_size // 8)
    return hmac.new(key, message, algorithm).digest()


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


GEO = load_json_with_comments(FIXTURES / "city-response-expected-mapping.json")
STOPPED = {"client": "happened", "session": None}
EXITED = {
    "client": "happened",
    "pageview": "happened",
    "event": "happened",
    "customCookie": "happened",
    "session": None,
}
EXPECTED: dict[str, tuple[dict[str, Any], dict[str, Any]] | str] = {
    # name: (the request of Divolte's test, the fields it asserts) or the start-up error (Divolte refuses it too)
    "basic-stop": ({}, STOPPED),
    "basic-toplevel-exit": ({}, STOPPED),
    "boolean-logic": (
        {"location": "http://www.example.com/"},
        {"unreliable": True, "dupe": False, "queryparamBoolean": True, "pathBoolean": True},
    ),
    "chained-na-mapping": ({"location": "http://www.exmaple.com/"}, {"queryparam": "not set"}),
    "client-timestamp": ({"location": "https://example.com/", "referer": "http://example.com/"}, {"ts": 1412220184033}),
    "correct-types-literal": (
        {"location": "http://www.example.com/correct"},
        {
            "queryparam": "string value",
            "queryparamBoolean": True,
            "queryparamLong": 42,
            "pathInteger": 42,
            "queryparamDouble": 42.0,
        },
    ),
    "custom-cookie-mapping": ({}, {"customCookie": "custom_cookie_value"}),
    "digest-bytebuffer": ({}, {"digestBinary": sha256(sha256(b""))}),
    "digest-chaining": ({}, {"digestBinary": sha256(f"{EVENT_ID}aLiteralString".encode())}),
    "digest-json": ({"mincode": HETEROGENEOUS}, {"digestBinary": sha256(b"string42apple")}),
    "digest-missing-value": ({}, {"digestBinary": sha256(b"")}),
    "digest-string-literal": ({}, {"digestBinary": sha256(b"aLiteralString")}),
    "digest-string-provider": ({}, {"digestBinary": sha256(EVENT_ID.encode())}),
    # `it` in the inner closure is the `mapping { }` closure's, which Divolte calls without an argument: null
    "digest-with-documented-algorithms": ({}, {"digestBinary": seeded("sha512", "seed-null", b"")}),
    "digest-with-seed": (
        {},
        {
            "digestString": b64(sha256(EVENT_ID.encode())),
            "digestString2": b64(seeded("sha256", "foo", EVENT_ID.encode())),
            "digestString3": b64(seeded("sha256", "bar", EVENT_ID.encode())),
        },
    ),
    "digest-with-string-conversion": ({}, {"digestString": b64(sha256(EVENT_ID.encode()))}),
    "event-param-all": (
        {"mincode": HETEROGENEOUS},
        {
            "paramRecord": {
                "foo": "string",
                "bar": "42",
                "items": [{"count": 3, "price": 1.23}, {"count": 1, "price": 0.89}],
            }
        },
    ),
    "event-param-jsonpath-mapping": (
        {"mincode": HETEROGENEOUS},
        {
            "paramValue": "string",
            "paramIntValue": 42,
            "itemPrices": [1.23, 0.89],
            "items": [{"name": "apple", "count": 3, "price": 1.23}, {"name": "pear", "count": 1, "price": 0.89}],
        },
    ),
    "event-param-jsonpath-mismatch": ({"mincode": HETEROGENEOUS}, {"paramIntValue": None, "flag1": True}),
    "event-param-jsonpath-missing": ({}, {"paramValue": "value that should not be overwritten"}),
    "event-param-jsonpath-presence": ({"mincode": HOMOGENEOUS}, {"flag1": True, "flag2": False}),
    "event-param-mapping": (
        {"mincode": HOMOGENEOUS},
        {"paramMap": {"foo": "string", "bar": "42"}, "paramValue": "string"},
    ),
    "flat-mapping": (
        {"location": "https://example.com/", "referer": "http://example.com/"},
        {
            "sessionStart": True,
            "unreliable": True,
            "dupe": False,
            "location": "https://example.com/",
            "referer": "http://example.com/",
            "userAgentFamily": "Chrome",
            "userAgentOsVersion": "10.10.1",
            "client": PARTY_ID,
            "event": EVENT_ID,
            "viewportWidth": 1018,
            "screenHeight": 1024,
            "pixelRatio": 2,
            "eventType": "pageView",
        },
    ),
    "funky-querystring-mapping": (
        {"location": "http://example.com/path/?a=value&=42&b=&d=word&c&=bla"},
        {"uriQueryStringValue": "value", "queryparam": "", "client": "", "pageview": "word"},
    ),
    "geo-mapping": (
        {"remote_host": "1.2.3.4"},
        load_json_with_comments(FIXTURES / "city-response-expected-mapping.json"),
    ),
    # The stored version of this script maps onto 'header', a field TestRecord.avsc no longer has
    "header-mapping": "24:5: field 'header' does not exist in io.divolte.record.TestRecord",
    "header-normalization-mapping": ({}, {"headerList": CASES["header normalization"]["expect"]["list"]}),
    "minimal-mapping": ({}, {"sessionStart": True, "remoteHost": "127.0.0.1"}),
    "missing-field-mapping": "18:5: field 'missing_field_name' does not exist in io.divolte.record.TestRecord",
    "nested-conditional-exit-closure": ({"location": "http://www.example.com"}, EXITED),
    "nested-conditional-exit": ({"location": "http://www.example.com"}, EXITED),
    "nested-conditional-stop": ({"location": "http://www.example.com"}, STOPPED),
    "regex-mapping": (
        {
            "location": "http://www.example.com/path/with/42/about.html",
            "referer": "http://www.example.com/path/with/13/contact.html",
        },
        {"pathBoolean": True, "client": "42", "pageview": "about"},
    ),
    "shorthand-conditional-stop-closure": ({"location": "http://www.example.com"}, STOPPED),
    "shorthand-conditional-stop": ({"location": "http://www.example.com"}, STOPPED),
    "uri-mapping-fragment": (
        {"location": URI_FRAGMENT["location"]},
        {
            "uriPath": "/client/side/path",
            "uriQueryString": "x=value&y=42&q=multiple+words+%24%23%25%26",
            "uriQueryStringValue": "multiple words $#%&",
        },
    ),
    "uri-mapping-raw": (
        {"location": URI_RAW["location"]},
        {
            "uriPath": "/path/to/resource%20and%20such/page.html",
            "uriQueryString": "q=multiple+words+%24%23%25%26&p=42",
            "uriFragment": "/client/side/path?x=value&y=42&q=multiple+words+%24%23%25%26",
        },
    ),
    "uri-mapping": (
        {"location": URI["location"], "referer": URI["referer"]},
        {
            "uriScheme": "https",
            "uriPath": "/path/to/resource/page.html",
            "uriHost": "www.example.com",
            "uriPort": 8080,
            "uriFragment": "/client/side/path?x=value&y=42",
            "uriQueryString": "q=multiple+words+$#%&&p=10&p=20",
            "uriQueryStringValue": "multiple words $#%&",
            "uriQueryStringValues": ["10", "20"],
            "uriQuery": {"p": ["10", "20"], "q": ["multiple words $#%&"]},
        },
    ),
    "when-mapping": (
        {"location": "http://www.example.com/", "referer": "http://www.example.com/somepage.html"},
        {
            "eventType": "locationmatch",
            "client": "referermatch",
            "queryparam": "not set",
            "event": "absent",
            "pageview": "present",
        },
    ),
    "wrong-types-literal": "23:5: field 'pathBoolean': cannot map the literal 'string literal' (String) onto boolean",
    "wrong-types-producer": "23:5: field 'pathInteger': cannot map location().equalTo('not the location') (Boolean)",
}


@pytest.fixture(scope="module")
def environment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Environment]:
    """Divolte's GeoIP fixture for 1.2.3.0/24, as its test's mocked lookup service answers."""
    database = tmp_path_factory.mktemp("geo") / "city.mmdb"
    write_db(database, {"1.2.3.0/24": city_record()})
    geo = GeoDatabase.open(database)
    yield Environment(UserAgentParser(100), geo)
    geo.close()


def request(location: str | None = None, referer: str | None = None, mincode: str | None = None,
            remote_host: str | None = None) -> DivolteEvent:  # fmt: skip
    built = event(location, referer, mincode)
    return built if remote_host is None else replace(built, remote_host=remote_host)


def test_the_bar_is_divolte_s_41_scripts() -> None:
    assert sorted(path.stem for path in SCRIPTS.glob("*.groovy")) == sorted(EXPECTED)
    assert len(EXPECTED) == 41


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_script_as_divolte_runs_it(name: str, environment: Environment, tmp_path: Path) -> None:
    """The values Divolte's test asserts, from the script and from the Python ``convert-mapping`` prints for it."""
    path = SCRIPTS / f"{name}.groovy"
    expected = EXPECTED[name]
    if isinstance(expected, str):
        with pytest.raises(MappingError) as refused:
            load_any_mapping(path, SCHEMA, environment)
        assert str(refused.value).startswith(f"{path}:{expected}"), str(refused.value)
        return
    described, fields = expected
    record = load_any_mapping(path, SCHEMA, environment).map(request(**described))
    assert record is not None
    python = tmp_path / f"{path.stem.replace('-', '_')}.py"
    python.write_text(convert_groovy(path))
    assert load_mapping(python, SCHEMA, environment).map(request(**described)) == record
    defaults = {field["name"]: field.get("default") for field in SCHEMA.parsed["fields"]}
    assert {field: record.get(field, defaults[field]) for field in fields} == fields


def test_the_documented_algorithms_each_declare_an_unseeded_and_a_seeded_digest() -> None:
    """``[…].each { algorithm -> … "seed-$it" }`` unrolled: eight maps, the seed written with the outer ``it``."""
    python = convert_groovy(SCRIPTS / "digest-with-documented-algorithms.groovy")
    maps = [line for line in python.splitlines() if line.startswith("map_(digest(")]
    assert maps == [
        f"map_(digest('{algorithm}'{seed}).result()).onto('digestBinary')"
        for algorithm in ("sha-224", "sha-256", "sha-384", "sha-512")
        for seed in ("", ", 'seed-null'")
    ]


def test_divolte_s_example_is_refused_where_divolte_fails_too(environment: Environment, tmp_path: Path) -> None:
    """``examples/schema-mapping.groovy`` writes ``when homepageMatcher.matches apply``: ``.matches`` without
    parentheses is a property, which Divolte's matcher does not have, so Groovy fails there at start-up. With
    the parentheses Divolte means, the rest of the example runs (onto a schema of its fields; it ships none)."""
    path = SCRIPTS / "examples" / "schema-mapping.groovy"
    with pytest.raises(MappingError) as refused:
        load_any_mapping(path, SCHEMA, environment)
    assert str(refused.value).startswith(f"{path}:59:30: `.matches` without parentheses reads a property, which "
                                         "match(")  # fmt: skip
    assert "(Divolte fails here too)" in str(refused.value)

    fixed = tmp_path / "schema-mapping.groovy"
    fixed.write_text(path.read_text().replace(".matches apply", ".matches() apply"))
    ints = {"viewportPixelWidth", "viewportPixelHeight", "screenPixelWidth", "screenPixelHeight", "devicePixelRatio"}
    names = re.findall(r"onto '(\w+)'", fixed.read_text())
    types = {"firstInSession": "boolean", "ts": "long", **dict.fromkeys(ints, "int")}
    schema = {"type": "record", "name": "Example", "fields": [
        {"name": name, "type": ["null", types.get(name, "string")], "default": None} for name in dict.fromkeys(names)
    ]}  # fmt: skip
    avsc = tmp_path / "Example.avsc"
    avsc.write_text(json.dumps(schema))
    mapping = load_any_mapping(fixed, load_schema(avsc), environment)
    pages = {
        "http://www.example.com/": {"pageType": "home"},
        "http://www.example.com/product/311381": {"pageType": "product_detail", "productId": "311381"},
        "http://www.example.com/search?q=red+shoes": {"pageType": "searchResults", "searchPhrase": "red shoes"},
        "http://www.example.com/fashion/jeans/regular/": {
            "pageType": "category",
            "shop": "fashion",
            "section": "jeans",
            "category": "regular",
        },
        "http://www.example.com/fashion/": {"pageType": "section", "shop": "fashion"},
    }
    for location, fields in pages.items():
        record = mapping.map(request(location))
        assert record is not None and record["location"] == location
        assert {field: record[field] for field in fields} == fields
