"""The consent view and its follower: states applied by (at, change_id) so a replay or an old
change changes nothing; the follower reads what other processes stored, in batches, and looks
again for an id skipped over (a transaction not yet committed) until it is given up."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from guardian.adapters.memory.ports import MemoryConsentStore
from guardian.errors import StoreUnavailable
from guardian.governance.consent_records import ConsentChange, ConsentState
from guardian.governance.consent_view import ConsentFollower, ConsentView

AT = 1_790_000_000.0


def _state(customer: str, granted: bool, at: float = AT, change_id: int = 1,
           purpose: str = "marketing") -> ConsentState:
    return ConsentState(customer, purpose, granted, at, change_id)


def _change(customer: str, granted: bool, at: float = AT) -> ConsentChange:
    return ConsentChange(customer, "marketing", granted, at, "web-form", "crm", None, at)


class HidingStore(MemoryConsentStore):
    """Ids in ``hidden`` are not read yet: their transactions have not committed."""

    def __init__(self) -> None:
        super().__init__()
        self.hidden: set[int] = set()
        self.reads: list[tuple[int, tuple[int, ...]]] = []

    def changes_after(self, after_id: int, also: Sequence[int], limit: int
                      ) -> list[ConsentChange]:
        self.reads.append((after_id, tuple(also)))
        return [c for c in super().changes_after(after_id, also, limit)
                if c.change_id not in self.hidden][:limit]


def test_without_consent_names_each_customer_lacking_a_grant_once_in_order() -> None:
    view = ConsentView([_state("C-1", True), _state("C-2", False),
                        _state("C-3", True, purpose="profiling")])
    assert view.without_consent(["C-3", "C-1", "C-2", "C-3", "C-4"], "marketing") == (
        "C-3", "C-2", "C-4")
    assert view.without_consent(["C-3"], "profiling") == ()
    assert len(view) == 3


def test_only_a_newer_state_is_applied() -> None:
    view = ConsentView([_state("C-1", True, AT, 5)])
    assert not view.apply(_state("C-1", False, AT, 5))  # the same change again
    assert not view.apply(_state("C-1", False, AT - 1, 9))  # older, imported late
    assert view.without_consent(["C-1"], "marketing") == ()
    assert view.apply(_state("C-1", False, AT, 6))  # same time, later in the store
    assert view.without_consent(["C-1"], "marketing") == ("C-1",)


def test_replace_drops_what_is_not_in_the_new_states() -> None:
    view = ConsentView([_state("C-1", True)])
    view.replace([_state("C-2", True)])
    assert view.without_consent(["C-1", "C-2"], "marketing") == ("C-1",)


def test_the_follower_loads_then_applies_what_others_stored_in_batches() -> None:
    store = MemoryConsentStore()
    store.record_change(_change("C-1", True))
    follower = ConsentFollower(store, ConsentView(), batch=2)
    assert follower.load() == 1
    assert follower.view.without_consent(["C-1"], "marketing") == ()
    for n in range(5):
        store.record_change(_change(f"D-{n}", True, AT + n))
    store.record_change(_change("C-1", False, AT + 10))
    # the last ids before loading are read again (in flight then): C-1's first change is
    # not new to the view
    assert follower.refresh() == 6
    assert follower.view.without_consent(["C-1", "D-4"], "marketing") == ("C-1",)
    assert follower.refresh() == 0


def test_a_skipped_id_is_looked_for_again_and_applied_when_it_commits() -> None:
    store = HidingStore()
    follower = ConsentFollower(store, ConsentView(), gap_ttl_s=60.0)
    follower.load()
    store.record_change(_change("C-1", True))
    store.record_change(_change("C-2", True))
    store.hidden = {1}
    assert follower.refresh() == 1  # C-2 only
    store.hidden = set()
    assert follower.refresh() == 1  # C-1, found by asking for id 1 again
    assert store.reads[-1][1] == (1,)
    assert follower.view.without_consent(["C-1", "C-2"], "marketing") == ()
    follower.refresh()
    assert store.reads[-1] == (2, ())  # nothing left to look for


def test_a_skipped_id_is_given_up_after_the_gap_ttl() -> None:
    store = HidingStore()
    follower = ConsentFollower(store, ConsentView(), gap_ttl_s=0.0)
    follower.load()
    store.record_change(_change("C-1", True))
    store.record_change(_change("C-2", True))
    store.hidden = {1}
    follower.refresh()
    follower.refresh()
    assert store.reads[-1] == (2, ())


def test_a_store_that_cannot_be_read_raises_and_the_view_keeps_serving() -> None:
    store = MemoryConsentStore()
    store.record_change(_change("C-1", True))
    follower = ConsentFollower(store, ConsentView())
    follower.load()
    store.fail = True
    with pytest.raises(StoreUnavailable):
        follower.refresh()
    assert follower.view.without_consent(["C-1"], "marketing") == ()
