"""Compile and read JsonPath expressions with the semantics of Jayway JsonPath 2.4 as Divolte uses it.

``eventParameters().path('$.items[*].price')`` reads custom event parameters with Jayway JsonPath over a
Jackson tree, with ``Option.SUPPRESS_EXCEPTIONS``. What such a path yields, and whether it yields anything,
decides which fields a mapping fills, so this follows Jayway rather than any JsonPath standard:

* a *definite* path (only single names and single indexes) yields one value or is absent when nothing
  matches; an *indefinite* one (``[*]``, ``.*``, ``..``, filters, slices, several indexes, several names
  followed by more steps) yields a list, possibly empty, which is present;
* several names as the last step (``$['a','b']``) are definite and yield an object holding those of the
  names that exist;
* an index outside the array yields JSON ``null`` (``None``), not nothing: Jackson's ``ArrayNode.get``
  returns null and Jayway records it; likewise a property whose value is ``null`` yields ``None``;
* negative indexes count from the end; slices follow Jayway's arithmetic (``[-2:]`` is the last two,
  ``[a:b]`` does not adjust a negative ``a``, a step is ignored);
* ``..x`` visits every object (depth first, document order) that has ``x``; as in Jayway, ``..[0].x``
  (a scan followed by an index and more steps) applies ``.x`` to every element of every array, a Jayway
  quirk that is kept;
* a path not starting with ``$`` or ``@`` is read as ``$.`` + path; ``@`` means the document too.

Trees are plain JSON values (dict, list, str, int, float, bool, None); results are the tree's own objects.
Functions (``length()`` …) and ``[?]`` placeholders are refused when compiling, as are malformed paths:
compiling happens when the mapping is loaded, so mistakes stop the collector from starting.

The modules: ``syntax`` (path text → steps), ``filter_syntax`` (filter text → predicates), ``filters``
(how predicates compare values), ``evaluate`` (steps over a tree), ``text`` (Jayway's escapes).
"""

from __future__ import annotations

from collector.mapping.java.jsonpath.evaluate import JsonPath
from collector.mapping.java.jsonpath.syntax import parse_path

__all__ = ["JsonPath", "compile_path"]


def compile_path(expression: str) -> JsonPath:
    """Compile a JsonPath expression; raise ``MappingError`` (naming the position) if it is malformed."""
    tokens, definite, relative = parse_path(expression, compile_path)
    return JsonPath(expression, definite, tokens, relative)
