"""The Groovy mappings use around Divolte's DSL, computed once at start-up: each construct, and its refusals.

``if``/``else``, ``==``, ``!=``, ``&&``, ``||``, ``!``, ``? :`` and ``?:`` on values the script knows at start-up,
lists with ``.each``/``.collect``, closures with parameters and ``it``, closures kept in variables and called,
and GStrings. Each positive case maps an event and checks the record, and the Python ``convert-mapping``
prints for it gives the same record; each refusal names the file, line and column.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from collector.enrich.useragent import UserAgentParser
from collector.errors import MappingError
from collector.mapping.compile import load_mapping
from collector.mapping.groovy import convert_groovy, load_any_mapping
from collector.mapping.vocabulary import Environment
from tests.unit.mapping.cases import SCHEMA, event

ENVIRONMENT = Environment(UserAgentParser(10))
LOCATION = "https://example.com/shop"


def mapped(tmp_path: Path, body: str, prelude: str = "") -> dict[str, Any]:
    """The record ``mapping { body }`` (after ``prelude``, outside it) makes of an event at LOCATION; the Python
    conversion of the script must make the same one."""
    groovy = tmp_path / "m.groovy"
    groovy.write_text(f"{prelude}\nmapping {{\n{body}\n}}\n")
    python = tmp_path / "m.py"
    python.write_text(convert_groovy(groovy))
    shared = event(LOCATION, "http://example.com/")
    record = load_any_mapping(groovy, SCHEMA, ENVIRONMENT).map(replace(shared, memo={}))
    assert record is not None
    assert load_mapping(python, SCHEMA, ENVIRONMENT).map(replace(shared, memo={})) == record
    return record


def refused(tmp_path: Path, source: str) -> str:
    """The start-up error of a script, without the file name (checked to be there)."""
    path = tmp_path / "m.groovy"
    path.write_text(source)
    with pytest.raises(MappingError) as raised:
        load_any_mapping(path, SCHEMA, ENVIRONMENT)
    message = str(raised.value)
    assert message.startswith(f"{path}:"), message
    return message[len(f"{path}:") :]


@pytest.mark.parametrize(
    ("condition", "truth"),
    [
        ("1 == 1L", True),  # numbers compare by value across Integer and Long, as in Groovy
        ("1 == 1.0D", True),
        ("2 != 2I", False),
        ("'a' == 'a'", True),
        ("'a' == \"${'a'}\"", True),  # a GString equals the String of its text
        ("'1' == 1", False),
        ("null == null", True),
        ("null != 'x'", True),
        ("[1, 'a'] == [1L, 'a']", True),
        ("true && 'x'", True),  # Groovy truth: a non-empty string is true
        ("true && ''", False),
        ("0 || null", False),
        ("0 || [0]", True),
        ("!0", True),
        ("!'x'", False),
        ("!(1 == 2) && (false || 'a' == 'a')", True),
        ("false && location()", False),  # Groovy does not evaluate the right side: nothing per event is asked
        ("true || location()", True),
    ],
)
def test_conditions_on_start_up_values(tmp_path: Path, condition: str, truth: bool) -> None:
    record = mapped(tmp_path, f"  if ({condition}) {{ map 'yes' onto 'client' }} else {{ map 'no' onto 'client' }}")
    assert record["client"] == ("yes" if truth else "no")


def test_if_else_if_chains_and_single_statement_branches(tmp_path: Path) -> None:
    body = """
  def env = 'test'
  if (env == 'prod') map 'p' onto 'client'
  else if (env == 'test')
      map 't' onto 'client'
  else {
      map 'other' onto 'client'
  }
  if (env != 'prod') {
      def local = 'inner'   // a block has its own scope
      map local onto 'session'
  }
  def local = 'outer'
  map local onto 'pageview'
"""
    assert mapped(tmp_path, body) | {} == {"client": "t", "session": "inner", "pageview": "outer"}


def test_ternary_and_elvis_choose_at_start_up_even_between_event_values(tmp_path: Path) -> None:
    body = """
  def useReferer = false
  map (useReferer ? referer() : location()) onto 'location'
  map ('' ?: 'fallback') onto 'client'
  map ('set' ?: 'fallback') onto 'session'
  map (null ?: referer()) onto 'referer'
