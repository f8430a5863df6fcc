"""Review records as the store keeps them: every item and campaign of an opened, decided and
closed campaign comes back equal from its document, enums as their values in between."""

from __future__ import annotations

import orjson

from guardian.governance.review_codec import campaign_from_doc, item_from_doc, to_doc, to_json
from guardian.governance.review_model import Verdict
from guardian.governance.reviews import DecisionInput
from review_support import DAY, NOW, wired


def test_items_and_campaigns_come_back_equal_from_their_documents() -> None:
    w = wired()
    campaign, _ = w.service.open("ivan", "crm-quarterly")
    items = w.store.campaign_items(campaign.id)
    dave = next(i for i in items if i.subject.uid == "dave" and i.access.role == "marketing")
    w.service.decide("nina", [DecisionInput(dave.id, Verdict.REVOKE)])
    w.service.decide("nina", [DecisionInput(dave.id, Verdict.KEEP, "spring campaign",
                                            until=NOW + 30 * DAY)])
    w.closing.close("ivan", campaign.id)
    items = w.store.campaign_items(campaign.id)
    closed = w.deps.campaign(campaign.id)

    assert any(i.decision is not None and i.history for i in items)
    for item in items:
        doc = to_doc(item)
        assert doc == orjson.loads(to_json(item))
        assert item_from_doc(doc) == item
    assert campaign_from_doc(to_doc(closed)) == closed


def test_enums_are_written_as_their_values() -> None:
    w = wired()
    campaign, _ = w.service.open("ivan", "crm-quarterly")
    doc = to_doc(w.store.campaign_items(campaign.id)[0])

    assert doc["access"]["kind"] in {"role", "grant", "key", "rule"}
    assert doc["recommendation"]["decision"] in {v.value for v in Verdict}
    assert to_doc(campaign)["state"] == "open"
