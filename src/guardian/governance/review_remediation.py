"""Bringing the directory in line with a revoked standing role, through the LDAP write account
(the ``MembershipWriter`` port): each revoked membership still shown (``blocked``) or whose
removal failed before (``failed``) is removed in the directory and becomes ``removed`` (the next
directory sync then shows it gone: ``verified``), or ``failed`` — escalated: a
``review.remediation_failed`` event an officer's alerting watches, retried by the clock.
Without a write account nothing here runs and the item waits on the remediation list.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from guardian.audit.events import AuditAction
from guardian.errors import DirectoryWriteFailed
from guardian.governance.review_model import AccessKind, RemediationState, ReviewItem
from guardian.governance.reviews import item_ref, review_event
from guardian.ports import AuditJournal, MembershipWriter

TO_REMOVE = (RemediationState.BLOCKED, RemediationState.FAILED)


def remove_memberships(writer: MembershipWriter, journal: AuditJournal, actor: str,
                       items: Sequence[ReviewItem], now: float) -> list[ReviewItem]:
    """``items`` with each revoked role removed in the directory (or failed), journalled."""
    out: list[ReviewItem] = []
    events: list[dict[str, Any]] = []
    for item in items:
        rem = item.remediation
        if rem is None or rem.state not in TO_REMOVE or item.access.kind is not AccessKind.ROLE \
                or not item.access.role:
            out.append(item)
            continue
        try:
            writer.remove_member(item.subject.uid, item.access.role)
        except DirectoryWriteFailed as exc:
            note = f"removal in the directory failed: {exc.message}"[:1024]
            events.append(review_event(
                AuditAction.REVIEW_REMEDIATION_FAILED, actor, now, success=False,
                review={**item_ref(item), "remediation": RemediationState.FAILED.value,
                        "note": note}))
            out.append(replace(item, remediation=replace(
                rem, state=RemediationState.FAILED, updated_at=now, note=note)))
            continue
        events.append(review_event(
            AuditAction.REVIEW_REMEDIATION_REMOVED, actor, now,
            review={**item_ref(item), "remediation": RemediationState.REMOVED.value}))
        out.append(replace(item, remediation=replace(
            rem, state=RemediationState.REMOVED, updated_at=now,
            note="removed from the directory group by Guardian's write account")))
    if events:
        journal.append_many(events)
    return out
