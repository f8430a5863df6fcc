"""Seeding an empty consent store with the demo customers' consents (a named start-up step).

The customers file is the demo organisation's starting state, like its demo history:
configuration, not a change the consent system made, so it is not journalled; every later
change goes through :class:`~guardian.governance.consent.ConsentService`.
"""

from __future__ import annotations

from collections.abc import Iterable

from guardian.governance.consent_records import ConsentChange
from guardian.ports import ConsentStore


def seed_consents(store: ConsentStore, records: Iterable[tuple[str, str]], at: float) -> int:
    """Record ``(customer, purpose)`` consents into ``store`` if it holds no change yet;
    returns how many were recorded (0 on a store that holds anything)."""
    if store.last_change_id() > 0:
        return 0
    count = 0
    for customer_id, purpose in records:
        store.record_change(ConsentChange(customer_id, purpose, True, at, "customers file",
                                          "guardian", None, at))
        count += 1
    return count
