"""Shared fixtures of the access review unit tests: the demo organisation in memory, the
policy with its role owners, the crm-quarterly definition, and a wired pair of services."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from guardian.adapters.files.policy import load_policy
from guardian.adapters.memory.ports import MemoryDirectory, MemoryJournal
from guardian.adapters.memory.reviews import MemoryReviews
from guardian.clock import ManualClock
from guardian.governance.review_closing import ReviewClosing
from guardian.governance.review_definitions import (
    JustificationNeeds,
    NoAnswer,
    Recurrence,
    ReviewDefinition,
    ReviewerRule,
    ReviewKind,
    Scope,
    Stage,
    Unit,
)
from guardian.governance.review_revocations import RevocationView
from guardian.governance.review_usage import UsageEvidence
from guardian.governance.reviews import ReviewDeps, ReviewService
from guardian.identity.principal import Principal
from guardian.policy.definition import PolicyDefinition
from guardian.policy.vocabulary import EmployeeType
from guardian.ports import AuditIndex

ROOT = Path(__file__).resolve().parents[1]
NOW = 1_796_000_000.0  # 2026-11-30
DAY = 86400.0
C = EmployeeType.CONTRACTOR
OWNERS = {"customer-care": "nina", "billing": "nina", "marketing": "nina",
          "fraud-analyst": "oscar", "legal-officer": "oscar"}
DATA_ROLES = ("customer-care", "billing", "fraud-analyst", "marketing", "legal-officer")


def people() -> list[Principal]:
    def p(uid: str, *roles: str, **kw: Any) -> Principal:
        return Principal(uid, uid.title(), frozenset(roles), **kw)

    return [
        p("alice", "customer-care", manager="nina"), p("bob", "billing", manager="nina"),
        p("carol", "fraud-analyst", manager="oscar"), p("dave", "marketing", manager="nina"),
        p("erin", "legal-officer", manager="oscar"),
        p("frank", "customer-care", employee_type=C, supplier="Acme", contract_clause=True,
          manager="nina"),
        p("grace", "customer-care", employee_type=C, supplier="QuickCall", manager="nina"),
        p("heidi", "customer-care", active=False, manager="nina"),
        p("ivan", "security-officer"), p("judy", "auditor"), p("mallory", manager="oscar"),
        p("nina", "reviewer", manager="oscar"), p("oscar", "reviewer"), p("peggy", "dpo"),
    ]


def policy() -> PolicyDefinition:
    return dataclasses.replace(load_policy(ROOT / "policies"), role_owners=OWNERS)


def crm_quarterly(**changes: Any) -> ReviewDefinition:
    definition = ReviewDefinition(
        name="crm-quarterly", title="CRM access, quarterly", kind=ReviewKind.MEMBERSHIP,
        scope=Scope(DATA_ROLES, grants=True), every=Recurrence(3, Unit.MONTHS),
        stages=(Stage(ReviewerRule.MANAGER, 14, fallback=("ivan", "peggy"),
                      reminders=(7, 3, 1), escalate_to=("ivan",)),),
        no_answer={"high": NoAnswer.REVOKE, "medium": NoAnswer.FOLLOW_RECOMMENDATION,
                   "low": NoAnswer.FOLLOW_RECOMMENDATION},
        justification=JustificationNeeds(True, True, False), usage_window_days=90, brake=0.5,
        version="sha256:" + "d" * 64)
    return dataclasses.replace(definition, **changes)


@dataclass
class Wired:
    service: ReviewService
    closing: ReviewClosing
    store: MemoryReviews
    journal: MemoryJournal
    clock: ManualClock
    view: RevocationView
    directory: MemoryDirectory
    deps: ReviewDeps
    revoked_grants: list[str]

    def actions(self) -> list[str]:
        return [e["event"]["action"] for e in self.journal.events]


def wired(*definitions: ReviewDefinition, index: AuditIndex | None = None,
          principals: list[Principal] | None = None) -> Wired:
    store, journal, clock = MemoryReviews(), MemoryJournal(), ManualClock(NOW)
    directory = MemoryDirectory(principals if principals is not None else people())
    view = RevocationView(store)
    defs = {d.name: d for d in (definitions or (crm_quarterly(),))}
    the_policy = policy()
    deps = ReviewDeps(store, directory, lambda: the_policy, lambda: defs, journal, clock,
                      UsageEvidence(index), view)
    revoked: list[str] = []
    closing = ReviewClosing(deps, revoke_grant=lambda a, g, r: revoked.append(g),
                            policy_csv=lambda: (ROOT / "policies/policy.csv").read_text())
    return Wired(ReviewService(deps), closing, store, journal, clock, view, directory, deps,
                 revoked)
