"""The script of the demo organisation's last 90 days: who signed in, stepped up, asked for
what and when, the grants an officer made, consent changes and lockouts (pure, seeded).

:func:`plan_history` returns a :class:`HistoryPlan`; ``demo_history`` asks the policy for each
planned decision and turns the whole plan into audit events. Working days are Monday to
Friday, 08:00 to 18:00 UTC; the people and their habits are DESIGN.md's demo organisation.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from guardian.audit.events import (
    AuditAction,
    consent_event,
    governance_event,
    session_event,
    trail_access_event,
)
from guardian.governance.consent_records import ConsentChange
from guardian.governance.model import TemporaryGrant
from guardian.policy.model import DecisionRequest
from guardian.policy.vocabulary import Action

DEMO_SEED = 20260901
"""The fixed seed of the demo history."""
DAY = 86400.0
HOUR = 3600.0
MINUTE = 60.0
APPLICATION = "demo-app"
CUSTOMERS = tuple(f"C-{n}" for n in range(1001, 1011))
CONSENTING = ("C-1001", "C-1002", "C-1003", "C-1004")
"""Customers with marketing consent all along; C-1005 gives it during the window."""
NOT_CONSENTING = ("C-1006", "C-1007", "C-1008", "C-1009", "C-1010")
HIGH = frozenset({"economic-financial", "connection-usage", "location", "content",
                  "profiles-scores", "personal-life"})
"""Categories whose second factor may be at most 15 minutes old: a step-up comes first."""
IPS = {uid: f"10.20.0.{n}" for n, uid in enumerate(
    ("alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy",
     "mallory", "nina", "oscar", "peggy"), start=11)}

# (category, action, weight) per kind of work
CARE = [("identification", Action.READ, 35), ("contact", Action.READ, 40),
        ("products-services", Action.READ, 20), ("contact", Action.UPDATE, 5)]
BILLING = [("economic-financial", Action.READ, 35), ("contact", Action.READ, 20),
           ("identification", Action.READ, 25), ("products-services", Action.READ, 20)]
FRAUD = [("connection-usage", Action.READ, 30), ("location", Action.READ, 20),
         ("economic-financial", Action.READ, 25), ("identification", Action.READ, 25)]
MARKETING = [("contact", Action.READ, 45), ("products-services", Action.READ, 35),
             ("profiles-scores", Action.READ, 20)]
LEGAL = ["identification", "contact", "personal-life", "location", "content",
         "economic-financial"]


@dataclass(frozen=True, slots=True)
class PlannedDecision:
    at: float
    request: DecisionRequest
    mfa_age_s: float


@dataclass
class HistoryPlan:
    """The script: decisions to ask for, other events as they are, grants, disablements."""

    now: float
    decisions: list[PlannedDecision] = field(default_factory=list)
    events: list[tuple[float, dict[str, Any]]] = field(default_factory=list)
    grants: list[TemporaryGrant] = field(default_factory=list)
    consents: list[ConsentChange] = field(default_factory=list)
    """Consent changes the consent system made in the window (their events are in ``events``)."""
    disabled: dict[str, float] = field(default_factory=dict)
    """uid → when the account was disabled (it was active before)."""


def plan_history(now: float, *, days: int = 90, seed: int = DEMO_SEED) -> HistoryPlan:
    """The demo organisation's last ``days`` days up to ``now``, from ``seed``."""
    return DemoScript(now, days, random.Random(seed)).run()  # noqa: S311 - reproducible demo


@dataclass
class _Session:
    uid: str
    sid: str
    mfa_at: float


