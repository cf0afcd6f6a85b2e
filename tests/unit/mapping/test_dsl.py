"""The Python mapping DSL against Divolte's DslRecordMapperTest expectations (vectors: ``mapping``)."""

from __future__ import annotations

import hashlib
import textwrap
from pathlib import Path
from typing import Any

import pytest

from collector.avro.encode import RecordEncoder
from collector.enrich.useragent import UserAgentParser
from collector.errors import MappingError
from collector.mapping.base import DISCARD
from collector.mapping.compile import CompiledMapping, load_mapping
from collector.mapping.java.digest import Digester, to_base64
from collector.mapping.vocabulary import Environment
from tests.paths import FIXTURES
from tests.unit.mapping.cases import CASES, ENVIRONMENT, SCHEMA, event
from tests.vectors import load_json_with_comments as load_vectors_json


def mapping(tmp_path: Path, text: str) -> CompiledMapping:
    path = tmp_path / "mapping.py"
    path.write_text(textwrap.dedent(text))
    return load_mapping(path, SCHEMA, ENVIRONMENT)


def run(tmp_path: Path, text: str, **event_args: Any) -> dict[str, Any]:
    record = mapping(tmp_path, text).map(event(**event_args))
    assert record is not None
    return record


def test_flat_fields(tmp_path: Path) -> None:
    case = CASES["flat"]
    record = run(
        tmp_path,
        """
        map_(firstInSession()).onto('sessionStart')
        map_(corrupt()).onto('unreliable')
        map_(duplicate()).onto('dupe')
        map_(location()).onto('location')
        map_(referer()).onto('referer')
        map_(userAgentString()).onto('userAgentString')
        ua = userAgent()
        map_(ua.name()).onto('userAgentName')
        map_(ua.family()).onto('userAgentFamily')
        map_(ua.vendor()).onto('userAgentVendor')
        map_(ua.type()).onto('userAgentType')
        map_(ua.version()).onto('userAgentVersion')
        map_(ua.deviceCategory()).onto('userAgentDeviceCategory')
        map_(ua.osFamily()).onto('userAgentOsFamily')
        map_(ua.osVersion()).onto('userAgentOsVersion')
        map_(ua.osVendor()).onto('userAgentOsVendor')
        map_(viewportPixelWidth()).onto('viewportWidth')
        map_(viewportPixelHeight()).onto('viewportHeight')
        map_(screenPixelWidth()).onto('screenWidth')
        map_(screenPixelHeight()).onto('screenHeight')
        map_(devicePixelRatio()).onto('pixelRatio')
        map_(eventType()).onto('eventType')
        map_(partyId()).onto('client')
        map_(eventId()).onto('event')
        map_(pageViewId()).onto('pageview')
        """,
        location=case["location"],
        referer=case["referer"],
    )
    expected = {k.replace("(corrupt)", ""): v for k, v in case["expect"].items()}
    assert record == expected


def test_client_timestamp_and_cookie(tmp_path: Path) -> None:
    record = run(tmp_path, "map_(clientTimestamp()).onto('ts')\nmap_(cookie('custom_cookie')).onto('customCookie')")
    assert record == {**CASES["clientTimestamp"]["expect"], **CASES["custom cookie"]["expect"]}


def test_when_and_equal_to(tmp_path: Path) -> None:
    case = CASES["when/equalTo"]
    record = run(
        tmp_path,
        """
        with when(location().equalTo('http://www.example.com/')):
            map_('locationmatch').onto('eventType')
        when(referer().equalTo('http://www.example.com/somepage.html')).apply(
            lambda: map_('referermatch').onto('client'))
        with when(location().equalTo('http://www.example.com/nope')):
            map_('never').onto('queryparam')
        with when(header('X-Non-Existing').isAbsent()):
            map_('absent').onto('event')
        with when(referer().isPresent()):
            map_('present').onto('pageview')
        with when(location().equalTo(referer())):
            map_('never').onto('session')
        with when(cookie('nope').equalTo(cookie('nope2'))):   # both absent: equal, as in Divolte
            map_('both absent').onto('customCookie')
        """,
        location=case["location"],
        referer=case["referer"],
    )
    assert record == {
        "eventType": "locationmatch", "client": "referermatch", "event": "absent", "pageview": "present",
        "customCookie": "both absent",
    }  # fmt: skip


def test_regex_groups(tmp_path: Path) -> None:
    case = CASES["regex"]
    record = run(
        tmp_path,
        f"""
        m = match({case["regex"]!r}).against(location())
        map_(m.matches()).onto('pathBoolean')
        map_(m.group(1)).onto('client')
        map_(m.group('page')).onto('pageview')
        map_(m.group('nope')).onto('event')
        """,
        location=case["location"],
    )
    assert record == {"pathBoolean": True, "client": "42", "pageview": "about"}
    no_match = run(tmp_path, f"map_(match({case['regex']!r}).against(location()).matches()).onto('pathBoolean')",
                   location="http://else/")  # fmt: skip
    assert no_match == {"pathBoolean": False}


