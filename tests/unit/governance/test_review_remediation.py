"""Removing revoked standing roles in the directory: blocked or failed role items are removed
(``removed``, journalled) or fail (``failed``, a ``review.remediation_failed`` event); every
other item is left as it is; nothing is journalled when nothing was tried."""

from __future__ import annotations

import pytest

from guardian.adapters.memory.ports import MemoryJournal
from guardian.errors import AuditUnavailable, DirectoryWriteFailed
from guardian.governance.review_model import (
    Access,
    AccessKind,
    AssignedBy,
    Assignment,
    RecoCode,
    Recommendation,
    Remediation,
    RemediationState,
    ReviewItem,
    Subject,
    Usage,
    Verdict,
)
from guardian.governance.review_remediation import remove_memberships

NOW = 1_796_000_000.0


class Writer:
    """A ``MembershipWriter`` that records removals and refuses the uids in ``refuse``."""

    def __init__(self, refuse: frozenset[str] = frozenset()) -> None:
        self.removed: list[tuple[str, str]] = []
        self.refuse = refuse

    def remove_member(self, uid: str, role: str) -> None:
        if uid in self.refuse:
            raise DirectoryWriteFailed("the directory said no " + "x" * 2000)
        self.removed.append((uid, role))


def _item(uid: str, state: RemediationState | None, kind: AccessKind = AccessKind.ROLE,
          role: str | None = "billing") -> ReviewItem:
    remediation = None if state is None else Remediation(state, NOW - 60, NOW - 60)
    return ReviewItem(
        id=f"item-{uid}", campaign_id="camp-1", stage=1,
        subject=Subject(uid, uid.title(), "employee", "nina", True),
        access=Access(kind, role, "ldap", ref=None if role else "g-1"),
        usage=Usage(90), recommendation=Recommendation(Verdict.REVOKE, (RecoCode.NEVER_USED,)),
        assignment=Assignment("nina", AssignedBy.MANAGER, NOW - 600, 1),
        remediation=remediation)


def test_blocked_and_failed_roles_are_removed_and_journalled() -> None:
    writer, journal = Writer(), MemoryJournal()
    items = [_item("alice", RemediationState.BLOCKED), _item("bob", RemediationState.FAILED)]
    out = remove_memberships(writer, journal, "guardian", items, NOW)
    assert writer.removed == [("alice", "billing"), ("bob", "billing")]
    assert [i.remediation.state for i in out if i.remediation] == [RemediationState.REMOVED] * 2
    assert all(i.remediation and i.remediation.updated_at == NOW for i in out)
    assert [e["event"]["action"] for e in journal.events] == [
        "review.remediation_removed"] * 2
    review = journal.events[0]["guardian"]["review"]
    assert review["subject"] == "alice" and review["access"] == "role:billing"
    assert review["remediation"] == "removed"


def test_a_refused_removal_fails_with_a_bounded_note_and_a_failure_event() -> None:
    writer, journal = Writer(refuse=frozenset({"bob"})), MemoryJournal()
    items = [_item("alice", RemediationState.BLOCKED), _item("bob", RemediationState.BLOCKED)]
    alice, bob = remove_memberships(writer, journal, "guardian", items, NOW)
    assert alice.remediation and alice.remediation.state is RemediationState.REMOVED
    assert bob.remediation and bob.remediation.state is RemediationState.FAILED
    assert bob.remediation.note and bob.remediation.note.startswith(
        "removal in the directory failed: the directory said no")
    assert len(bob.remediation.note) == 1024
    failed = journal.events[1]
    assert failed["event"]["action"] == "review.remediation_failed"
    assert failed["event"]["outcome"] == "failure"
    assert failed["guardian"]["review"]["remediation"] == "failed"


@pytest.mark.parametrize("item", [
    _item("carol", None),
    _item("carol", RemediationState.REMOVED),
    _item("carol", RemediationState.VERIFIED),
    _item("carol", RemediationState.BLOCKED, kind=AccessKind.GRANT, role=None),
    _item("carol", RemediationState.BLOCKED, kind=AccessKind.KEY, role=None),
])
def test_other_items_are_left_alone_and_nothing_is_journalled(item: ReviewItem) -> None:
    writer, journal = Writer(), MemoryJournal()
    assert remove_memberships(writer, journal, "guardian", [item], NOW) == [item]
    assert writer.removed == [] and journal.events == []


def test_a_journal_that_refuses_raises_after_the_removals() -> None:
    writer, journal = Writer(), MemoryJournal()
    journal.fail = True
    item = _item("alice", RemediationState.BLOCKED)
    with pytest.raises(AuditUnavailable):
        remove_memberships(writer, journal, "guardian", [item], NOW)
    # the directory change stays; no item comes back to be stored, so it stays blocked
    assert writer.removed == [("alice", "billing")]
