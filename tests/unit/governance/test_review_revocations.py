"""Revocations reach other processes through the change feed: closing a campaign publishes one
``revocation`` change, and a view following the feed over the same store re-reads at once, with
no periodic refresh; a restore and a resync do the same; a view that missed the message catches
up on its next refresh (the net)."""

from __future__ import annotations

from guardian.changes import Change, ChangeKind, Handler, Subscribers
from guardian.governance.review_model import Verdict
from guardian.governance.review_revocations import RevocationView
from guardian.governance.reviews import DecisionInput
from review_support import crm_quarterly, wired


class Feed:
    """Delivers every change published by one process to the subscribers of another."""

    def __init__(self) -> None:
        self.others = Subscribers()
        self.published: list[Change] = []

    def publish(self, kind: ChangeKind, key: str) -> None:
        self.published.append(Change(kind, key))
        self.others.deliver(Change(kind, key))

    def subscribe(self, kind: ChangeKind, handler: Handler) -> None:
        self.others.subscribe(kind, handler)

    def start(self) -> None:
        return None

    def stop(self) -> None:
        return None


def test_a_revocation_reaches_another_process_view_through_the_feed_at_once() -> None:
    w = wired(crm_quarterly(brake=1.0))
    feed = Feed()
    w.deps.changes = feed
    elsewhere = RevocationView(w.store)  # another worker, same store
    elsewhere.follow(feed)
    missed = RevocationView(w.store)  # one whose message was lost
    campaign, _ = w.service.open("ivan", "crm-quarterly")
    dave = next(i for i in w.store.campaign_items(campaign.id) if i.subject.uid == "dave")
    w.service.decide("nina", [DecisionInput(dave.id, Verdict.REVOKE)])

    w.closing.close("ivan", campaign.id)

    assert feed.published == [Change(ChangeKind.REVOCATION, campaign.id)]  # one per close
    assert elsewhere.revoked_roles("dave") == {"marketing": campaign.id}
    assert missed.revoked_roles("dave") == {}
    missed.refresh()  # the slow periodic net
    assert missed.revoked_roles("dave") == {"marketing": campaign.id}

    w.closing.restore("ivan", dave.id, "needed for the spring launch, INC-42")
    assert elsewhere.revoked_roles("dave") == {}
    assert len(feed.published) == 2


def test_a_resync_re_reads_every_revocation_and_no_feed_publishes_nothing() -> None:
    w = wired(crm_quarterly(brake=1.0))
    feed = Feed()
    elsewhere = RevocationView(w.store)
    elsewhere.follow(feed)
    campaign, _ = w.service.open("ivan", "crm-quarterly")
    w.closing.close("ivan", campaign.id)  # no feed wired: nothing published
    assert feed.published == [] and len(w.view) > 0 and len(elsewhere) == 0
    feed.others.deliver(Change(ChangeKind.RESYNC, ""))
    assert len(elsewhere) == len(w.view)
