"""What the evidence recommends for an item, with reason codes, and when a decision needs a
justification (per the definition).

Revoke when the account is disabled (``account_disabled``), a contractor lacks the supplier's
data-protection clause (``clause_missing``), or the access was not used in the window
(``never_used`` when the whole trail shows no use, ``unused_in_window`` otherwise), unless it
was granted within the window (``recently_granted``: keep, it had no time to be used). Keep
when used (``used_in_window``), noting ``categories_unused`` when some permitted categories
were never touched.
"""

from __future__ import annotations

from guardian.governance.review_definitions import ReviewDefinition
from guardian.governance.review_model import (
    Access,
    RecoCode,
    Recommendation,
    Subject,
    Usage,
    Verdict,
)

HIGH = "high"


def recommend(subject: Subject | None, access: Access, usage: Usage, window_start: float
              ) -> Recommendation:
    revoke: list[RecoCode] = []
    if subject is not None and not subject.active:
        revoke.append(RecoCode.ACCOUNT_DISABLED)
    if subject is not None and subject.type == "contractor" and not subject.contract_clause:
        revoke.append(RecoCode.CLAUSE_MISSING)
    if usage.permits == 0:
        if access.granted_at is not None and access.granted_at >= window_start:
            if not revoke:
                return Recommendation(Verdict.KEEP, (RecoCode.RECENTLY_GRANTED,))
        else:
            revoke.append(RecoCode.UNUSED_IN_WINDOW if usage.ever_used else RecoCode.NEVER_USED)
    if revoke:
        return Recommendation(Verdict.REVOKE, tuple(revoke))
    reasons = [RecoCode.USED_IN_WINDOW]
    if usage.categories_permitted and set(usage.categories_permitted) - set(
            usage.categories_used):
        reasons.append(RecoCode.CATEGORIES_UNUSED)
    return Recommendation(Verdict.KEEP, tuple(reasons))


def justification_needed(definition: ReviewDefinition, access: Access, usage: Usage,
                         verdict: Verdict, high: frozenset[str] = frozenset({HIGH})) -> str | None:
    """Why a ``verdict`` on this item needs a justification, or ``None``."""
    needs = definition.justification
    if verdict is Verdict.REVOKE:
        return "revoking needs a justification" if needs.revoke else None
    if needs.keep_unused and usage.permits == 0:
        return "keeping access unused in the window needs a justification"
    if needs.keep_high and access.sensitivity in high:
        return "keeping high-sensitivity access needs a justification"
    return None