class DemoScript:
    """Writes the plan day by day; each person's habits are one method."""

    def __init__(self, now: float, days: int, rng: random.Random) -> None:
        self.now = now
        self.rng = rng
        midnight = datetime.fromtimestamp(now, UTC).replace(hour=0, minute=0, second=0,
                                                             microsecond=0).timestamp()
        self.days = [midnight - d * DAY for d in range(days, -1, -1)]
        self.start = now - days * DAY
        self.plan = HistoryPlan(now)
        self.heidi_disabled = midnight - 60 * DAY + 17 * HOUR
        self.consent_given = midnight - 75 * DAY + 11 * HOUR  # C-1005 says yes to offers
        self.consent_withdrawn = midnight - 40 * DAY + 15 * HOUR  # C-1006 says no more
        self.plan.disabled["heidi"] = self.heidi_disabled
        care_cover = self.days[min(38, days)]  # bob covers customer care a week, alice away
        self.alice_away = (care_cover, care_cover + 5 * DAY)

    def run(self) -> HistoryPlan:
        self._governance()
        workdays = [d for d in self.days if datetime.fromtimestamp(d, UTC).weekday() < 5]
        for n, day in enumerate(workdays):
            self._working_day(n, day)
        self.plan.events = [(at, e) for at, e in self.plan.events if self.start <= at < self.now]
        self.plan.decisions = [d for d in self.plan.decisions if self.start <= d.at < self.now]
        return self.plan

    # -- one day ---------------------------------------------------------------------------

    def _working_day(self, n: int, day: float) -> None:
        """Working day number ``n`` of the window (Monday to Friday), starting at ``day``."""
        r = self.rng
        if not self.alice_away[0] <= day < self.alice_away[1]:
            self._work("alice", day, CARE, "customer-care", r.randint(8, 20))
        else:
            self._work("bob", day + 2 * HOUR, CARE, "customer-care", r.randint(6, 12))
        if n == 14:
            self._lockout("frank", day + 8 * HOUR + 5 * MINUTE)
        self._work("frank", day, CARE, "customer-care", r.randint(6, 15))
        if day + 8 * HOUR < self.heidi_disabled:
            self._work("heidi", day, CARE, "customer-care", r.randint(5, 12))
        self._work("bob", day, BILLING, "billing", r.randint(5, 12))
        if datetime.fromtimestamp(day, UTC).weekday() == 4:
            self._export("bob", day + 15 * HOUR)
        self._work("carol", day, FRAUD, "fraud-prevention", r.randint(3, 8))
        self._marketing(day)
        if n % 9 == 4:
            self._requisition(day)
        if n in (11, 37, 58):
            self._work("grace", day, CARE, "customer-care", 1)
        if n in (6, 23, 33, 46, 60):
            self._work("mallory", day, CARE + BILLING, r.choice(["customer-care", "billing"]), 1)
        if n == 33:
            self._lockout("mallory", day + 19 * HOUR, then_signs_in=False)
        self._officers(n, day)

    def _sign_in(self, uid: str, at: float) -> _Session:
        session = _Session(uid, f"{self.rng.getrandbits(72):018x}", at)
        self.plan.events.append((at, sign_in(uid, at, session.sid)))
        return session

    def _work(self, uid: str, day: float, kinds: list[tuple[str, Action, int]], purpose: str,
              count: int) -> None:
        r = self.rng
        session = self._sign_in(uid, day + 8 * HOUR + r.uniform(0, 90 * MINUTE))
        times = sorted(r.uniform(session.mfa_at + 5 * MINUTE, session.mfa_at + 7 * HOUR)
                       for _ in range(count))
        weights = [w for _, _, w in kinds]
        for at in times:
            category, action, _ = r.choices(kinds, weights)[0]
            if purpose == "customer-care" and r.random() < 0.015:
                category, action = "personal-characteristics", Action.READ  # not theirs
            customers = (r.choice(CUSTOMERS),)
            self._ask(session, at, request(uid, action, category, purpose, customers))

    def _ask(self, session: _Session, at: float, req: DecisionRequest) -> None:
        if req.category in HIGH and at - session.mfa_at > 15 * MINUTE:
            if self.rng.random() < 0.06:  # forgot to step up: refused, steps up, asks again
                self.plan.decisions.append(PlannedDecision(at, req, at - session.mfa_at))
                at += self.rng.uniform(60, 180)
                session.mfa_at = at - self.rng.uniform(20, 50)
            else:
                session.mfa_at = at - self.rng.uniform(20, 300)
            self.plan.events.append((session.mfa_at, step_up(session.uid, session.mfa_at,
                                                             session.sid)))
        self.plan.decisions.append(PlannedDecision(at, req, at - session.mfa_at))

    def _export(self, uid: str, at: float) -> None:
        session = self._sign_in(uid, at - 10 * MINUTE)
        customers = tuple(sorted(self.rng.sample(CUSTOMERS, 4)))
        self._ask(session, at, request(uid, Action.EXPORT, "economic-financial", "billing",
                                       customers))

    def _marketing(self, day: float) -> None:
        r = self.rng
        session = self._sign_in("dave", day + 9 * HOUR + r.uniform(0, 60 * MINUTE))
        for _ in range(r.randint(2, 6)):
            at = session.mfa_at + r.uniform(10 * MINUTE, 6 * HOUR)
            pool = CONSENTING + (("C-1005",) if at > self.consent_given else ())
            category, action, _ = r.choices(MARKETING, [w for _, _, w in MARKETING])[0]
            self._ask(session, at, request("dave", action, category, "marketing",
                                           tuple(sorted(r.sample(pool, r.randint(1, 3))))))
        if session.mfa_at > self.consent_withdrawn and r.random() < 0.25:  # a customer who said no
            at = session.mfa_at + r.uniform(6 * HOUR, 7 * HOUR)
            self._ask(session, at, request("dave", Action.READ, "contact", "marketing",
                                           (r.choice(NOT_CONSENTING),)))

    def _requisition(self, day: float) -> None:
        r = self.rng
        session = self._sign_in("erin", day + 10 * HOUR + r.uniform(0, 2 * HOUR))
        reference = f"REQ-2026-{r.randint(100, 999)} court order, case file {r.randint(10, 99)}"
        customer = (r.choice(CUSTOMERS),)
        at = session.mfa_at
        for category in r.sample(LEGAL, r.randint(2, 4)):
            at += r.uniform(2 * MINUTE, 12 * MINUTE)
            self._ask(session, at, request("erin", Action.READ, category, "legal-requisition",
                                           customer, justification=reference))

    def _lockout(self, uid: str, at: float, *, then_signs_in: bool = True) -> None:
        for i in range(5):
            self.plan.events.append((at + i * 40, failed(uid, at + i * 40, "invalid_credentials")))
        self.plan.events.append((at + 240, failed(uid, at + 240, "account_locked")))
        if then_signs_in:
            self._sign_in(uid, at + 35 * MINUTE)

    def _officers(self, n: int, day: float) -> None:
        r = self.rng
        weekday = datetime.fromtimestamp(day, UTC).weekday()
        if weekday in (0, 3):
            self._sign_in("ivan", day + 8 * HOUR + r.uniform(0, HOUR))
        if weekday == 1:
            judy = self._sign_in("judy", day + 14 * HOUR)
            query = r.choice(["user=mallory", "decision=deny", "purpose=legal-requisition",
                              "user=grace decision=deny", "category=economic-financial"])
            self.plan.events.append((judy.mfa_at + 6 * MINUTE, trail_searched(
                "judy", judy.mfa_at + 6 * MINUTE, query)))
        if weekday == 2 and n % 2 == 0:
            self._sign_in("nina", day + 9 * HOUR + r.uniform(0, HOUR))
            self._sign_in("oscar", day + 9 * HOUR + r.uniform(HOUR, 2 * HOUR))
        if n in (8, 41):
            peggy = self._sign_in("peggy", day + 11 * HOUR)
            at = peggy.mfa_at + 4 * MINUTE
            self.plan.events.append((at, trail_searched("peggy", at, r.choice(
                ["customer=C-1003", "customer=C-1007"]))))

    # -- once in the window ----------------------------------------------------------------

    def _governance(self) -> None:
        for customer, granted, at, source in (
                ("C-1005", True, self.consent_given, "newsletter sign-up form"),
                ("C-1006", False, self.consent_withdrawn, "unsubscribe link")):
            self.plan.consents.append(ConsentChange(customer, "marketing", granted, at, source,
                                                    APPLICATION, None, at))
            self.plan.events.append((at, consent_changed(customer, granted, at, source)))
        cover_from = self.alice_away[0] + 8 * HOUR
        self._grant("bob", "customer-care", cover_from - 30 * MINUTE, cover_from,
                    cover_from + 5 * DAY - 8 * HOUR, "covers customer care while alice is away")
        today = self.days[-1]
        self._grant("carol", "billing", today - 2 * DAY + 9 * HOUR, today - 2 * DAY + 9 * HOUR,
                    today + 4 * DAY, "INC-4471: chargeback investigation needs invoices")

    def _grant(self, uid: str, role: str, at: float, starts: float, ends: float,
               reason: str) -> None:
        grant = TemporaryGrant(id=ulid(at, self.rng.getrandbits(80)), uid=uid, role=role,
                               starts_at=starts, expires_at=ends, reason=reason,
                               granted_by="ivan")
        self.plan.grants.append(grant)
        self.plan.events.append((at, grant_created(grant, at)))
        if role == "billing" and uid == "carol":
            session = self._sign_in("carol", starts + 20 * MINUTE)
            for k in range(3):
                self._ask(session, starts + (40 + 25 * k) * MINUTE, request(
                    "carol", Action.READ, "economic-financial", "billing",
                    (self.rng.choice(CUSTOMERS),)))