def test_uri_parts(tmp_path: Path) -> None:
    case = CASES["uri"]
    record = run(
        tmp_path,
        """
        u = parse(location()).to('uri')
        map_(u.scheme()).onto('uriScheme')
        map_(u.path()).onto('uriPath')
        map_(u.host()).onto('uriHost')
        map_(u.port()).onto('uriPort')
        map_(u.decodedQueryString()).onto('uriQueryString')
        map_(u.query().value('q')).onto('uriQueryStringValue')
        map_(u.query().valueList('p')).onto('uriQueryStringValues')
        map_(u.query()).onto('uriQuery')
        map_(parse(referer()).to('uri').decodedFragment()).onto('uriFragment')
        """,
        location=case["location"],
        referer=case["referer"],
    )
    expect = case["expect"]
    assert record == {
        "uriScheme": expect["scheme"], "uriPath": expect["path"], "uriHost": expect["host"],
        "uriPort": expect["port"], "uriQueryString": expect["decodedQueryString"],
        "uriQueryStringValue": expect["query.value(q)"], "uriQueryStringValues": expect["query.valueList(p)"],
        "uriQuery": expect["query"], "uriFragment": expect["referer.decodedFragment"],
    }  # fmt: skip


def test_raw_uri_parts_and_fragment_as_uri(tmp_path: Path) -> None:
    raw = CASES["uri raw"]
    record = run(
        tmp_path,
        """
        u = parse(location()).to('uri')
        map_(u.rawPath()).onto('uriPath')
        map_(u.rawQueryString()).onto('uriQueryString')
        map_(u.rawFragment()).onto('uriFragment')
        """,
        location=raw["location"],
    )
    assert record == {
        "uriPath": raw["expect"]["rawPath"], "uriQueryString": raw["expect"]["rawQueryString"],
        "uriFragment": raw["expect"]["rawFragment"],
    }  # fmt: skip
    fragment = CASES["uri of fragment"]
    record = run(
        tmp_path,
        """
        h = parse(parse(location()).to('uri').rawFragment()).to('uri')
        map_(h.path()).onto('uriPath')
        map_(h.rawQueryString()).onto('uriQueryString')
        map_(h.query().value('q')).onto('uriQueryStringValue')
        """,
        location=fragment["location"],
    )
    assert list(record.values()) == list(fragment["expect"].values())


def test_funky_query(tmp_path: Path) -> None:
    case = CASES["funky query"]
    record = run(
        tmp_path,
        """
        q = parse(location()).to('uri').query()
        map_(q.value('a')).onto('client')
        map_(q.value('b')).onto('session')
        map_(q.value('c')).onto('pageview')
        map_(q.value('d')).onto('event')
        """,
        location=case["location"],
    )
    assert list(record.values()) == list(case["expect"].values())


def test_headers(tmp_path: Path) -> None:
    expect = CASES["headers"]["expect"]
    fields = {"first": "headerFirst", "last": "headerLast", "commaSeparated": "headers", "get(0)": "headerGet0",
              "get(1)": "headerGet1", "get(2)": "headerGet2", "get(3)": "headerGet3", "get(-4)": "headerGet_4",
              "get(-3)": "headerGet_3", "get(-2)": "headerGet_2", "get(-1)": "headerGet_1"}  # fmt: skip
    lines = ["h = header('x-divolte-test')", "map_(h).onto('headerList')"]
    lines += [f"map_(h.{call if '(' in call else call + '()'}).onto({field!r})" for call, field in fields.items()]
    record = run(tmp_path, "\n".join(lines))
    assert record["headerList"] == expect["list"]
    for call, field in fields.items():
        assert record.get(field) == expect[call], call
    horrible = run(tmp_path, "map_(header('X-Divolte-Horrible')).onto('headerList')")
    assert horrible["headerList"] == CASES["header normalization"]["expect"]["list"]


def test_event_parameters(tmp_path: Path) -> None:
    homogeneous = CASES["event params homogeneous"]
    record = run(
        tmp_path,
        "map_(eventParameters()).onto('paramMap')\nmap_(eventParameters().value('foo')).onto('paramValue')\n"
        "map_(eventParameters().value('missing')).onto('customEventParameter')",
        mincode=homogeneous["u_mincode"],
    )
    assert record == {
        "paramMap": homogeneous["expect"]["paramMap (map<string>)"], "paramValue": "string",
        "customEventParameter": "",  # a missing key is "" (present), as Jackson's path().asText()
    }  # fmt: skip


