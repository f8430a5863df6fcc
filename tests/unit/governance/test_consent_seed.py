"""Seeding the consent store from the customers file: on an empty store every pair becomes a
granted consent from the "customers file", at the seeding time, recorded by "guardian"
without a key; a store that holds any change is left as it is."""

from __future__ import annotations

from collections.abc import Iterator

from guardian.adapters.memory.ports import MemoryConsentStore
from guardian.governance.consent_records import ConsentChange
from guardian.governance.consent_seed import seed_consents

AT = 1_790_000_000.0
PAIRS = [("C-1001", "marketing"), ("C-1001", "research"), ("C-1002", "research")]


def test_an_empty_store_gets_every_pair_as_a_granted_consent() -> None:
    store = MemoryConsentStore()

    assert seed_consents(store, PAIRS, AT) == 3

    assert [(c.customer_id, c.purpose, c.granted) for c in store.changes] == [
        (customer, purpose, True) for customer, purpose in PAIRS]
    assert {(c.at, c.recorded_at, c.source, c.actor, c.key_id) for c in store.changes} == {
        (AT, AT, "customers file", "guardian", None)}
    assert {(s.customer_id, s.purpose, s.granted) for s in store.consent_states()} == {
        (customer, purpose, True) for customer, purpose in PAIRS}


def test_a_store_holding_any_change_is_not_seeded_again() -> None:
    store = MemoryConsentStore()
    store.record_change(ConsentChange("C-1002", "research", False, AT - 10, "web-form",
                                      "crm-web", "k1", AT - 10))
    offered: list[tuple[str, str]] = []

    def pairs() -> Iterator[tuple[str, str]]:
        for pair in PAIRS:
            offered.append(pair)
            yield pair

    assert seed_consents(store, pairs(), AT) == 0
    assert len(store.changes) == 1 and store.changes[0].granted is False
    assert offered == []  # the file is not even read


def test_seeding_twice_records_once() -> None:
    store = MemoryConsentStore()

    assert seed_consents(store, PAIRS, AT) == 3
    assert seed_consents(store, PAIRS, AT + 60) == 0
    assert len(store.changes) == 3


def test_no_pairs_record_nothing() -> None:
    store = MemoryConsentStore()

    assert seed_consents(store, [], AT) == 0
    assert store.changes == []
