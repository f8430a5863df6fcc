"""The access review a fresh demo organisation starts with: crm-quarterly, open, so that a
newcomer who signs in to the console as nina finds items to decide at first start.

Opened through the real review service (validate, journal, store), with the same evidence any
campaign gets from the audit index — which is why the demo history must be in the index first
(the caller ships it). Its audit event is marked ``guardian.demo_data: true`` like the rest of
the demo history, by :class:`DemoMarked`, a journal that marks every event appended through it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from guardian.audit.records import AuditReceipt
from guardian.governance.review_model import Campaign, Counts
from guardian.governance.reviews import ReviewDeps, ReviewService
from guardian.ports import AuditJournal

DEMO_DEFINITION = "crm-quarterly"
DEMO_OPENER = "guardian"
"""The actor of the demo's campaign (nobody of the demo organisation opened it)."""


def marked(event: Mapping[str, Any]) -> dict[str, Any]:
    return {**event, "guardian": {**event.get("guardian", {}), "demo_data": True}}


class DemoMarked:
    """An :class:`~guardian.ports.AuditJournal` marking every event as demo data."""

    def __init__(self, journal: AuditJournal) -> None:
        self._journal = journal

    def append(self, event: Mapping[str, Any]) -> AuditReceipt:
        return self._journal.append(marked(event))

    def append_many(self, events: Sequence[Mapping[str, Any]]) -> list[AuditReceipt]:
        return self._journal.append_many([marked(e) for e in events])

    async def append_many_async(self, events: Sequence[Mapping[str, Any]]
                                ) -> list[AuditReceipt]:
        return await self._journal.append_many_async([marked(e) for e in events])

    def close(self) -> None:
        """The wrapped journal is closed by its owner."""


def demo_review_service(deps: ReviewDeps) -> ReviewService:
    """The review service whose events are marked as demo data."""
    return ReviewService(replace(deps, journal=DemoMarked(deps.journal)))


def open_demo_campaign(service: ReviewService) -> tuple[Campaign, Counts] | None:
    """Open crm-quarterly as demo data; ``None`` when the policy has no such definition."""
    if DEMO_DEFINITION not in {d.name for d in service.definitions()}:
        return None
    return service.open(DEMO_OPENER, DEMO_DEFINITION)