"""
    record = mapped(tmp_path, body)
    assert record == {"location": LOCATION, "client": "fallback", "session": "set", "referer": "http://example.com/"}


def test_lists_each_and_collect_with_parameters_and_it(tmp_path: Path) -> None:
    body = """
  ['client', 'session'].each { field -> map location() onto field }
  def fields = ['pageview', 'event'].collect { it }
  fields.each { map 'from it' onto it }
  [['a', 'b']].each { pair -> pair.each { x -> map x onto 'eventType' } }
  [location(), referer()].each { map it onto 'referer' }  // a list of event values may be iterated
  [['first', 'flag1'], ['second', 'flag2']].each { name, field -> map (name == 'second') onto field }
"""
    record = mapped(tmp_path, body)
    assert record == {"client": LOCATION, "session": LOCATION, "pageview": "from it", "event": "from it",
                      "eventType": "b", "referer": "http://example.com/", "flag1": False, "flag2": True}  # fmt: skip


def test_it_is_the_enclosing_closure_s_where_a_closure_declares_parameters(tmp_path: Path) -> None:
    """Divolte runs ``mapping { }`` without an argument, so its ``it`` is null (digest-with-documented-algorithms)."""
    body = """
  ['x'].each { name -> map "$name-$it" onto 'client' }
  ['y'].each { map "${[it].collect { inner -> inner + it }}" onto 'session' }
"""
    with pytest.raises(MappingError, match=r'"x-null" is a GString'):
        mapped(tmp_path, body)
    body = """
  ['x'].each { name -> map ('' + "$name-$it") onto 'client' }
  ['y'].each { map ('' + "${[it].collect { inner -> inner + it }}") onto 'session' }
"""
    assert mapped(tmp_path, body) == {"client": "x-null", "session": "[yy]"}


def test_gstrings_of_constants(tmp_path: Path) -> None:
    prelude = "def n = 42\ndef big = 12345678.5D\ndef f = 0.1F\ndef items = ['a', 1L]\ndef nothing = null"
    body = r"""
  map header("X-Divolte-${'Test'}").first() onto 'client'
  map 'g' onto "event${'Type'}"
  map ('' + "n=$n big=$big f=$f items=$items nothing=$nothing long=${n == 42 ? 1L : 2L}") onto 'session'
  map digest('SHA-256', "seed-$n").add(eventId()).result().toHexLower() onto 'pageview'
  map digest('SHA-256', 'seed-42').add(eventId()).result().toHexLower() onto 'event'
  def secure = match "^${'https'}://.*" against location()
  def scheme = 'https'
  def plain = (match /^$scheme:\/\/[^\$]*$/ against location())  // Groovy 3 reads a command chain in ( )
  map plain.matches() onto 'flag2'
  map secure.matches() onto 'flag1'
"""
    record = mapped(tmp_path, body, prelude)
    assert record["client"] == "first"  # header('X-Divolte-Test'): a GString passed as the String a method takes
    assert record["eventType"] == "g"
    assert record["session"] == "n=42 big=1.23456785E7 f=0.1 items=[a, 1] nothing=null long=1"
    assert record["pageview"] == record["event"] and record["flag1"] is record["flag2"] is True


def test_closures_kept_in_variables_and_called(tmp_path: Path) -> None:
    prelude = "def copy = { source, field -> map source onto field }"
    body = """
  def both = { copy(location(), 'location'); copy(referer(), 'referer') }
  both()
  both.call()
  def pick = { x -> x == 'a' ? 'first' : 'second' }
  map pick('a') onto 'client'
  map pick.call('b') onto 'session'
  def value = { location() }
  map value onto 'pageview'
  map value() onto 'event'
