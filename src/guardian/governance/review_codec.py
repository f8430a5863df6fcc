"""Review records to plain JSON-able mappings and back, as the store keeps them.

The store keeps an item or a campaign whole as one document beside the few columns it is
searched by, so adding evidence to an item never needs a schema change; this module is the
one place that knows how a record is spelled as a document.
"""

from __future__ import annotations

from typing import Any

import orjson

from guardian.governance.review_model import (
    Access,
    AccessKind,
    AssignedBy,
    Assignment,
    Campaign,
    CampaignState,
    ItemDecision,
    Notification,
    RecoCode,
    Recommendation,
    Remediation,
    RemediationState,
    ReviewItem,
    Subject,
    Usage,
    Verdict,
)


def to_json(record: Any) -> bytes:
    """Any review record as JSON: orjson writes dataclasses and enums natively, an order of
    magnitude faster than ``dataclasses.asdict`` (opening a campaign stores every item)."""
    return orjson.dumps(record)


def to_doc(record: Any) -> dict[str, Any]:
    """Any review record as a mapping of plain values (enums as their value)."""
    out: dict[str, Any] = orjson.loads(to_json(record))
    return out


# Enum look-ups by value, once: ``Enum(value)`` costs more than the rest of decoding an item.
_VERDICT = {v.value: v for v in Verdict}
_ASSIGNED = {v.value: v for v in AssignedBy}
_KIND = {v.value: v for v in AccessKind}
_RECO = {v.value: v for v in RecoCode}


def _decision(d: dict[str, Any]) -> ItemDecision:
    return ItemDecision(_VERDICT[d["decision"]], d["by"], d["at"], d["stage"], d["justification"],
                        d["until"], d["defaulted"])


def _assignment(d: dict[str, Any]) -> Assignment:
    return Assignment(d["reviewer"], _ASSIGNED[d["assigned_by"]], d["at"], d["stage"],
                      tuple(d["skipped"]), d["reason"], d["by"])


def item_from_doc(d: dict[str, Any]) -> ReviewItem:
    """An item from its document: positional constructors and the current assignment taken
    from the list of assignments it ends (an inbox page decodes hundreds at once)."""
    u = d["usage"]
    a = d["access"]
    s = d["subject"]
    rem = d.get("remediation")
    reco = d["recommendation"]
    assignments = tuple(_assignment(x) for x in d["assignments"])
    current = d["assignment"]
    assignment = assignments[-1] if assignments and d["assignments"][-1] == current \
        else _assignment(current)
    return ReviewItem(
        d["id"], d["campaign_id"], d["stage"],
        Subject(s["uid"], s["name"], s["type"], s["manager"], s["active"], s.get("supplier"),
                s.get("contract_clause", False)),
        Access(_KIND[a["kind"]], a["role"], a["source"], a.get("ref"), a.get("granted_by"),
               a.get("granted_at"), a.get("sensitivity")),
        Usage(u["window_days"], u["permits"], u["last_used_at"], u["ever_used"],
              tuple(u["categories_used"]), tuple(u["categories_permitted"]),
              tuple(u["purposes_used"]), u["customers"], u["denies"]),
        Recommendation(_VERDICT[reco["decision"]], tuple(_RECO[r] for r in reco["reasons"])),
        assignment, assignments,
        None if d["decision"] is None else _decision(d["decision"]),
        tuple(_decision(h) for h in d["history"]), d["flagged"],
        None if rem is None else Remediation(
            RemediationState(rem["state"]), rem["at"], rem["updated_at"], rem["note"],
            rem["restored_by"], rem["restore_justification"]),
    )


def campaign_from_doc(d: dict[str, Any]) -> Campaign:
    fields = dict(d)
    fields["state"] = CampaignState(fields["state"])
    fields["notifications"] = tuple(Notification(**n) for n in fields["notifications"])
    if fields.get("proposal_problems") is not None:
        fields["proposal_problems"] = tuple(fields["proposal_problems"])
    return Campaign(**fields)
