"""Ninety days of plausible history for the demo organisation, so reviews and reports have
evidence to show at first start (DESIGN.md, "Demo organisation").

Pure: :func:`plan_history` (``demo_script``) writes the script (who signs in, steps up, asks
for what, when; grants, consent changes, lockouts) from a fixed seed, and
:func:`history_events` turns it into audit events, asking ``decide`` (the real decision
pipeline, wired by the caller) what each request would have been answered. Every event carries
``guardian.demo_data: true``; timestamps are in the past and strictly increasing.
Deterministic: the same ``now`` gives the same events.

Who does what follows the demo people's roles: alice and frank busy in customer care, bob in
billing (with exports), carol in fraud prevention, dave in marketing on consenting customers
(and a few ``consent_missing`` denies), erin a few legal requisitions, grace (no clause) rarely
and always refused, heidi only before her account was disabled, mallory a few refusals. Some
entitlements stay unused (grace's customer care, erin's export), so reviews see
``never_used`` and ``unused_in_window`` evidence.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from guardian.governance.demo_script import DEMO_SEED, HistoryPlan, plan_history, ulid
from guardian.governance.model import TemporaryGrant
from guardian.identity.principal import Principal
from guardian.policy.decision_events import decision_event
from guardian.policy.model import Decision, DecisionRequest
from guardian.ports import AuditJournal, ConsentStore, Directory, GrantRegistry

__all__ = ["DEMO_SEED", "AsOfDirectory", "Decide", "DemoHistory", "HistoryPlan", "PlannedGrants",
           "history_events", "plan_history"]

Decide = Callable[[DecisionRequest, float, float], Decision]
"""(request, when, age of the second factor in seconds) → the decision the policy gives."""


class AsOfDirectory:
    """A :class:`~guardian.ports.Directory` as it was at :attr:`at`: people disabled since were
    still active then. The caller sets ``at`` before each decision it asks for."""

    def __init__(self, directory: Directory, disabled: dict[str, float]) -> None:
        self._directory = directory
        self._disabled = disabled
        self.at = 0.0

    def get(self, uid: str) -> Principal | None:
        principal = self._directory.get(uid)
        since = self._disabled.get(uid)
        if principal is not None and since is not None and self.at < since:
            return replace(principal, active=True)
        return principal

    def principals(self) -> Iterable[Principal]:
        return self._directory.principals()


def history_events(
    plan: HistoryPlan, decide: Decide, *, seed: int = DEMO_SEED
) -> list[dict[str, Any]]:
    """Every event of ``plan`` in time order, decisions answered by ``decide``, each marked as
    demo data, timestamps strictly increasing and all before ``plan.now``."""
    rng = random.Random(seed + 1)  # noqa: S311 - demo data, reproducible on purpose
    timed: list[tuple[float, int, dict[str, Any]]] = []
    for n, (at, event) in enumerate(plan.events):
        timed.append((at, n, event))
    offset = len(timed)
    for n, item in enumerate(plan.decisions):
        decision = decide(item.request, item.at, item.mfa_age_s)
        decision = replace(decision, decision_id=ulid(item.at, rng.getrandbits(80)))
        timed.append((item.at, offset + n, decision_event(item.request, decision, item.at)))
    timed.sort(key=lambda t: (t[0], t[1]))
    out: list[dict[str, Any]] = []
    last_ms = -1
    for at, _, event in timed:
        ms = max(int(at * 1000), last_ms + 1)  # strictly increasing, to the millisecond
        last_ms = ms
        if ms >= plan.now * 1000:
            break
        out.append(_marked(event, ms / 1000))
    return out


def _marked(event: dict[str, Any], at: float) -> dict[str, Any]:
    guardian = {**event.get("guardian", {}), "demo_data": True}
    return {**event, "@timestamp": iso_ms(at), "guardian": guardian}


def iso_ms(at: float) -> str:
    return datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%dT%H:%M:%S.") + \
        f"{round(at * 1000) % 1000:03d}Z"


class PlannedGrants:
    """The plan's temporary grants as the decision pipeline reads them (a ``GrantStore``)."""

    def __init__(self, grants: Iterable[TemporaryGrant]) -> None:
        self._grants = list(grants)

    def active_roles(self, uid: str, at: float) -> frozenset[str]:
        return frozenset(g.role for g in self._grants
                         if g.uid == uid and g.starts_at <= at < g.expires_at)


class DemoHistory:
    """Seeds a fresh demo data folder with its history: the events through the journal first,
    then the grants and consent changes they record into their stores (journal, then state)."""

    def __init__(self, journal: AuditJournal, grants: GrantRegistry,
                 consents: ConsentStore) -> None:
        self._journal = journal
        self._grants = grants
        self._consents = consents

    def seed(self, plan: HistoryPlan, decide: Decide) -> int:
        """Journal every event of ``plan`` in one durable append; returns how many."""
        events = history_events(plan, decide)
        self._journal.append_many(events)
        for grant in plan.grants:
            self._grants.add_grant(grant)
        for change in plan.consents:  # older than the customers file's seed, which stays the state
            self._consents.record_change(change)
        return len(events)
