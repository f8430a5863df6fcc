"""A campaign's evidence report: what an auditor needs to accept that access was reviewed.

It holds the campaign, the definition it followed (and that text's SHA-256), the population
(every item, its count and the snapshot hash recomputed from the items, which must equal the
hash journalled at opening), the reviewers and how each was assigned, the notification
timeline, every item with its evidence, recommendation, decision history and remediation, the
items decided by default listed apart, remediation with time-to-revoke and verification,
restorations, and the sign-off. It is sealed like a periodic report (SHA-256 over canonical
JSON, signed with the audit key: :mod:`guardian.reports.signing`), so ``guardian report verify
FILE`` checks it; HTML, CSV (one table per section in a ZIP) and PDF are rendered from that
JSON with the periodic report's renderers. Producing one is journalled before it is returned.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from html import escape
from typing import Any

from guardian.audit.events import AuditAction, governance_event
from guardian.clock import iso_utc, iso_utc_or_none
from guardian.governance.review_model import Campaign, Counts, RemediationState, ReviewItem
from guardian.governance.review_opening import snapshot_hash
from guardian.ids import new_ulid
from guardian.ports import AuditJournal, Clock
from guardian.reports.periodic_render import STYLE, table_html
from guardian.reports.signing import ReportSigner, seal

KIND = "access-review"


def _items_table(items: Sequence[ReviewItem]) -> dict[str, Any]:
    rows = []
    for i in items:
        d = i.decision
        rows.append([
            i.id, i.subject.uid, i.subject.type, i.access.kind.value, i.access.role or "",
            i.access.ref or "", i.access.sensitivity or "", i.usage.permits,
            iso_utc_or_none(i.usage.last_used_at) or "", i.usage.customers, i.usage.denies,
            ", ".join(i.usage.categories_used), i.recommendation.decision.value,
            ", ".join(r.value for r in i.recommendation.reasons), i.reviewer or "",
            i.assignment.assigned_by.value, d.decision.value if d else "",
            (d.justification or "") if d else "", iso_utc(d.at) if d else "",
            "yes" if d and d.defaulted else "", len(i.history),
            i.remediation.state.value if i.remediation else ""])
    return {"name": "items", "columns": [
        "item", "uid", "type", "access", "role", "ref", "sensitivity", "permits", "last_used",
        "customers", "denies", "categories_used", "recommendation", "reasons", "reviewer",
        "assigned_by", "decision", "justification", "decided_at", "defaulted", "decisions",
        "remediation"], "rows": rows}


def _remediation(campaign: Campaign, items: Sequence[ReviewItem]) -> list[dict[str, Any]]:
    out = []
    for i in items:
        if i.remediation is None:
            continue
        rem = i.remediation
        closed = campaign.closed_at or rem.at
        out.append({"item_id": i.id, "uid": i.subject.uid, "access": i.access.kind.value,
                    "role": i.access.role, "ref": i.access.ref, "state": rem.state.value,
                    "revoked_at": iso_utc(rem.at), "time_to_revoke_s": round(rem.at - closed, 3),
                    "updated_at": iso_utc(rem.updated_at), "note": rem.note,
                    "verified": rem.state is RemediationState.VERIFIED})
    return out


def build_evidence(report_id: str, campaign: Campaign, counts: Counts,
                   items: Sequence[ReviewItem], *, actor: str, now: float) -> dict[str, Any]:
    """The evidence report's JSON, unsealed."""
    reviewers: dict[str, Counter[str]] = {}
    for i in items:
        for a in i.assignments:
            reviewers.setdefault(a.reviewer or "(unassigned)", Counter())[a.assigned_by.value] += 1
    defaulted = [i.id for i in items if i.decision is not None and i.decision.defaulted]
    remediation = _remediation(campaign, items)
    restorations = [{"item_id": i.id, "uid": i.subject.uid, "role": i.access.role,
                     "restored_by": i.remediation.restored_by,
                     "justification": i.remediation.restore_justification,
                     "at": iso_utc(i.remediation.updated_at)}
                    for i in items if i.remediation is not None
                    and i.remediation.state is RemediationState.RESTORED]
    recomputed = snapshot_hash(items)
    doc: dict[str, Any] = {
        "id": report_id, "kind": KIND, "generated_at": iso_utc(now), "generated_by": actor,
        "campaign": campaign.as_dict(counts), "definition": campaign.definition_doc,
        "population": {"items": len(items), "snapshot_hash": campaign.snapshot_hash,
                       "recomputed_hash": recomputed,
                       "matches_snapshot": recomputed == campaign.snapshot_hash},
        "reviewers": [{"reviewer": r, "assignments": dict(sorted(c.items()))}
                      for r, c in sorted(reviewers.items())],
        "notifications": [n.as_dict() for n in campaign.notifications],
        "items": [i.as_dict(with_history=True) for i in items],
        "defaulted": defaulted, "remediation": remediation, "restorations": restorations,
        "sign_off": {"by": campaign.signed_off_by,
                     "at": iso_utc_or_none(campaign.signed_off_at)},
        "proposal": campaign.proposal,
    }
    doc["sections"] = _sections(doc, items)
    return doc


