"""The access review part of the store's contract (tests/store_contract.py mixes it in), run
against SQLite and PostgreSQL: a campaign and its items kept whole, decisions with their history
round-trip, a reviewer's inbox holds only their items of live campaigns, counts per decision,
and revocations seen by another engine (another replica's view)."""

from __future__ import annotations

import dataclasses

from sqlalchemy import Engine

from guardian.adapters.sql.reviews import SqlReviews
from guardian.governance.review_model import (
    Access,
    AccessKind,
    AssignedBy,
    Assignment,
    Campaign,
    CampaignState,
    Counts,
    ItemDecision,
    Notification,
    RecoCode,
    Recommendation,
    Remediation,
    RemediationState,
    ReviewItem,
    Revocation,
    Subject,
    Usage,
    Verdict,
)
from guardian.governance.review_revocations import RevocationView

AT = 1_796_000_000.0


def _campaign(cid: str = "C1", state: CampaignState = CampaignState.OPEN,
              at: float = AT) -> Campaign:
    return Campaign(cid, "CRM access", "crm-quarterly", "membership", state, 1, at,
                    at + 14 * 86400, "ivan", "sha256:" + "a" * 64, "sha256:" + "b" * 64,
                    {"name": "crm-quarterly"}, notifications=(Notification(at, "nina", "opened",
                                                                           3),))


def _item(iid: str, uid: str, reviewer: str, cid: str = "C1") -> ReviewItem:
    a = Assignment(reviewer, AssignedBy.MANAGER, AT, 1, ("manager x: account disabled",))
    return ReviewItem(
        iid, cid, 1, Subject(uid, uid.title(), "contractor", reviewer, True, "Acme", True),
        Access(AccessKind.GRANT, "billing", "grant", "G1", "ivan", AT - 10, "high"),
        Usage(90, 3, AT - 100, True, ("contact",), ("contact", "identification"),
              ("billing",), 2, 1),
        Recommendation(Verdict.KEEP, (RecoCode.USED_IN_WINDOW, RecoCode.CATEGORIES_UNUSED)),
        a, (a,))


class ReviewStoreContract:
    def test_a_campaign_and_its_items_round_trip_whole(self, engine: Engine) -> None:
        store = SqlReviews(engine)
        items = [_item("I1", "alice", "nina"), _item("I2", "bob", "nina")]
        store.add_campaign(_campaign(), items)

        assert store.get_campaign("C1") == _campaign()
        assert store.campaign_items("C1") == items
        assert store.get_campaign("nope") is None
        assert store.counts("C1") == Counts(2, 2, 0, 0, 0)

    def test_decisions_history_and_remediation_are_kept(self, engine: Engine) -> None:
        store = SqlReviews(engine)
        store.add_campaign(_campaign(), [_item("I1", "alice", "nina"),
                                         _item("I2", "bob", "nina")])
        first = ItemDecision(Verdict.REVOKE, "nina", AT + 1, 1)
        second = ItemDecision(Verdict.KEEP, "nina", AT + 2, 1, "still needed", AT + 90)
        kept = dataclasses.replace(store.get_items(["I1"])[0], decision=second,
                                   history=(first, second))
        default = ItemDecision(Verdict.REVOKE, "guardian", AT + 3, 1, defaulted=True)
        revoked = dataclasses.replace(store.get_items(["I2"])[0], decision=default,
                                      history=(default,), remediation=Remediation(
                                          RemediationState.BLOCKED, AT + 3, AT + 3))
        store.save_items([kept, revoked])

        assert store.get_items(["I1", "I2", "I9"]) in ([kept, revoked], [revoked, kept])
        assert store.counts("C1") == Counts(2, 0, 1, 1, 1)

    def test_the_inbox_holds_only_the_reviewers_items_of_live_campaigns(
        self, engine: Engine
    ) -> None:
        store = SqlReviews(engine)
        store.add_campaign(_campaign(), [_item("I1", "alice", "nina"),
                                         _item("I2", "carol", "oscar"),
                                         _item("I3", "dave", "nina")])
        store.add_campaign(_campaign("C2", CampaignState.CLOSED, AT - 10),
                           [_item("I4", "bob", "nina", "C2")])

        assert [i.id for i in store.reviewer_items("nina")] == ["I1", "I3"]
        assert [i.id for i in store.reviewer_items("nina", after_id="I1")] == ["I3"]
        assert [i.id for i in store.reviewer_items("nina", limit=1)] == ["I1"]
        assert [i.id for i in store.reviewer_items("oscar", campaign_id="C2")] == []
        decided = dataclasses.replace(store.get_items(["I1"])[0], decision=ItemDecision(
            Verdict.KEEP, "nina", AT, 1, "ok for now"))
        store.save_items([decided])
        assert [i.id for i in store.reviewer_items("nina", pending_only=True)] == ["I3"]
        assert [c.id for c in store.list_campaigns()] == ["C1", "C2"]
        assert [c.id for c in store.list_campaigns("closed")] == ["C2"]
        store.save_campaign(dataclasses.replace(_campaign(), state=CampaignState.CANCELLED))
        assert store.reviewer_items("nina") == []

    def test_revocations_reach_another_replicas_view(self, engine: Engine, worker2: Engine
                                                     ) -> None:
        store = SqlReviews(engine)
        view = RevocationView(SqlReviews(worker2))
        store.add_revocations([Revocation("dave", "marketing", "C1", "I3", AT)])
        assert view.revoked_roles("dave") == {}
        view.refresh()
        assert view.revoked_roles("dave") == {"marketing": "C1"}
        store.end_revocation("I3", AT + 5)
        view.refresh()
        assert view.revoked_roles("dave") == {}
        assert store.active_revocations() == []
