"""Review records as the API shows them: an access documents what its kind names (grant id,
key id, rule), an item is pending until decided and shows its history only when asked, a
campaign's times are ISO UTC and its counts optional."""

from __future__ import annotations

import dataclasses

from guardian.governance.review_model import (
    Access,
    AccessKind,
    AssignedBy,
    Assignment,
    Campaign,
    CampaignState,
    Counts,
    ItemDecision,
    RecoCode,
    Recommendation,
    ReviewItem,
    Subject,
    Usage,
    Verdict,
)

NOW = 1_796_000_000.0  # 2026-11-30T00:53:20Z


def _item(access: Access) -> ReviewItem:
    return ReviewItem(
        id="item-1", campaign_id="camp-1", stage=1,
        subject=Subject("alice", "Alice", "employee", "nina", True), access=access,
        usage=Usage(90, permits=3, last_used_at=NOW), recommendation=Recommendation(
            Verdict.KEEP, (RecoCode.USED_IN_WINDOW,)),
        assignment=Assignment("nina", AssignedBy.MANAGER, NOW, 1))


def test_an_access_documents_what_its_kind_names() -> None:
    grant = Access(AccessKind.GRANT, "billing", "grant", ref="g-1", granted_by="ivan",
                   granted_at=NOW)
    assert grant.as_dict() == {"kind": "grant", "role": "billing", "source": "grant",
                               "sensitivity": None, "grant_id": "g-1", "granted_by": "ivan",
                               "granted_at": "2026-11-30T00:53:20Z"}
    assert Access(AccessKind.KEY, None, "store", ref="k-1").as_dict()["key_id"] == "k-1"
    assert Access(AccessKind.RULE, "agent", "policy", ref="crm/contact/read").as_dict()[
        "rule"] == "crm/contact/read"
    role = Access(AccessKind.ROLE, "billing", "ldap").as_dict()
    assert set(role) == {"kind", "role", "source", "sensitivity"}
    assert grant.key() == ("grant", "billing", "g-1")
    assert Access(AccessKind.KEY, None, "store", ref="k-1").key() == ("key", "", "k-1")


def test_an_item_is_pending_until_decided_and_shows_history_only_when_asked() -> None:
    item = _item(Access(AccessKind.ROLE, "billing", "ldap"))
    assert item.pending and item.reviewer == "nina"
    document = item.as_dict()
    assert document["decision"] is None and document["assigned_by"] == "manager"
    assert document["usage"]["last_used_at"] == "2026-11-30T00:53:20Z"
    assert "history" not in document and "assignments" not in document
    decision = ItemDecision(Verdict.REVOKE, "nina", NOW, 1, justification="left the team")
    decided = dataclasses.replace(item, decision=decision, history=(decision,))
    assert not decided.pending
    full = decided.as_dict(with_history=True)
    assert full["decision"] == {"decision": "revoke", "by": "nina",
                                "at": "2026-11-30T00:53:20Z", "stage": 1,
                                "justification": "left the team", "until": None,
                                "defaulted": False}
    assert full["history"] == [full["decision"]] and full["assignments"] == []


def test_a_campaign_document_has_iso_times_and_optional_counts() -> None:
    campaign = Campaign(id="camp-1", name="CRM", definition="crm-quarterly",
                        kind="membership", state=CampaignState.AWAITING_SIGN_OFF, stage=1,
                        opened_at=NOW, due_at=NOW + 86400, opened_by="ivan",
                        snapshot_hash="sha256:x", definition_version="sha256:y")
    document = campaign.as_dict()
    assert document["state"] == "awaiting-sign-off"
    assert document["due_at"] == "2026-12-01T00:53:20Z" and document["closed_at"] is None
    assert "counts" not in document
    counts = Counts(items=3, pending=1, keep=1, revoke=1)
    assert campaign.as_dict(counts)["counts"] == {"items": 3, "pending": 1, "keep": 1,
                                                  "revoke": 1, "defaulted": 0}