def request(subject: str, action: Action, category: str, purpose: str,
            customers: tuple[str, ...], *, justification: str | None = None) -> DecisionRequest:
    return DecisionRequest(subject_id=subject, action=action, database="crm", category=category,
                           purpose=purpose, customer_ids=customers, justification=justification,
                           client_ip=IPS.get(subject), application=APPLICATION)


def sign_in(uid: str, at: float, sid: str) -> dict[str, Any]:
    return session_event(AuditAction.SESSION_CREATED, uid, at, session_id=sid, amr=["pwd", "otp"])


def step_up(uid: str, at: float, sid: str) -> dict[str, Any]:
    return session_event(AuditAction.SESSION_STEPPED_UP, uid, at, session_id=sid)


def failed(uid: str, at: float, reason: str) -> dict[str, Any]:
    return session_event(AuditAction.SESSION_FAILED, uid, at, reason=reason)


def grant_created(grant: TemporaryGrant, at: float) -> dict[str, Any]:
    return governance_event(
        AuditAction.GRANT_CREATED, grant.granted_by, at, grant_id=grant.id, grantee=grant.uid,
        role=grant.role, starts_at=grant.starts_at, expires_at=grant.expires_at,
        justification=grant.reason)


def consent_changed(customer: str, granted: bool, at: float, source: str) -> dict[str, Any]:
    return consent_event(APPLICATION, APPLICATION, None, at, customer_id=customer,
                         purpose="marketing", granted=granted, source=source, given_at=at)


def trail_searched(uid: str, at: float, query: str) -> dict[str, Any]:
    return trail_access_event(AuditAction.TRAIL_SEARCHED, uid, at, query)


_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def ulid(at: float, entropy: int) -> str:
    """A ULID for ``at`` with the given 80 bits of entropy (deterministic, unlike new_ulid)."""
    value = ((int(at * 1000) & ((1 << 48) - 1)) << 80) | (entropy & ((1 << 80) - 1))
    return "".join(_CROCKFORD[(value >> shift) & 31] for shift in range(125, -1, -5))
