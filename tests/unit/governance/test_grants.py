"""The grant service around its ports (in-memory fakes): which roles can be granted (rules of
their own or inherited, never an administrative role), the start-time skew, and revocation
journalled before it is stored."""

from __future__ import annotations

import dataclasses

import pytest

from guardian.adapters.files.policy import load_policy
from guardian.adapters.memory.ports import MemoryDirectory, MemoryJournal
from guardian.clock import ManualClock
from guardian.errors import (
    AuditUnavailable,
    GrantAlreadyRevoked,
    GrantNotFound,
    InvalidRequest,
    RoleNotGrantable,
    StartsInPast,
)
from guardian.governance.grants import START_SKEW_S, GrantRequest, GrantService, grantable_roles
from guardian.governance.model import TemporaryGrant
from guardian.identity.principal import Principal
from guardian.policy.definition import Inheritance, PolicyDefinition, Rule
from support import ROOT

NOW = 1_790_000_000.0


class FakeGrants:
    """A ``GrantRegistry`` in a dict."""

    def __init__(self) -> None:
        self.grants: dict[str, TemporaryGrant] = {}

    def add_grant(self, grant: TemporaryGrant) -> None:
        self.grants[grant.id] = grant

    def active_grants(self) -> list[TemporaryGrant]:
        return [g for g in self.grants.values() if not g.revoked]

    def list_grants(self, uid: str | None = None) -> list[TemporaryGrant]:
        return [g for g in self.grants.values() if uid is None or g.uid == uid]

    def get_grant(self, grant_id: str) -> TemporaryGrant | None:
        return self.grants.get(grant_id)

    def revoke_grant(self, grant_id: str, at: float, by: str, reason: str
                     ) -> TemporaryGrant | None:
        grant = self.grants.get(grant_id)
        if grant is None or grant.revoked:
            return None
        self.grants[grant_id] = dataclasses.replace(
            grant, revoked_at=at, revoked_by=by, revoke_reason=reason)
        return self.grants[grant_id]


def _policy(rules: list[Rule], inheritance: list[Inheritance], roles: set[str]
            ) -> PolicyDefinition:
    return PolicyDefinition(databases={"crm": {"contact": "medium"}}, sensitivities={},
                            purposes={}, roles=frozenset(roles), rules=tuple(rules),
                            inheritance=tuple(inheritance))


def _service(policy: PolicyDefinition | None = None
             ) -> tuple[GrantService, FakeGrants, MemoryJournal]:
    definition = policy or load_policy(ROOT / "policies")
    registry, journal = FakeGrants(), MemoryJournal()
    directory = MemoryDirectory([Principal("bob", "Bob", frozenset())])
    service = GrantService(registry, directory, lambda: definition, journal, ManualClock(NOW),
                           max_duration_s=86400)
    return service, registry, journal


def test_the_demo_policy_grants_its_data_roles_and_none_of_its_admin_roles() -> None:
    assert grantable_roles(load_policy(ROOT / "policies")) == {
        "customer-care", "billing", "fraud-analyst", "marketing", "legal-officer"}


def test_a_role_inheriting_rules_is_grantable_a_role_without_any_is_not() -> None:
    policy = _policy(
        rules=[Rule("base", "crm", "contact", "read", "customer-care")],
        inheritance=[Inheritance("senior", "base"), Inheritance("lead", "senior"),
                     Inheritance("loop-a", "loop-b"), Inheritance("loop-b", "loop-a")],
        roles={"base", "senior", "lead", "empty", "loop-a", "loop-b"})

    assert grantable_roles(policy) == {"base", "senior", "lead"}


def test_an_admin_role_is_not_grantable_even_if_the_policy_gives_it_rules() -> None:
    policy = _policy(rules=[Rule("auditor", "crm", "contact", "read", "customer-care")],
                     inheritance=[], roles={"auditor"})

    assert grantable_roles(policy) == frozenset()
    service, registry, _ = _service(policy)
    with pytest.raises(RoleNotGrantable):
        service.grant("ivan", GrantRequest("bob", "auditor", NOW + 3600, "INC-1"))
    assert registry.grants == {}


def test_a_start_just_inside_the_skew_is_kept_just_outside_is_refused() -> None:
    service, registry, _ = _service()

    kept = service.grant("ivan", GrantRequest("bob", "billing", NOW + 3600, "INC-1",
                                              starts_at=NOW - START_SKEW_S))
    with pytest.raises(StartsInPast):
        service.grant("ivan", GrantRequest("bob", "billing", NOW + 3600, "INC-1",
                                           starts_at=NOW - START_SKEW_S - 1))

    assert list(registry.grants) == [kept.id]
    assert kept.starts_at == NOW - START_SKEW_S


def test_a_revocation_that_cannot_be_journalled_leaves_the_grant_in_force() -> None:
    service, registry, journal = _service()
    grant = service.grant("ivan", GrantRequest("bob", "billing", NOW + 3600, "INC-1"))
    journal.fail = True

    with pytest.raises(AuditUnavailable):
        service.revoke("ivan", grant.id, "no longer needed")

    assert not registry.grants[grant.id].revoked


def test_a_revocation_is_journalled_then_stored() -> None:
    service, registry, journal = _service()
    grant = service.grant("ivan", GrantRequest("bob", "billing", NOW + 3600, "INC-1"))

    revoked = service.revoke("peggy", grant.id, "no longer needed")

    assert (revoked.revoked_at, revoked.revoked_by, revoked.revoke_reason) == (
        NOW, "peggy", "no longer needed")
    assert registry.grants[grant.id] == revoked
    last = journal.events[-1]
    assert (last["event"]["action"], last["user"]["id"], last["guardian"]["reason"]) == (
        "governance.grant_revoked", "peggy", "no longer needed")
    with pytest.raises(GrantAlreadyRevoked):
        service.revoke("peggy", grant.id, "again")
    with pytest.raises(GrantNotFound):
        service.revoke("peggy", "01NOPE", "why")
    assert len([e for e in journal.events
                if e["event"]["action"] == "governance.grant_revoked"]) == 1


@pytest.mark.parametrize("text", ["   ", "x" * 1025])
def test_a_blank_or_overlong_justification_or_reason_is_refused_before_anything_is_kept(
    text: str,
) -> None:
    service, registry, journal = _service()
    grant = service.grant("ivan", GrantRequest("bob", "billing", NOW + 3600, "INC-1"))

    with pytest.raises(InvalidRequest):
        service.grant("ivan", GrantRequest("bob", "billing", NOW + 3600, text))
    with pytest.raises(InvalidRequest):
        service.revoke("ivan", grant.id, text)

    assert list(registry.grants) == [grant.id] and not registry.grants[grant.id].revoked
    assert [e["event"]["action"] for e in journal.events] == [
        "governance.grant_created", "governance.grant_refused"]