def test_event_parameters_json_path(tmp_path: Path) -> None:
    case = CASES["event params jsonpath"]
    expect = case["expect"]
    record = run(
        tmp_path,
        """
        p = eventParameters()
        map_(p.path('$.foo')).onto('paramValue')
        map_(p.path('$.bar')).onto('paramIntValue')
        map_(p.path('$.items[*].price')).onto('itemPrices')
        map_(p.path('$.items')).onto('items')
        map_(p).onto('paramRecord')
        map_('kept').onto('customEventParameter')
        map_(p.path('$.missing')).onto('customEventParameter')
        map_(p.path('$.foo')).onto('customInteger')
        """,
        mincode=case["u_mincode"],
    )
    assert record["paramValue"] == expect["path($.foo)->string"]
    assert record["paramIntValue"] == expect["path($.bar)->int"]
    assert record["itemPrices"] == expect["path($.items[*].price)->array<double>"]
    assert record["items"] == expect["path($.items)->array<BasketItem>"]
    assert record["paramRecord"]["items"] == expect["eventParameters()->record EventParameter"]["items"]
    assert record["customEventParameter"] == "kept"  # an absent path leaves the field as it was
    assert "customInteger" not in record  # a runtime type mismatch is a no-op


def test_digests(tmp_path: Path) -> None:
    ev = event(mincode=CASES["event params jsonpath"]["u_mincode"])
    compiled = mapping(
        tmp_path,
        """
        map_(digest('SHA-256').add(eventId()).result()).onto('digestBinary')
        map_(digest('sha-256').add('aLiteralString').result().toHexLower()).onto('digestString')
        map_(digest('SHA-256').add(eventId()).add('aLiteralString').result().toBase64()).onto('digestString2')
        p = eventParameters()
        map_(digest('SHA-256').add(p.path('$.foo')).add(p.path('$.bar')).add(p.path('$.items'))
             .add(p.path('$.items[*].name')).add(p.path('$.items[0].name')).add(cookie('nope'))
             .result().toHexUpper()).onto('digestString3')
        """,
    )
    record = compiled.map(ev)
    assert record is not None
    sha = hashlib.sha256
    assert record["digestBinary"] == sha(ev.event_id.encode()).digest()
    assert record["digestString"] == sha(b"aLiteralString").hexdigest()
    import base64

    assert record["digestString2"] == base64.b64encode(sha(ev.event_id.encode() + b"aLiteralString").digest()).decode()
    assert record["digestString3"] == sha(b"string42apple").hexdigest().upper()


def test_seeded_digests_of_the_same_pieces_differ_by_seed(tmp_path: Path) -> None:
    """Each result is kept per event under its description: two seeds must not share it (they once did)."""
    ev = event()
    compiled = mapping(
        tmp_path,
        """
        map_(digest('SHA-256', 'foo').add(eventId()).result()).onto('digestBinary')
        map_(digest('SHA-256', 'bar').add(eventId()).result().toBase64()).onto('digestString')
        map_(digest('SHA-256', 'foo').add(eventId()).result().toBase64()).onto('digestString2')
        """,
    )
    record = compiled.map(ev)
    assert record is not None
    foo, bar = (Digester("SHA-256", seed).digest([ev.event_id.encode()]) for seed in ("foo", "bar"))
    assert foo != bar and record["digestBinary"] == foo
    assert (record["digestString"], record["digestString2"]) == (to_base64(bar), to_base64(foo))


def test_stop_exit_section_and_discard(tmp_path: Path) -> None:
    record = run(
        tmp_path,
        """
        map_('1').onto('client')
        with section():
            map_('2').onto('session')
            exit()
            map_('never').onto('pageview')
        with section():
            with when(location().isAbsent()):
                exit()
            map_('never').onto('event')
        map_('3').onto('event')
        stop()
        map_('never').onto('eventType')
        """,
    )
    assert record == {"client": "1", "session": "2", "event": "3"}
    assert run(tmp_path, "map_('a').onto('client')\nexit()\nmap_('b').onto('session')") == {"client": "a"}
    compiled = mapping(tmp_path, "map_('a').onto('client')\nwhen(eventType().equalTo('pageView')).discard()")
    assert compiled.map(event()) is None


def test_map_encoded_is_the_mapped_record_encoded_or_discard(tmp_path: Path) -> None:
    """What the pipeline runs per event (``RecordMapping.map_encoded``) agrees with ``map``."""
    compiled = mapping(
        tmp_path,
        """
        map_(firstInSession()).onto('sessionStart')
        map_(timestamp()).onto('ts')
        map_(remoteHost()).onto('remoteHost')
        map_(location()).onto('location')
        """,
    )
    record = compiled.map(event(location="https://example.com/"))
    assert record is not None
    assert compiled.map_encoded(event(location="https://example.com/")) == RecordEncoder(SCHEMA).encode(record)
    compiled = mapping(tmp_path, "map_('a').onto('client')\nwhen(eventType().equalTo('pageView')).discard()")
    assert compiled.map_encoded(event()) is DISCARD