"""
    record = mapped(tmp_path, body, prelude)
    assert record == {"location": LOCATION, "referer": "http://example.com/", "client": "first", "session": "second",
                      "pageview": LOCATION, "event": LOCATION}  # fmt: skip


@pytest.mark.parametrize(
    ("source", "message"),
    [
        # A condition on a value computed per event belongs in `when … apply`
        ("mapping {\n  if (location().isPresent()) { stop() }\n}", "2:18: `if` runs once, at start-up, and location()"),
        ("mapping {\n  if (corrupt() || true) { }\n}", "2:17: the operator `||` is not supported in a mapping on"),
        ("mapping {\n  map (location() ?: 'x') onto 'client'\n}", "2:19: the operator `?:` is not supported in a"),
        ("mapping {\n  def a = 'x' == referer()\n}", "2:15: the operator `==` is not supported in a mapping on ref"),
        ("mapping {\n  map !duplicate() onto 'dupe'\n}", "2:7: the operator `!` is not supported in a mapping on dup"),
        ("mapping {\n  def a = { 1 } && true\n}", "2:17: the operator `&&` needs a value known at start-up, not a"),
        # GStrings: only start-up values interpolate, and Divolte maps no GString literal
        ("mapping {\n  map \"v=${location()}\" onto 'client'\n}", "2:12: location() (a String) cannot be interpolated"),
        ("mapping {\n  map \"v=$it\" onto 'client'\n}", '2:3: "v=null" is a GString (a string with $…)'),
        ("mapping {\n  map location().equalTo(\"${1}\") onto 'flag1'\n}", '2:18: "1" is a GString'),
        ("mapping {\n  map 'a' onto \"cli${'ent'}\" \n  map \"${}\" onto 'x'\n}", "3:8: an empty ${} interpolates"),
        ("mapping {\n  map \"a$\" onto 'client'\n}", "2:9: a $ in a double-quoted string starts an interpolation"),
        ("mapping {\n  map \"${1 +}\" onto 'client'\n}", "2:13: expected a value, found the end of ${…}"),
        # Lists and closures
        ("mapping {\n  def l = [1, 2]\n  map l onto 'client'\n}", "3:3: the list [1, 2] cannot be mapped or compared"),
        ("mapping {\n  map [1, 2] onto 'client'\n}", "2:7: `[` is not supported in a mapping: indexing"),  # as Groovy
        ("mapping {\n  map \"${[location()]}\" onto 'x'\n}", "2:10: the list [location()] cannot be interpolated"),
        ("mapping {\n  def m = [a: 1]\n}", "2:12: maps ([key: value]) are not supported in a mapping"),
        ("mapping {\n  ['a'].each { x, y -> }\n}", "2:9: this closure takes 2 argument(s) (x, y), not 1"),
        ("mapping {\n  [[1, 2, 3]].each { x, y -> }\n}", "2:15: this closure takes 2 argument(s) (x, y), not 3"),
        ("mapping {\n  def x = 1\n  ['a'].each { x -> }\n}", "3:14: the parameter 'x' hides the variable declared at"),
        ("mapping {\n  'abc'.each { }\n}", "2:9: the String 'abc' has no method each() in a mapping (supported:"),
        ("mapping {\n  [1].sort()\n}", "2:7: the list [1] has no method sort() in a mapping (supported: each() and"),
        ("mapping {\n  def f = { }\n  f.run()\n}", "3:5: a closure has no method run() in a mapping (supported: call"),
        ("mapping {\n  def s = 'x'\n  s()\n}", "3:3: 's' is the String 'x', which cannot be called"),
        ("mapping {\n  [1].each location()\n}", "2:7: each takes one closure: each { x -> … }"),
        ("map it onto 'client'", "1:5: 'it' is not defined"),
        ("def f = { f() }\nmapping {\n  f()\n}", "1:11: closures call closures more than 100 deep here"),
        # What stays outside: loops, switch, arithmetic, indexing
        ("mapping {\n  for (x in [1]) { }\n}", "2:3: `for` is not supported: to declare actions for each of several"),
        ("mapping {\n  switch (1) { }\n}", "2:3: `switch` is not supported"),
        ("mapping {\n  def a = 1 * 2\n}", "2:13: the operator `*` is not supported in a mapping: arithmetic"),
        ("mapping {\n  def a = [1][0]\n}", "2:14: `[` is not supported in a mapping: indexing is not supported"),
        ("mapping {\n  if (true) { }\n  else { }\n  else { }\n}", "4:3: `else` without an `if` before it"),
        ("mapping {\n  if true { }\n}", "2:6: expected '(' after `if`, found 'true'"),
        ("mapping {\n  def x = true ? 'a'\n}", "3:1: expected ':' between the two values of `? :`, found '}'"),
    ],
)
def test_what_cannot_run_once_at_start_up_is_refused_where_it_stands(source: str, message: str, tmp_path: Path) -> None:
    assert refused(tmp_path, source).startswith(message)