def _sections(doc: Mapping[str, Any], items: Sequence[ReviewItem]) -> list[dict[str, Any]]:
    def table(name: str, rows: Sequence[Mapping[str, Any]], columns: Sequence[str]
              ) -> dict[str, Any]:
        return {"name": name, "columns": list(columns),
                "rows": [[r.get(c) for c in columns] for r in rows]}

    reviewers = [{"reviewer": r["reviewer"], "how": ", ".join(
        f"{k} {v}" for k, v in r["assignments"].items())} for r in doc["reviewers"]]
    return [
        {"key": "items", "title": "Items reviewed",
         "why": "Every entitlement of the population, with its evidence and decision.",
         "summary": f"{len(items)} item(s)", "tables": [_items_table(items)]},
        {"key": "reviewers", "title": "Reviewers and how they were assigned",
         "why": "Reviewers are never the person reviewed, the grantor, or a report.",
         "summary": f"{len(reviewers)} reviewer(s)",
         "tables": [table("reviewers", reviewers, ("reviewer", "how"))]},
        {"key": "defaulted", "title": "Decided by default (no answer by the deadline)",
         "why": "The definition's no-answer rules, per sensitivity.",
         "summary": f"{len(doc['defaulted'])} item(s)",
         "tables": [table("defaulted", [{"item": i} for i in doc["defaulted"]], ("item",))]},
        {"key": "remediation", "title": "Remediation",
         "why": "Revoked in Guardian at once, then verified in the directory.",
         "summary": f"{len(doc['remediation'])} item(s)",
         "tables": [table("remediation", doc["remediation"], (
             "item_id", "uid", "access", "role", "state", "revoked_at", "time_to_revoke_s",
             "updated_at"))]},
        {"key": "notifications", "title": "Notifications",
         "why": "Each reminder or notice recorded with its time.",
         "summary": f"{len(doc['notifications'])} notification(s)",
         "tables": [table("notifications", doc["notifications"],
                          ("at", "reviewer", "kind", "items", "channel"))]},
        {"key": "restorations", "title": "Restorations",
         "why": "Access given back by an officer, with the justification.",
         "summary": f"{len(doc['restorations'])} restoration(s)",
         "tables": [table("restorations", doc["restorations"],
                          ("item_id", "uid", "role", "restored_by", "justification", "at"))]},
    ]


def evidence_html(doc: Mapping[str, Any]) -> str:
    c = doc.get("campaign", {})
    pop = doc.get("population", {})
    sign = doc.get("sign_off", {})
    facts = (("Campaign", f"{c.get('name')} ({c.get('id')})"), ("State", c.get("state")),
             ("Definition", f"{c.get('definition')} {c.get('definition_version')}"),
             ("Opened", f"{c.get('opened_at')} by {c.get('opened_by')}"),
             ("Population", f"{pop.get('items')} item(s), snapshot {pop.get('snapshot_hash')}"
                            f" ({'matches' if pop.get('matches_snapshot') else 'DOES NOT MATCH'})"),
             ("Signed off", f"{sign.get('at')} by {sign.get('by')}" if sign.get("by")
              else "not yet"),
             ("Report", f"{doc.get('id')} generated {doc.get('generated_at')}"),
             ("SHA-256", doc.get("sha256", "(not sealed)")),
             ("Signed with key", doc.get("key_id", "(not signed)")))
    rows = "".join(f"<dt>{escape(str(k))}</dt><dd>{escape(str(v))}</dd>" for k, v in facts)
    sections = "".join(
        f'<section id="{escape(str(s["key"]))}"><h2>{escape(str(s["title"]))}</h2>'
        f'<p class="why">{escape(str(s["why"]))}</p><p class="summary">'
        f'{escape(str(s["summary"]))}</p>{"".join(table_html(t) for t in s["tables"])}</section>'
        for s in doc.get("sections", []))
    return ("<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>Access review evidence {escape(str(c.get('id')))}</title>"
            f"<style>{STYLE}</style></head><body><section class=\"cover\">"
            "<h1>Access review evidence</h1>"
            f"<dl>{rows}</dl><p class=\"why\">Check this report with <code>guardian report "
            "verify FILE --public-key audit-key.pem</code> on its JSON form.</p></section>"
            f"{sections}</body></html>")


class CampaignEvidence:
    """Produces a campaign's signed evidence report, journalling that it was produced."""

    def __init__(self, journal: AuditJournal, signer: ReportSigner, clock: Clock) -> None:
        self._journal = journal
        self._signer = signer
        self._clock = clock

    def produce(self, actor: str, campaign: Campaign, counts: Counts,
                items: Sequence[ReviewItem], form: str) -> dict[str, Any]:
        now = self._clock.now()
        sealed = seal(build_evidence(new_ulid(now), campaign, counts, items, actor=actor,
                                     now=now), self._signer)
        self._journal.append(governance_event(
            AuditAction.REVIEW_REPORT_PRODUCED, actor, now, query=f"format={form}",
            review={"campaign_id": campaign.id, "items": len(items),
                    "snapshot_hash": campaign.snapshot_hash}))
        return sealed
