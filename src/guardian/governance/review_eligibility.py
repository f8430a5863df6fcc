"""Who reviews an item: the stage's rule, then its fallback list, first eligible person wins.

Eligible means: in the directory, account active, not the person reviewed, not the officer
who granted the temporary grant under review, and not someone reviewing their own manager (a
report of the person reviewed). Every candidate passed over is recorded with the reason, and
the assignment says how it was made (rule, fallback), so the evidence report proves the
reviewer was independent.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence

from guardian.governance.review_definitions import ReviewerRule, Stage
from guardian.governance.review_model import Access, AssignedBy, Assignment
from guardian.identity.principal import Principal
from guardian.ports import Directory

_BY_RULE = {ReviewerRule.MANAGER: AssignedBy.MANAGER, ReviewerRule.ROLE_OWNER:
            AssignedBy.ROLE_OWNER, ReviewerRule.DPO: AssignedBy.DPO,
            ReviewerRule.NAMED: AssignedBy.NAMED}


def ineligibility(candidate: str, subject: str | None, access: Access, directory: Directory
                  ) -> str | None:
    """Why ``candidate`` may not review this item, or ``None`` when they may."""
    person = directory.get(candidate)
    if person is None:
        return "not in the directory"
    if not person.active:
        return "account disabled"
    if subject is not None and candidate == subject:
        return "is the person reviewed"
    if access.granted_by is not None and candidate == access.granted_by:
        return "granted this access"
    if subject is not None and person.manager == subject:
        return "reports to the person reviewed"
    return None


def _candidates(stage: Stage, subject: Principal | None, access: Access,
                owners: Mapping[str, str], dpos: Sequence[str]
                ) -> Iterator[tuple[str | None, AssignedBy, str]]:
    """(uid or None, how, label) in order: the rule's people, then the fallback list."""
    rule = _BY_RULE[stage.reviewer]
    if stage.reviewer is ReviewerRule.MANAGER:
        yield (subject.manager if subject else None), rule, "manager"
    elif stage.reviewer is ReviewerRule.ROLE_OWNER:
        yield owners.get(access.role or ""), rule, "role owner"
    elif stage.reviewer is ReviewerRule.DPO:
        if not dpos:
            yield None, rule, "dpo"
        for uid in dpos:
            yield uid, rule, "dpo"
    else:
        for uid in stage.named:
            yield uid, rule, "named reviewer"
    for uid in stage.fallback:
        yield uid, AssignedBy.FALLBACK, "fallback"


def assign(stage: Stage, number: int, subject: Principal | None, access: Access,
           directory: Directory, owners: Mapping[str, str], dpos: Sequence[str], at: float
           ) -> Assignment:
    """The first eligible candidate of ``stage`` for this item, with everyone passed over."""
    skipped: list[str] = []
    uid_of_subject = subject.uid if subject is not None else None
    for uid, how, label in _candidates(stage, subject, access, owners, dpos):
        if uid is None:
            skipped.append(f"{label}: none")
            continue
        why = ineligibility(uid, uid_of_subject, access, directory)
        if why is None:
            return Assignment(uid, how, at, number, tuple(skipped))
        skipped.append(f"{label} {uid}: {why}")
    return Assignment(None, AssignedBy.UNASSIGNED, at, number, tuple(skipped))
