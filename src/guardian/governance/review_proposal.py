"""A permission review's revoked rules as a policy change proposal: a unified diff of
``policy.csv`` that removes each revoked ``p`` line, to be applied through the policy workflow
(``guardian policy lint`` and ``guardian policy test`` on the result, then a reviewed commit).
Closing the campaign runs those same checks on the proposed policy (the checks of ``guardian
policy apply``: lint, compile, every policy test) and keeps what they found with the proposal,
so an officer sees a proposal that would break a policy test before anyone applies it.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence

from guardian.governance.review_model import Access


def _rule_of(line: str) -> tuple[str, ...] | None:
    fields = tuple(f.strip() for f in line.strip().split(","))
    return fields[1:] if len(fields) == 6 and fields[0] == "p" else None


def proposed_csv(policy_csv: str, revoked: Sequence[Access]) -> str:
    """``policy.csv`` without the rules of ``revoked`` (``role`` + ``db/category/action/
    purpose``), every other line (comments, blank lines) kept."""
    gone = {(a.role or "", *(a.ref or "///").split("/")) for a in revoked}
    return "".join(line for line in policy_csv.splitlines(keepends=True)
                   if _rule_of(line) not in gone)


def policy_proposal(policy_csv: str, revoked: Sequence[Access]) -> str:
    """The diff removing every rule of ``revoked``: ``patch -p1`` applies it in the folder
    holding ``policies/``."""
    return "".join(difflib.unified_diff(
        policy_csv.splitlines(keepends=True),
        proposed_csv(policy_csv, revoked).splitlines(keepends=True),
        "a/policies/policy.csv", "b/policies/policy.csv"))
