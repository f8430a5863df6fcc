"""Every recommendation code, and when a decision needs a justification."""

from __future__ import annotations

import pytest

from guardian.governance.review_model import (
    Access,
    AccessKind,
    RecoCode,
    Subject,
    Usage,
    Verdict,
)
from guardian.governance.review_recommendations import justification_needed, recommend
from review_support import NOW, crm_quarterly

WINDOW_START = NOW - 90 * 86400
ROLE = Access(AccessKind.ROLE, "customer-care", "directory", sensitivity="medium")
ALICE = Subject("alice", "Alice", "employee", "nina", True)
USED = Usage(90, permits=5, ever_used=True, categories_used=("contact", "identification"),
             categories_permitted=("contact", "identification"))
R = RecoCode


@pytest.mark.parametrize(("subject", "access", "usage", "expected"), [
    (ALICE, ROLE, USED, (Verdict.KEEP, (R.USED_IN_WINDOW,))),
    (ALICE, ROLE, Usage(90, permits=5, ever_used=True, categories_used=("contact",),
                        categories_permitted=("contact", "identification")),
     (Verdict.KEEP, (R.USED_IN_WINDOW, R.CATEGORIES_UNUSED))),
    (ALICE, ROLE, Usage(90), (Verdict.REVOKE, (R.NEVER_USED,))),
    (ALICE, ROLE, Usage(90, ever_used=True), (Verdict.REVOKE, (R.UNUSED_IN_WINDOW,))),
    (Subject("heidi", "Heidi", "employee", "nina", False), ROLE, USED,
     (Verdict.REVOKE, (R.ACCOUNT_DISABLED,))),
    (Subject("grace", "Grace", "contractor", "nina", True, "QuickCall", False), ROLE, USED,
     (Verdict.REVOKE, (R.CLAUSE_MISSING,))),
    (ALICE, Access(AccessKind.GRANT, "billing", "grant", "G1", "ivan", NOW - 86400), Usage(90),
     (Verdict.KEEP, (R.RECENTLY_GRANTED,))),
    (ALICE, Access(AccessKind.GRANT, "billing", "grant", "G1", "ivan", NOW - 200 * 86400),
     Usage(90), (Verdict.REVOKE, (R.NEVER_USED,))),
])
def test_every_recommendation_code(subject: Subject, access: Access, usage: Usage,
                                   expected: tuple[Verdict, tuple[RecoCode, ...]]) -> None:
    reco = recommend(subject, access, usage, WINDOW_START)
    assert (reco.decision, reco.reasons) == expected


def test_a_disabled_contractor_without_clause_gets_both_reasons() -> None:
    grace = Subject("grace", "Grace", "contractor", "nina", False, "QuickCall", False)
    reco = recommend(grace, ROLE, Usage(90), WINDOW_START)
    assert reco.reasons == (R.ACCOUNT_DISABLED, R.CLAUSE_MISSING, R.NEVER_USED)


def test_justification_for_keeping_unused_or_high_access_and_never_for_revoking() -> None:
    definition = crm_quarterly()
    high = Access(AccessKind.ROLE, "billing", "directory", sensitivity="high")
    assert justification_needed(definition, ROLE, Usage(90), Verdict.KEEP) is not None
    assert justification_needed(definition, ROLE, USED, Verdict.KEEP) is None
    assert justification_needed(definition, high, USED, Verdict.KEEP) is not None
    assert justification_needed(definition, high, Usage(90), Verdict.REVOKE) is None
