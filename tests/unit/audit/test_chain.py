"""The hash chain: canonical JSON, sealing an event, and recomputing its hash."""

from __future__ import annotations

import hashlib

from guardian.audit.chain import GENESIS, canonical, recompute, seal


def test_canonical_json_sorts_keys_and_has_no_white_space() -> None:
    assert canonical({"b": 1, "a": {"d": [1, 2], "c": "é"}}) == (
        '{"a":{"c":"é","d":[1,2]},"b":1}'.encode()
    )


def test_seal_adds_seq_prev_hash_and_the_hash_of_everything_else() -> None:
    sealed, digest = seal({"user": {"id": "alice"}, "guardian": {"purpose": "billing"}}, 7, "ab")

    assert sealed["guardian"] == {"purpose": "billing", "seq": 7, "prev_hash": "ab",
                                  "hash": digest}
    body = {"user": {"id": "alice"}, "guardian": {"purpose": "billing", "seq": 7,
                                                  "prev_hash": "ab"}}
    assert digest == hashlib.sha256(canonical(body)).hexdigest()


def test_seal_leaves_the_callers_event_untouched() -> None:
    event = {"guardian": {"purpose": "billing"}}

    seal(event, 1, GENESIS)

    assert event == {"guardian": {"purpose": "billing"}}


def test_recompute_matches_seal_and_ignores_the_stored_hash() -> None:
    sealed, digest = seal({"a": 1}, 1, GENESIS)

    assert recompute(sealed) == digest
    sealed["guardian"]["hash"] = "f" * 64
    assert recompute(sealed) == digest


def test_recompute_changes_when_any_field_changes() -> None:
    sealed, digest = seal({"a": 1, "guardian": {"purpose": "billing"}}, 1, GENESIS)

    for path, value in ((("a",), 2), (("guardian", "purpose"), "marketing"),
                        (("guardian", "seq"), 2), (("guardian", "prev_hash"), "1" * 64)):
        tampered = {k: (dict(v) if isinstance(v, dict) else v) for k, v in sealed.items()}
        target = tampered
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value
        assert recompute(tampered) != digest, path


def test_resealing_an_event_that_already_carries_a_hash_still_verifies() -> None:
    # An event read back from a journal (or OpenSearch) carries guardian.hash; sealing it again
    # must not bake the stale hash into the new one.
    first, _ = seal({"a": 1}, 1, GENESIS)

    again, digest = seal(first, 5, "c" * 64)

    assert recompute(again) == digest
