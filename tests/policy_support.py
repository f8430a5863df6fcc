"""Helpers for the policy apply and impact tests: a changed copy of the demo policy, a trail of
real decisions made by the demo policy, the oracle of which of them a change flips, and an
in-memory trail that pages like an audit index."""

from __future__ import annotations

import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from guardian.adapters.files.policy import load_policy
from guardian.adapters.memory.ports import MemoryConsents, MemoryGrants, MemoryJournal
from guardian.audit.queries import AuditPage, AuditQuery, Cursor, cursor_of, event_millis
from guardian.bootstrap import build_what_if, read_consents
from guardian.config import Settings
from guardian.policy.model import DecisionRequest
from guardian.policy.pipeline import CompiledPolicy, DecisionPipeline
from guardian.policy.vocabulary import Action, AuthMethod
from support import ROOT

DEMO = ROOT / "policies"
REMOVED = "p, customer-care, crm, contact, update, customer-care"
"""Removing it flips alice's contact updates to deny (and fails a demo policy test)."""
ADDED = "p, customer-care, crm, location, read, customer-care"
"""Adding it flips alice's location reads for customer care to permit."""
SUBJECTS = ("alice", "bob", "carol", "dave", "erin", "frank", "mallory", "heidi", "oscar")
PURPOSES = ("customer-care", "billing", "fraud-prevention", "legal-requisition")


def changed_policy(into: Path, *, remove: Sequence[str] = (), add: Sequence[str] = (),
                   tests: bool = True) -> Path:
    """A copy of the demo policy (with its tests unless ``tests=False``) in ``into``."""
    into.mkdir(parents=True, exist_ok=True)
    for name in ("model.conf", "guardian.yaml"):
        shutil.copy(DEMO / name, into / name)
    lines = [line for line in (DEMO / "policy.csv").read_text().splitlines()
             if line.strip() not in remove]
    (into / "policy.csv").write_text("\n".join([*lines, *add]) + "\n")
    if tests:
        shutil.copytree(DEMO / "tests", into / "tests", dirs_exist_ok=True)
    return into


def requests(settings: Settings, now: float) -> list[DecisionRequest]:
    """A grid of requests over the demo organisation, each with a fresh two-factor session."""
    signer = build_what_if(settings).signer
    categories = sorted(load_policy(DEMO).databases["crm"])
    out = []
    for subject in SUBJECTS:
        token, _ = signer.issue(subject, (AuthMethod.PASSWORD, AuthMethod.OTP),
                                auth_time=now - 10, now=now - 10, ttl_s=3600)
        for category in categories:
            for action in (Action.READ, Action.UPDATE, Action.EXPORT):
                for purpose in PURPOSES:
                    out.append(DecisionRequest(
                        subject_id=subject, action=action, database="crm", category=category,
                        purpose=purpose, customer_ids=("C-1001",), session_token=token,
                        justification="REQ-2026-118 court order"))
    return out


def pipeline_for(settings: Settings, policy: CompiledPolicy, journal: MemoryJournal
                 ) -> DecisionPipeline:
    what_if = build_what_if(settings)
    return DecisionPipeline(policy, what_if.directory, MemoryGrants(),
                            MemoryConsents(read_consents(settings)), what_if.signer, journal,
                            what_if.clock)


def recorded_trail(settings: Settings, now: float) -> list[dict[str, Any]]:
    """The demo policy's decisions on :func:`requests`, as the journal sealed them."""
    journal = MemoryJournal()
    pipeline = pipeline_for(settings, CompiledPolicy.of(load_policy(DEMO)), journal)
    pipeline.decide_many(requests(settings, now))
    return journal.events


def expected_flips(settings: Settings, candidate: Path, now: float,
                   trail: Sequence[Mapping[str, Any]]) -> dict[str, str]:
    """Oracle: decision id (of ``trail``, made by :func:`recorded_trail` at ``now``) →
    direction, deciding every request anew with both policies."""
    base = pipeline_for(settings, CompiledPolicy.of(load_policy(DEMO)), MemoryJournal())
    new = pipeline_for(settings, CompiledPolicy.of(load_policy(candidate)), MemoryJournal())
    flips = {}
    for request, event in zip(requests(settings, now), trail, strict=True):
        before = base.evaluate(request, now).permitted
        after = new.evaluate(request, now).permitted
        if before != after:
            flips[event["guardian"]["decision_id"]] = "permit→deny" if before else "deny→permit"
    return flips


class MemoryTrail:
    """The search of an audit index over a list: oldest or newest first, cursor after cursor."""

    def __init__(self, events: Sequence[Mapping[str, Any]]) -> None:
        self.events = sorted(events, key=lambda e: (event_millis(e), e["guardian"]["seq"]))
        self.queries: list[AuditQuery] = []

    def search(self, query: AuditQuery) -> AuditPage:
        self.queries.append(query)
        chosen = [e for e in self.events
                  if (query.action is None or e["event"]["action"] == query.action)
                  and (query.since_ms is None or event_millis(e) >= query.since_ms)
                  and _after(e, query.after)]
        more = len(chosen) > query.size
        page = chosen[:query.size]
        return AuditPage(page, cursor_of(page[-1]) if more and page else None)


def _after(event: Mapping[str, Any], cursor: Cursor | None) -> bool:
    return cursor is None or (event_millis(event), event["guardian"]["seq"]) > (
        cursor.at_ms, cursor.seq)
