"""A review's revoked rules as a policy change proposal: a unified diff of policy.csv removing
exactly the revoked ``p`` lines, whatever their spacing, and nothing when nothing matches."""

from __future__ import annotations

from guardian.governance.review_model import Access, AccessKind
from guardian.governance.review_proposal import policy_proposal

POLICY = """# roles and rules
p, support, crm, contact, read, service
p,marketing , crm , contact , read , marketing
g, alice, support
"""


def _rule(role: str, ref: str) -> Access:
    return Access(AccessKind.RULE, role, "policy", ref)


def test_the_revoked_rule_is_removed_in_a_diff_of_policy_csv() -> None:
    diff = policy_proposal(POLICY, [_rule("marketing", "crm/contact/read/marketing")])

    assert diff.startswith("--- a/policies/policy.csv\n+++ b/policies/policy.csv\n")
    removed = [line for line in diff.splitlines() if line.startswith("-") and
               not line.startswith("---")]
    assert removed == ["-p,marketing , crm , contact , read , marketing"]
    assert not [line for line in diff.splitlines() if line.startswith("+") and
                not line.startswith("+++")]


def test_nothing_revoked_or_nothing_matching_proposes_nothing() -> None:
    assert policy_proposal(POLICY, []) == ""
    assert policy_proposal(POLICY, [_rule("support", "crm/contact/write/service")]) == ""
    assert policy_proposal(POLICY, [_rule("alice", "support")]) == ""
