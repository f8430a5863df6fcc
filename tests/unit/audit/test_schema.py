"""The local strict-mapping check: unknown fields, objects where scalars are expected and the
reverse, wrong scalar types (a bool is no number), lists checked item by item, nulls allowed."""

from __future__ import annotations

from typing import Any

from guardian.audit.schema import mapping_problems

MAPPING: dict[str, Any] = {
    "user": {"properties": {"id": {"type": "keyword"}, "roles": {"type": "keyword"}}},
    "guardian": {"properties": {"seq": {"type": "long"}, "ok": {"type": "boolean"},
                                "ratio": {"type": "double"}}},
    "note": {"type": "text"},
}


def test_an_event_that_fits_has_no_problem() -> None:
    event = {"user": {"id": "alice", "roles": ["a", "b"]},
             "guardian": {"seq": 3, "ok": True, "ratio": 1}, "note": None}

    assert mapping_problems(event, MAPPING) == []


def test_each_misfit_is_named_with_its_path() -> None:
    event = {"extra": 1, "user": "alice",
             "guardian": {"seq": True, "ok": "yes", "ratio": {"x": 1}, "more": 2},
             "note": {"deep": 1}}

    assert sorted(mapping_problems(event, MAPPING)) == sorted([
        "extra is not in the strict mapping",
        "user should be an object",
        "guardian.seq is a bool where the mapping expects a long",
        "guardian.ok is a str where the mapping expects a boolean",
        "guardian.ratio is an object where the mapping expects a double",
        "guardian.more is not in the strict mapping",
        "note is an object where the mapping expects a text",
    ])


def test_every_item_of_a_list_is_checked() -> None:
    problems = mapping_problems({"user": {"roles": ["ok", {"bad": 1}]}}, MAPPING)

    assert problems == ["user.roles is an object where the mapping expects a keyword"]
