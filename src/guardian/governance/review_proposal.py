"""A permission review's revoked rules as a policy change proposal: a unified diff of
``policy.csv`` that removes each revoked ``p`` line, to be applied through the policy workflow
(``guardian policy lint`` and ``guardian policy test`` on the result, then a reviewed commit).
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence

from guardian.governance.review_model import Access


def _rule_of(line: str) -> tuple[str, ...] | None:
    fields = tuple(f.strip() for f in line.strip().split(","))
    return fields[1:] if len(fields) == 6 and fields[0] == "p" else None


def policy_proposal(policy_csv: str, revoked: Sequence[Access]) -> str:
    """The diff removing every rule of ``revoked`` (``role`` + ``db/category/action/purpose``)."""
    gone = {(a.role or "", *(a.ref or "///").split("/")) for a in revoked}
    before = policy_csv.splitlines(keepends=True)
    after = [line for line in before if _rule_of(line) not in gone]
    return "".join(difflib.unified_diff(before, after, "a/policies/policy.csv",
                                        "b/policies/policy.csv"))
