"""``duplicate_key``: its cheap counting path never misses a repeated key (checked against the
exact ``object_pairs_hook`` parse on generated documents and on hand-made traps)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from guardian.api.limits import duplicate_key

TRAPS = [
    # spaced keys plus colons in strings: equal totals if strings were not counted
    (b'{"a" :1, "a" :2, "b" :3, "c":"\\":\\":"}', "a"),
    # a colon written as an escape in a surviving string
    (b'{"x":"\\u003a","a":1,"a":2}', "a"),
    (b'{"k:1":"v","k:1":"w"}', "k:1"),
    (b'[{"a":1},{"b":{"c":[{"d":1,"d":2}]}}]', "d"),
    (b'{"a":NaN,"a":1}', "a"),  # not JSON for orjson, still looked at
    # the value a repeat replaced is dropped, with its keys and its strings' colons
    (b'{"a":"1:2:3","a":4}', "a"),
    (b'{"a":{"x":1,"y":"::"},"b":1,"a":{"x":1,"y":"::"}}', "a"),
]


@pytest.mark.parametrize(("raw", "key"), TRAPS)
def test_hand_made_traps_are_caught(raw: bytes, key: str) -> None:
    assert duplicate_key(raw) == key


@pytest.mark.parametrize("raw", [b'{"a":{"a":{"a":1}}}', b'{"t":"10:00:00","u":"::1"}', b"[]",
                                 b'"just a string: yes"', b"{", b"\xff"])
def test_no_repeat_within_one_object_is_no_duplicate(raw: bytes) -> None:
    assert duplicate_key(raw) is None


keys = st.text(alphabet=st.sampled_from('ab:" \\\u00e9'), min_size=0, max_size=3)
leaves = st.none() | st.booleans() | st.integers() | st.text(
    alphabet=st.sampled_from('ab:" \\'), max_size=5)


def _render(node: Any, dup: bool, ensure_ascii: bool) -> str:
    """JSON text of ``node``; with ``dup``, its first object repeats its first key."""
    if isinstance(node, dict):
        items = [f"{json.dumps(k, ensure_ascii=ensure_ascii)} : "
                 f"{_render(v, False, ensure_ascii)}" for k, v in node.items()]
        if dup and node:
            first = next(iter(node))
            items.append(f"{json.dumps(first, ensure_ascii=ensure_ascii)}:0")
        return "{" + ",".join(items) + "}"
    if isinstance(node, list):
        return "[" + ",".join(_render(v, False, ensure_ascii) for v in node) + "]"
    return json.dumps(node, ensure_ascii=ensure_ascii)


documents = st.recursive(leaves, lambda inner: st.lists(inner, max_size=3)
                         | st.dictionaries(keys, inner, max_size=3), max_leaves=10)


@settings(max_examples=400, deadline=None)
@given(doc=st.dictionaries(keys, documents, min_size=1, max_size=4), dup=st.booleans(),
       ascii_only=st.booleans())
def test_the_fast_path_agrees_with_the_exact_check(
    doc: dict[str, Any], dup: bool, ascii_only: bool
) -> None:
    raw = _render(doc, dup, ascii_only).encode()
    found = duplicate_key(raw)
    if dup:
        assert found == next(iter(doc))
    else:
        assert found is None
