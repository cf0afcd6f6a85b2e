"""JsonPath with Jayway 2.4 semantics: definite and indefinite paths, Jackson's nulls, filters, errors."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from collector.errors import MappingError
from collector.mapping.java.jsonpath import compile_path
from collector.protocol.mincode import decode
from tests.vectors import load_vectors

_CASES = {case["name"]: case for case in load_vectors()["mapping"]["cases"]}

ALBUMS = [
    {"genre": "jazz", "artist": "Mira Holt", "title": "Night Trains", "price": 9.5},
    {"genre": "rock", "artist": "The Lanterns", "title": "Copper Sky", "price": 14},
    {"genre": "jazz", "artist": "Ode Quartet", "title": "Slow River", "catalog_no": "OQ-17", "price": 7.25},
    {"genre": "folk", "artist": "Anna Brink", "title": "Harbour Songs", "catalog_no": "AB-02", "price": 21.0},
]
SHOP: dict[str, Any] = {
    "catalog": {"album": ALBUMS, "poster": {"colour": "blue", "price": 12}},
    "threshold": 10,
    "tags": ["new", "sale"],
    "nothing": None,
}


def read(path: str, tree: Any = SHOP) -> tuple[bool, Any]:
    return compile_path(path).read(tree)


def test_event_params_jsonpath_vector() -> None:
    case = _CASES["event params jsonpath"]
    tree = decode(case["u_mincode"])
    expect = case["expect"]
    assert read("$.foo", tree) == (True, expect["path($.foo)->string"])
    assert read("$.bar", tree) == (True, expect["path($.bar)->int"])
    assert read("$.items[*].price", tree) == (True, expect["path($.items[*].price)->array<double>"])
    present, items = read("$.items", tree)
    assert present
    # The record mapping drops the extra properties; the path itself yields the whole objects.
    assert [{key: item[key] for key in ("name", "count", "price")} for item in items] == expect[
        "path($.items)->array<BasketItem>"
    ]
    assert read("$.missing", tree) == (False, None)


def test_digest_vector_pieces() -> None:
    # The mapping "digests" case digests $.foo, $.bar, $.items, $.items[*].name and $.items[0].name,
    # keeping only value nodes: "string", 42 and "apple".
    tree = decode(_CASES["event params jsonpath"]["u_mincode"])
    values = [read(path, tree) for path in ("$.foo", "$.bar", "$.items", "$.items[*].name", "$.items[0].name")]
    assert [value for present, value in values if present and not isinstance(value, list | dict)] == [
        "string",
        42,
        "apple",
    ]


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("$", SHOP),
        ("$.threshold", 10),
        ("$.catalog.album[0].title", "Night Trains"),
        ("$['catalog']['poster']['colour']", "blue"),
        ('$["catalog"]["poster"]["colour"]', "blue"),
        ("$[ 'catalog' ].poster.colour", "blue"),
        ("$.catalog.album[-1].artist", "Anna Brink"),
        ("catalog.poster.colour", "blue"),
        ("@.catalog.poster.colour", "blue"),
        ("$.threshold  ", 10),
        # Several names as the last step: one object with the names that exist.
        ("$.catalog.poster['colour','price','absent']", {"colour": "blue", "price": 12}),
        ("$.catalog.album[0]['title', 'price']", {"title": "Night Trains", "price": 9.5}),
        # JSON null and indexes outside the array are present nulls (Jackson's ArrayNode.get gives null).
        ("$.nothing", None),
        ("$.catalog.album[10]", None),
        ("$.catalog.album[-10]", None),
    ],
)
def test_definite_paths(path: str, expected: Any) -> None:
    compiled = compile_path(path)
    assert compiled.definite
    assert compiled.read(SHOP) == (True, expected)


@pytest.mark.parametrize(
    "path",
    ["$.missing", "$.missing.deeper", "$.threshold.deeper", "$.tags.length", "$.catalog.poster[0]", "$.tags[0].x"],
)
def test_definite_paths_without_a_match_are_absent(path: str) -> None:
    assert read(path) == (False, None)


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("$.catalog.album[*].artist", [album["artist"] for album in ALBUMS]),
        ("$..artist", [album["artist"] for album in ALBUMS]),
        ("$.catalog.*", [ALBUMS, SHOP["catalog"]["poster"]]),
        ("$.catalog.album.*.genre", ["jazz", "rock", "jazz", "folk"]),
        ("$.catalog..price", [9.5, 14, 7.25, 21.0, 12]),
        ("$..album[2]", [ALBUMS[2]]),
        ("$..album[-2]", [ALBUMS[2]]),
        ("$..album[0,1]", ALBUMS[:2]),
        ("$.catalog.album[0,9].price", [9.5]),
        ("$..album[:2]", ALBUMS[:2]),
        ("$..album[1:2]", ALBUMS[1:2]),
        ("$..album[-2:]", ALBUMS[-2:]),
        ("$..album[2:]", ALBUMS[2:]),
        ("$..album[:-3]", ALBUMS[:1]),
        ("$.tags[0:9]", ["new", "sale"]),
        ("$..album[?(@.catalog_no)]", ALBUMS[2:]),
        ("$.catalog.album[?(@.price < 10)]", [ALBUMS[0], ALBUMS[2]]),
        ("$..album[?(@.price <= $['threshold'])].title", ["Night Trains", "Slow River"]),
        ("$..album[?(@.artist =~ /.*brink/i)].title", ["Harbour Songs"]),
        ("$..album[?(@.genre == 'jazz' && @.price > 8)].title", ["Night Trains"]),
        ("$..album[?(@.genre == 'folk' || @.price == 14)].title", ["Copper Sky", "Harbour Songs"]),
        ("$..album[?(!(@.genre == 'jazz'))].genre", ["rock", "folk"]),
        ("$..album[?(@.genre in ['folk', \"rock\"])].genre", ["rock", "folk"]),
        ("$..album[?(@.genre nin ['folk', 'rock'])].genre", ["jazz", "jazz"]),
        ("$..album[?(@.title size 10)].title", ["Copper Sky", "Slow River"]),
        ("$[?(@.tags empty false)].threshold", [10]),
        ("$.tags[?(@ == 'sale')]", ["sale"]),
        ("$.catalog.album[*].missing", []),
        ("$.missing[*]", []),
        ("$.catalog.album[*]['title','price']", [{"title": a["title"], "price": a["price"]} for a in ALBUMS]),
        ("$['threshold','tags'][0]", ["new"]),
        ("$.catalog.poster[?(@.colour == 'blue')].price", [12]),
    ],
)
def test_indefinite_paths(path: str, expected: list[Any]) -> None:
    compiled = compile_path(path)
    assert not compiled.definite
    assert compiled.read(SHOP) == (True, expected)


def test_deep_scan_visits_everything_in_document_order() -> None:
    present, values = read("$..*")
    assert present
    assert values[:4] == [SHOP["catalog"], 10, SHOP["tags"], None]
    assert len(values) == 4 + 2 + 4 + 2 + sum(len(album) for album in ALBUMS) + 2


def test_scan_then_index_then_more_keeps_jaywalks_quirk() -> None:
    # Jayway applies the steps after "..[0]" to every element of every array, ignoring the index.
    assert read("$..[0].genre") == (True, ["jazz", "rock", "jazz", "folk"])


def test_deep_documents_do_not_exhaust_the_stack() -> None:
    tree: Any = {"x": 1}
    for _ in range(3000):
        tree = {"a": [tree]}
    assert read("$..x", tree) == (True, [1])


_VALUES: list[dict[str, Any]] = [{"v": 1}, {"v": 1.0}, {"v": "1"}, {"v": "1.0"}, {"v": True}, {"v": None}, {}]


@pytest.mark.parametrize(
    ("condition", "selected"),
    [
        # A number on the left compares numerically, a string on the left compares text.
        ("@.v == 1", [0, 1, 2]),
        ("@.v == '1'", [0, 1, 2]),
        ("@.v == '1.0'", [0, 1, 3]),
        ("@.v != 1", [3, 4, 5, 6]),
        ("@.v", [0, 1, 2, 3, 4, 5]),
        ("!@.v", [6]),
        ("@.v == null", [5]),
        ("@.v == true", [4]),
        ("@.v > 0", [0, 1]),
        ("@.v < '2'", [2, 3]),
        ("@.v >= 1 && @.v <= 1", [0, 1]),
        ("@.v=~/1.*/", [0, 1, 2, 3]),
        ("@.v in [1, 'x']", [0, 1, 2]),
        ("@.v in 'x'", []),
        ("@.v nin [1]", [3, 4, 5, 6]),
        ("!@.v == 1", [0, 1, 2]),
    ],
)
def test_filter_comparisons_follow_jayway(condition: str, selected: list[int]) -> None:
    assert read(f"$[?({condition})]", _VALUES) == (True, [_VALUES[i] for i in selected])


@pytest.mark.parametrize(
    ("path", "tree", "expected"),
    [
        # A property of a non-object, with nothing indefinite before it, is undefined (Jayway 2.4 throws),
        # so "size 0" fails for items whose "a" is a number but holds where "a" is missing.
        ("$[?(@.a.b[*] size 0)]", [{"x": 1}, {"a": {}}, {"a": 1}], [{"x": 1}, {"a": {}}]),
        ("$[?(@[0].x[*] size 0)]", [[], [1], [{"x": []}], [{}]], [[{"x": []}], [{}]]),
        # Lists and objects selected by paths compare by value and type; written ones never equal.
        (
            "$[?(@.b == @.c)]",
            [{"b": [1], "c": [1.0]}, {"b": {"x": 1}, "c": {"x": 1}}],
            [{"b": {"x": 1}, "c": {"x": 1}}],
        ),
        ("$[?(@.b == [1])]", [{"b": [1]}], []),
        ("$[?(@.b != [1])]", [{"b": [1]}, {"b": 1}], [{"b": [1]}, {"b": 1}]),
        # "in" with a list selected by a path, or a written list holding lists or objects, fails the read.
        ("$.x[?(@ == 1 || @ in $.b)]", {"x": [1, 2], "b": [1, 3]}, []),
        ("$.x[?(@ == 1 || @ in [[1], 1])]", {"x": [1, 2]}, []),
        ("$.x[?(@ == 1 || @ in $.y)]", {"x": [1, 2], "y": "2"}, [1]),
        ("$[?(@ nin @)]", [{}], [{}]),
        ("$[?(!(@ empty 'x'))]", ["ab", 1], [1]),
        ("$[?(!(@ size 'x'))]", ["ab", 1], ["ab", 1]),
        # Strings compare by UTF-16 code units and count them.
        ("$[?(@.b < @.c)]", [{"b": "\uffff", "c": "😀"}], []),
        ("$[?(@.b size 2)]", [{"b": "ab"}, {"b": "😀"}, {"b": "abc"}], [{"b": "ab"}, {"b": "😀"}]),
        # A scan inside an existence test holds unless a later step is missing.
        ("$[?(!@..a)]", [{"x": [1.5]}, {"y": {"a": 1}}], []),
        ("$[?(@..a.a)]", [{"a": {"b": 1}}, {"b": 2}], [{"b": 2}]),
    ],
)
def test_jayway_24_behaviour_checked_against_the_jar(path: str, tree: Any, expected: list[Any]) -> None:
    assert read(path, tree) == (True, expected)


def test_filters_on_primitives_select_nothing() -> None:
    assert read("$.threshold[?(@.x)]") == (True, [])
    assert read("$.tags[?(@.x)]") == (True, [])


@pytest.mark.parametrize(
    ("path", "fragment"),
    [
        ("", "empty"),
        ("$.", "must not end"),
        ("$..", "must not end"),
        ("$x", "after the root"),
        ("$.a b", "blank"),
        ("  $.a", "blank"),  # Jayway looks for the root before trimming: this is "$.  $.a"
        ("$['a']b", "after a step"),
        ("$[0]*", "after a step"),
        ("$.*x", "after a step"),
        ("$...a", "'.' is not valid"),
        ("$.a[", "not closed"),
        ("$['a'", "closed by"),
        ("$['a' 'b']", "separated"),
        ("$[a]", "could not parse"),
        ("$[1,]", "invalid array index"),
        ("$[--1]", "invalid array index"),
        ("$[1 : 2]", "invalid array index"),
        ("$[:]", "invalid slice"),
        ("$[9999999999]", "out of range"),
        ("$[99999999999]", "invalid array index"),
        ("$[*x]", "']' after '*'"),
        ("$.length()", "functions"),
        ("$.a.sum()", "functions"),
        ("$[?]", "placeholders"),
        ("$[?(@.a == )]", "in the filter"),
        ("$[?(@.a ==)]", "in the filter"),
        ("$[?(@.a === 1)]", "not supported"),
        ("$[?(@.a == 'x)]", "no closing"),
        ("$[?(@.a == 1)", "must look like"),
        ("$[?(1)]", "relational operator"),
        ("$[?(@.a == [1,)]", "in the filter"),
        ("$[?(@.a =~ /[/)]", "regular expression"),
        ("$['\\u12']", "malformed"),
    ],
)
def test_malformed_paths_are_start_up_errors(path: str, fragment: str) -> None:
    with pytest.raises(MappingError) as raised:
        compile_path(path)
    message = str(raised.value)
    assert fragment in message
    assert repr(path) in message
    assert "position" in message


def test_names_with_escapes_and_odd_characters() -> None:
    tree = {"a b": 1, "it's": 2, 'q"': 3, "x-y": 4, "a]b": 5, "": 6}
    assert read("$['a b']", tree) == (True, 1)
    assert read("$['it\\'s']", tree) == (True, 2)
    assert read('$["q\\""]', tree) == (True, 3)
    assert read("$.x-y", tree) == (True, 4)
    assert read("$.a]b", tree) == (True, 5)
    assert read("$['']", tree) == (True, 6)


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 5) | st.floats(allow_nan=False) | st.text(max_size=3),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.sampled_from("abx"), children, max_size=3),
    max_leaves=15,
)
_PATHS = [
    "$",
    "$.a",
    "$.a.b",
    "$[0]",
    "$[-1].x",
    "$..x",
    "$..[0]",
    "$..[0].a",
    "$.*",
    "$..*",
    "$[*].a",
    "$['a','b']",
    "$['a','b'].x",
    "$[1:]",
    "$[-5:2]",
    "$[:-1]",
    "$[?(@.a)]",
    "$[?(@.a > 1 || @.b == 'x')]",
    "$..[?(@.x == null)]",
    "$.a[?(@ empty true)]",
    "$[?(@.a size 2)]",
]


@settings(max_examples=200, deadline=None)
@given(_JSON, st.sampled_from(_PATHS))
def test_reads_never_raise_and_have_the_promised_shape(tree: Any, path: str) -> None:
    compiled = compile_path(path)
    present, value = compiled.read(tree)
    if not compiled.definite:
        assert present
        assert isinstance(value, list)
    elif not present:
        assert value is None


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("$@.[]'\"*?()=<>!&| ,:-0123abx/")), max_size=16))
def test_compiling_anything_either_works_or_is_a_mapping_error(path: str) -> None:
    try:
        compiled = compile_path(path)
    except MappingError:
        return
    compiled.read({"a": [1, {"b": "x"}], "x": None})
