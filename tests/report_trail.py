"""A small hand-built month of audit trail (November 2026) whose report figures are known.

Used by the AuditIndex contract (the same aggregations on SQLite and OpenSearch) and by the
periodic report's unit tests. Counted by hand, for the period 2026-11-01 to 2026-12-01:

- 9 access decisions: 6 permits, 3 denies; one more permit on 2026-12-02 (outside);
- reasons: permitted 6, not_authorised 1, consent_missing 1, contract_clause_missing 1,
  mfa_required 1 (grace's deny carries two);
- applications: crm-web 7, billing-app 1, legal-app 1;
- one export (bob, permitted), one legal requisition (erin, justification REQ-2026-001);
- sign-ins: 1 created (amr pwd+otp), 2 failed (invalid_credentials, account_locked),
  1 step-up; 1 grant (carol, legal-officer); 1 API key created; 1 customer report produced;
- 16 events in the period, seq 1 to 16.

``CONTEXT`` is the directory and policy the report reads beside it (the demo organisation).
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Any

from audit_support import decision
from guardian.identity.principal import Principal
from guardian.identity.vocabulary import EmployeeType
from guardian.reports.periodic import Integrity, ReportContext

FROM, TO = "2026-11-01T00:00:00Z", "2026-12-01T00:00:00Z"

C = EmployeeType.CONTRACTOR
PEOPLE = (
    Principal("alice", "Alice", frozenset({"customer-care"})),
    Principal("bob", "Bob", frozenset({"billing"})),
    Principal("carol", "Carol", frozenset({"fraud-analyst"})),
    Principal("dave", "Dave", frozenset({"marketing"})),
    Principal("erin", "Erin", frozenset({"legal-officer"})),
    Principal("frank", "Frank", frozenset({"customer-care"}), C, supplier="Acme",
              contract_clause=True),
    Principal("grace", "Grace", frozenset({"customer-care"}), C, supplier="QuickCall"),
    Principal("heidi", "Heidi", frozenset({"customer-care"}), active=False),
    Principal("judy", "Judy", frozenset({"auditor"})),
)
CONTEXT = ReportContext(
    people=PEOPLE,
    data_roles=frozenset({"customer-care", "billing", "fraud-analyst", "marketing",
                          "legal-officer"}),
    high_categories=frozenset({"economic-financial", "location"}),
    justified_purposes=("legal-requisition", "data-subject-request", "break-glass"),
    consent_purposes=("marketing",), policy_version="sha256:test",
    verify=lambda: Integrity(True, 17, 0))


def _decision(n: int, user: str, at: str, *, outcome: str = "permit", category: str = "contact",
              purpose: str = "customer-care", reasons: list[str] | None = None,
              app: str = "crm-web", roles: list[str] | None = None, customer: str = "C-1001",
              **extra: Any) -> dict[str, Any]:
    event = decision(n, customer=customer, user=user, at=at)
    event["user"]["roles"] = roles or ["customer-care"]
    event["service"] = {"name": app}
    event["event"]["outcome"] = "success" if outcome == "permit" else "failure"
    event["guardian"].update(decision=outcome, category=category, purpose=purpose,
                             reasons=reasons or ["permitted"], **extra)
    return event


def _other(action: str, user: str | None, at: str, category: str = "iam",
           **guardian: Any) -> dict[str, Any]:
    event: dict[str, Any] = {
        "@timestamp": at,
        "event": {"kind": "event", "category": [category], "action": action,
                  "outcome": "failure" if action == "session.failed" else "success"},
        "guardian": guardian,
    }
    if user is not None:
        event["user"] = {"id": user}
    return event


def trail() -> list[dict[str, Any]]:
    """The events in sequence order (seq 1..17)."""
    return [
        _other("session.created", "alice", "2026-11-02T08:59:00.000Z", "authentication",
               session_id="S1", amr=["pwd", "otp"]),
        _decision(1, "alice", "2026-11-02T09:00:00.000Z"),
        _decision(2, "alice", "2026-11-02T10:00:00.000Z", category="identification",
                  customer="C-1002"),
        _other("session.stepped_up", "alice", "2026-11-03T08:00:00.000Z", "authentication",
               session_id="S1"),
        _decision(3, "alice", "2026-11-03T09:00:00.000Z", outcome="deny",
                  category="economic-financial", reasons=["not_authorised"]),
        _decision(4, "bob", "2026-11-03T12:00:00.000Z", category="economic-financial",
                  purpose="billing", app="billing-app", roles=["billing"], action="export",
                  customer="C-1003"),
        _decision(5, "dave", "2026-11-04T09:00:00.000Z", outcome="deny", purpose="marketing",
                  reasons=["consent_missing"], roles=["marketing"], customer="C-1007"),
        _decision(6, "dave", "2026-11-04T10:00:00.000Z", purpose="marketing",
                  roles=["marketing"]),
        _decision(7, "erin", "2026-11-05T09:00:00.000Z", category="location",
                  purpose="legal-requisition", app="legal-app", roles=["legal-officer"],
                  justification="REQ-2026-001"),
        _decision(8, "frank", "2026-11-05T10:00:00.000Z"),
        _decision(9, "grace", "2026-11-05T11:00:00.000Z", outcome="deny",
                  reasons=["contract_clause_missing", "mfa_required"]),
        _other("session.failed", "mallory", "2026-11-06T09:00:00.000Z", "authentication",
               reason="invalid_credentials"),
        _other("session.failed", "mallory", "2026-11-06T09:01:00.000Z", "authentication",
               reason="account_locked"),
        _other("governance.grant_created", "ivan", "2026-11-07T09:00:00.000Z",
               grant_id="G1", grantee="carol", role="legal-officer",
               starts_at=1_794_042_000.0, expires_at=1_794_128_400.0,
               justification="covering for erin"),
        _other("governance.api_key_created", "ivan", "2026-11-08T09:00:00.000Z",
               key_id="K1", application="crm-web"),
        _other("audit.customer_report_produced", "peggy", "2026-11-09T09:00:00.000Z",
               query="customer=C-1001"),
        _decision(10, "alice", "2026-12-02T09:00:00.000Z"),
    ]


ROLES = ("customer-care", "billing", "fraud-analyst", "marketing", "legal-officer")
_PURPOSE = {"customer-care": "customer-care", "billing": "billing",
            "fraud-analyst": "fraud-prevention", "marketing": "marketing",
            "legal-officer": "legal-requisition"}
_CATEGORIES = ("contact", "identification", "products-services", "economic-financial",
               "location", "connection-usage")
_DENIES = (["not_authorised"], ["purpose_not_allowed"], ["consent_missing"], ["mfa_stale"],
           ["contract_clause_missing", "mfa_required"])


def generated(count: int, *, start: float, span_s: float, users: int = 500, seed: int = 7
              ) -> Iterator[dict[str, Any]]:
    """``count`` plausible events over ``[start, start + span_s)``, for comparing indexes and
    for benchmarks: mostly decisions (about a quarter denied), sign-ins, failures, step-ups,
    grants, keys and trail searches; users ``u0``… hold ``ROLES[i % 5]``."""
    from guardian.audit.events import timestamp

    rng = random.Random(seed)
    for i in range(count):
        at = timestamp(start + span_s * i / count)
        uid = rng.randrange(users) if rng.random() < 0.7 else rng.randrange(max(1, users // 20))
        user, role = f"u{uid}", ROLES[uid % len(ROLES)]
        roll = rng.random()
        if roll < 0.90:
            deny = rng.random() < 0.25
            purpose = _PURPOSE[role]
            extra: dict[str, Any] = {"justification": f"REQ-{i}"} if purpose == \
                "legal-requisition" else {}
            event = _decision(i, user, at, outcome="deny" if deny else "permit",
                              category=rng.choice(_CATEGORIES), purpose=purpose,
                              reasons=rng.choice(_DENIES) if deny else None,
                              app=rng.choice(("crm-web", "billing-app", "fraud-tool")),
                              roles=[role], customer=f"C-{rng.randrange(100_000)}",
                              action="export" if rng.random() < 0.05 else "read", **extra)
            event["guardian"]["policy_version"] = "sha256:v1" if i < count // 2 else \
                "sha256:v2"
        elif roll < 0.95:
            event = _other("session.created", user, at, "authentication", session_id=f"S{i}",
                           amr=["pwd", rng.choice(("otp", "webauthn"))])
        elif roll < 0.98:
            event = _other("session.failed", user, at, "authentication",
                           reason=rng.choice(("invalid_credentials", "account_locked")))
        elif roll < 0.99:
            event = _other("session.stepped_up", user, at, "authentication", session_id="S")
        elif roll < 0.995:
            event = _other("governance.grant_created", "ivan", at, grant_id=f"G{i}",
                           grantee=user, role=rng.choice(ROLES), starts_at=0.0,
                           expires_at=1.0, justification="cover")
        elif roll < 0.997:
            event = _other("governance.api_key_created", "ivan", at, key_id=f"K{i}",
                           application="crm-web")
        else:
            event = _other("audit.trail_searched", "judy", at, query=f"customer=C-{i}")
        yield event


def generated_people(users: int = 500) -> tuple[Principal, ...]:
    """The directory behind :func:`generated`: every fifth person a contractor."""
    return tuple(
        Principal(f"u{i}", f"User {i}", frozenset({ROLES[i % len(ROLES)]}),
                  EmployeeType.CONTRACTOR if i % 5 == 4 else EmployeeType.EMPLOYEE,
                  supplier=("Acme" if i % 2 else "QuickCall") if i % 5 == 4 else None,
                  contract_clause=i % 2 == 1)
        for i in range(users + 20))
