"""The query decoder's one-call unescaping agrees with unescaping each component on its own."""

from __future__ import annotations

from hypothesis import example, given, settings
from hypothesis import strategies as st

from collector.errors import IncompleteRequest
from collector.protocol.query import _unescape, decode_query


def decode_each(query: bytes) -> dict[str, list[str]]:
    """The reference: split, then unescape every key and value separately (the decoder's fallback)."""
    params: dict[str, list[str]] = {}
    for item in query.decode("latin-1").split("&"):
        if item:
            key, _, value = item.partition("=")
            params.setdefault(_unescape(key), []).append(_unescape(value))
    return params


def outcome(decode: object, query: bytes) -> object:
    try:
        return decode(query)  # type: ignore[operator]
    except IncompleteRequest as exc:
        return exc.reason


@settings(max_examples=1000, deadline=None)
@given(st.text(alphabet=st.sampled_from("ab=&+%0fFgé~\\\x00 xu"), max_size=40).map(lambda t: t.encode("utf-8")))
@example(b"a=%0&0b=1")
@example(b"a=%00&b=%41")
@example(b"a=%C3&b=%A9")
@example(b"a%=b")
@example(b"a=\\x41%41")
def test_one_call_unescaping_agrees_with_per_component(query: bytes) -> None:
    assert outcome(decode_query, query) == outcome(decode_each, query)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=60))
def test_agrees_on_arbitrary_bytes(query: bytes) -> None:
    assert outcome(decode_query, query) == outcome(decode_each, query)