def test_boolean_logic(tmp_path: Path) -> None:
    record = run(
        tmp_path,
        """
        map_(referer().isPresent().or_(location().isPresent())).onto('flag1')
        map_(location().isPresent().and_(referer().isPresent())).onto('flag2')
        map_(not_(location().isAbsent())).onto('queryparamBoolean')
        map_(cookie('nope').equalTo('x').and_(corrupt())).onto('pathBoolean')
        """,
        location=CASES["boolean logic"]["location"],
    )
    assert record == {"flag1": True, "flag2": False, "queryparamBoolean": True, "pathBoolean": False}


def test_literals(tmp_path: Path) -> None:
    record = run(
        tmp_path,
        "map_('string value').onto('queryparam')\nmap_(True).onto('queryparamBoolean')\n"
        "map_(42).onto('queryparamLong')\nmap_(42).onto('customInteger')\nmap_(42.0).onto('queryparamDouble')",
    )
    assert record == {"queryparam": "string value", "queryparamBoolean": True, "queryparamLong": 42,
                      "customInteger": 42, "queryparamDouble": 42.0}  # fmt: skip


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("map_('string').onto('queryparamBoolean')", "mapping.py:1: field 'queryparamBoolean': cannot map the literal"),
        ("map_(firstInSession()).onto('customInteger')", "cannot map firstInSession() (Boolean) onto int"),
        ("map_(timestamp()).onto('customInteger')", "(Long) onto int"),
        ("map_(viewportPixelWidth()).onto('queryparamLong')", "(Integer) onto long"),
        ("\n\nmap_(location()).onto('nope')", "mapping.py:3: field 'nope' does not exist"),
        ("map_(userAgent()).onto('client')", "userAgent() is a UserAgent, which cannot be mapped"),
        ("map_(2**40).onto('customInteger')", "cannot map the literal 1099511627776"),
        ("map_(location())", "mapping.py:1: map_(location()) has no .onto('field')"),
        ("when(corrupt())", "when(...) does nothing"),
        ("if corrupt():\n    pass", "mapping.py:1: corrupt() is evaluated per event"),
        ("map_(location().nope()).onto('client')", "mapping.py:1: AttributeError"),
        ("map_(parse(location()).to('int128')).onto('client')", "use one of int32"),
        ("map_(match('(unclosed').against(location()).matches()).onto('flag1')", "is not valid"),
        ("map_(parse(timestamp()).to('uri').path()).onto('client')", "needs a String value"),
        ("map_(ip2geo().cityName()).onto('client')", "ip2geo() needs a GeoIP database"),
        ("map_(digest('SHA-999').add('x').result()).onto('digestBinary')", "SHA-999"),
        ("map_(location(.onto('x')", "mapping.py:1: SyntaxError"),
    ],
)
def test_start_up_errors_name_file_line_field_and_types(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(MappingError) as raised:
        mapping(tmp_path, text)
    assert message in str(raised.value)
    assert str(raised.value).startswith(str((tmp_path / "mapping.py").resolve()))


def test_ip2geo_every_sub_value(tmp_path: Path) -> None:
    """Divolte's GeoIP fixture through the DSL: ip2geo() on the remote host, ip2geo(p) on a header."""
    from dataclasses import replace

    from collector.enrich.geo import GEO_FIELDS, GeoDatabase
    from tests.geodb import city_record as _city_record
    from tests.geodb import write_db as _write_db

    database = tmp_path / "city.mmdb"
    _write_db(database, {"1.2.3.0/24": _city_record()})
    environment = Environment(UserAgentParser(10), GeoDatabase.open(database))
    fields = {name: "geo" + name[0].upper() + name[1:] for name in GEO_FIELDS}
    script = tmp_path / "geo.py"
    script.write_text(
        "g = ip2geo()\n"
        + "".join(f"map_(g.{name}()).onto({field!r})\n" for name, field in fields.items())
        + "map_(ip2geo(header('X-Client-IP').first()).cityName()).onto('client')\n"
        + "map_(ip2geo(cookie('nope')).cityName()).onto('session')\n"
    )
    compiled = load_mapping(script, SCHEMA, environment)
    base = event()
    located = replace(base, remote_host="1.2.3.4", headers=(*base.headers, (b"x-client-ip", b"1.2.3.99")), memo={})
    record = compiled.map(located)
    assert record is not None
    expected = load_vectors_json(FIXTURES / "city-response-expected-mapping.json")
    assert {field: record[field] for field in fields.values()} == expected
    assert record["client"] == "Bussum" and "session" not in record
    unknown = compiled.map(replace(base, memo={}))  # 127.0.0.1 is not in the database: everything absent
    assert unknown == {}
