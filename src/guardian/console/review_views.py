"""What the reviewer's inbox shows of an item, in words: its access, the evidence of use, the
recommendation's reasons, whether keeping or revoking needs a justification, and the
reviewer's progress (decided of total, per campaign).

Pure presentation over the review records; the rules themselves (the recommendation, when a
justification is required) are the governance package's, asked here, never restated.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from guardian.governance.review_definitions import ReviewDefinition
from guardian.governance.review_model import AccessKind, ReviewItem, Verdict
from guardian.governance.review_recommendations import justification_needed

REASONS = {
    "never_used": "never used in the whole trail",
    "unused_in_window": "not used in the review window (used before)",
    "used_in_window": "used in the review window",
    "account_disabled": "the account is disabled",
    "clause_missing": "contractor without the supplier's data-protection clause",
    "categories_unused": "some permitted categories were never used",
    "recently_granted": "granted recently: no time to be used yet",
}
RECOMMENDATIONS = ("keep", "revoke")
SHOWN = ("pending", "decided", "all")


def access_label(item: ReviewItem) -> str:
    a = item.access
    if a.kind is AccessKind.ROLE:
        return f"role {a.role}"
    if a.kind is AccessKind.GRANT:
        return f"temporary grant of {a.role} ({a.ref})"
    if a.kind is AccessKind.KEY:
        return f"application key {a.ref}"
    return f"rule {a.role}: {a.ref}"


def reasons_text(item: ReviewItem) -> list[str]:
    return [REASONS.get(r.value, r.value) for r in item.recommendation.reasons]


@dataclass(frozen=True, slots=True)
class Row:
    """One inbox row: the item and what its decisions would need."""

    item: ReviewItem
    campaign: str
    access: str
    reasons: list[str]
    keep_needs: str | None
    revoke_needs: str | None

    @property
    def label(self) -> str:
        return f"{self.item.subject.name} ({self.item.subject.uid}), {self.access}"


def rows(items: Iterable[ReviewItem], names: Mapping[str, str],
         definitions: Mapping[str, ReviewDefinition], definition_of: Mapping[str, str],
         high: frozenset[str]) -> list[Row]:
    out = []
    for item in items:
        definition = definitions.get(definition_of.get(item.campaign_id, ""))
        keep = revoke = None
        if definition is not None:
            keep = justification_needed(definition, item.access, item.usage, Verdict.KEEP, high)
            revoke = justification_needed(definition, item.access, item.usage, Verdict.REVOKE,
                                          high)
        out.append(Row(item, names.get(item.campaign_id, item.campaign_id), access_label(item),
                       reasons_text(item), keep, revoke))
    return out


@dataclass(frozen=True, slots=True)
class Progress:
    name: str
    decided: int
    total: int

    @property
    def percent(self) -> int:
        return round(100 * self.decided / self.total) if self.total else 100


def progress(items: Sequence[ReviewItem], names: Mapping[str, str]) -> list[Progress]:
    """The reviewer's share decided, over all their items first, then per campaign."""
    per: dict[str, list[int]] = {}
    for item in items:
        counts = per.setdefault(item.campaign_id, [0, 0])
        counts[0] += 0 if item.pending else 1
        counts[1] += 1
    out = [Progress("All your items", sum(c[0] for c in per.values()),
                    sum(c[1] for c in per.values()))]
    if len(per) > 1:
        out += [Progress(names.get(cid, cid), d, t) for cid, (d, t) in sorted(per.items())]
    return out


def matches(row: Row, *, recommendation: str | None, person: str | None, shown: str) -> bool:
    item = row.item
    if (shown == "pending" and not item.pending) or (shown == "decided" and item.pending):
        return False
    if recommendation and item.recommendation.decision.value != recommendation:
        return False
    if person:
        needle = person.casefold()
        if needle not in item.subject.uid.casefold() and \
                needle not in item.subject.name.casefold():
            return False
    return True
