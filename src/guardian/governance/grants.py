"""Temporary grants: a security officer lends a role of the policy to someone, for a while.

Refused, each with its own error: a grant to oneself (nobody grants themself access), a role
the policy does not know, a role that gives no data access (no permission rule of its own or
inherited, or an administrative role such as security-officer: those come from the directory
only), a person the directory does not know, a start more than :data:`START_SKEW_S` in the
past (a grant cannot be backdated into the trail), an end not after the start or already past,
and an expiry further from now than the configured maximum. Every grant, and every refusal of
an officer's request, is an audit event; the event is journalled before the grant is stored,
so no grant exists without its record.

A grant is ended early by revoking it, with a reason: journalled first, then stored, then taken
out of this process's :class:`~guardian.governance.views.GrantView` (it counts in no decision
here from the return on) and published on the change feed (other workers and replicas re-read
it within a second). A new grant goes the same way.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from guardian.audit.events import AuditAction, governance_event
from guardian.changes import ChangeKind, LocalChanges
from guardian.errors import (
    GrantAlreadyRevoked,
    GrantNotFound,
    GrantTooLong,
    GuardianError,
    InvalidRequest,
    RoleNotGrantable,
    SelfGrantForbidden,
    StartsInPast,
    UnknownRole,
    UnknownUser,
)
from guardian.governance.model import TemporaryGrant
from guardian.governance.views import GrantView
from guardian.ids import new_ulid
from guardian.policy.definition import PolicyDefinition
from guardian.policy.vocabulary import AdminRole
from guardian.ports import AuditJournal, ChangeFeed, Clock, Directory, GrantRegistry

MAX_TEXT = 1024
"""Longest justification or revocation reason kept (the store's column)."""
START_SKEW_S = 60.0
"""How far in the past a grant may start: clocks of the officer's machine and the server's
differ a little; more than that would backdate access."""


@dataclass(frozen=True, slots=True)
class GrantRequest:
    uid: str
    role: str
    expires_at: float
    justification: str
    starts_at: float | None = None
    """``None``: now."""


def grantable_roles(policy: PolicyDefinition) -> frozenset[str]:
    """Roles of ``policy`` that give data access: a permission rule of their own or of a role
    they inherit from (``g, role, parent``), administrative roles excepted."""
    parents: dict[str, list[str]] = {}
    for inh in policy.inheritance:
        parents.setdefault(inh.role, []).append(inh.parent)
    with_rules = {rule.role for rule in policy.rules}
    admin = {role.value for role in AdminRole}

    def gives_access(role: str, seen: frozenset[str]) -> bool:
        return role in with_rules or any(
            gives_access(parent, seen | {parent})
            for parent in parents.get(role, ()) if parent not in seen)

    return frozenset(r for r in policy.roles
                     if r not in admin and gives_access(r, frozenset({r})))


class GrantService:
    def __init__(
        self,
        registry: GrantRegistry,
        directory: Directory,
        policy: Callable[[], PolicyDefinition],
        journal: AuditJournal,
        clock: Clock,
        *,
        max_duration_s: float,
        view: GrantView | None = None,
        changes: ChangeFeed | None = None,
    ) -> None:
        """``policy``: the policy in force (it may be swapped while serving); ``view``: the
        grants decisions read here; ``changes``: where other processes hear of a change."""
        self._registry = registry
        self.view = view if view is not None else GrantView()
        self._changes: ChangeFeed = changes if changes is not None else LocalChanges()
        self._directory = directory
        self._policy = policy
        self._journal = journal
        self._clock = clock
        self._max_s = max_duration_s

    def grant(self, officer: str, request: GrantRequest) -> TemporaryGrant:
        now = self._clock.now()
        starts_at = now if request.starts_at is None else request.starts_at
        try:
            self._check(officer, request, starts_at, now)
        except GuardianError as exc:
            self._journal.append(governance_event(
                AuditAction.GRANT_REFUSED, officer, now, success=False, reason=exc.code,
                grantee=request.uid, role=request.role))
            raise
        grant = TemporaryGrant(
            id=new_ulid(now), uid=request.uid, role=request.role, starts_at=starts_at,
            expires_at=request.expires_at, reason=request.justification, granted_by=officer)
        self._journal.append(governance_event(
            AuditAction.GRANT_CREATED, officer, now, grant_id=grant.id, grantee=grant.uid,
            role=grant.role, starts_at=grant.starts_at, expires_at=grant.expires_at,
            justification=grant.reason))
        self._registry.add_grant(grant)
        self.view.add(grant)
        self._changes.publish(ChangeKind.GRANT, grant.id)
        return grant

    def list(self, uid: str | None = None) -> list[TemporaryGrant]:
        return self._registry.list_grants(uid)

    def revoke(self, officer: str, grant_id: str, reason: str) -> TemporaryGrant:
        """End a grant now: :class:`GrantNotFound` (404), :class:`GrantAlreadyRevoked` (409),
        :class:`InvalidRequest` for a blank reason."""
        now = self._clock.now()
        _check_text(reason, "say why the grant is revoked: a reason")
        grant = self._registry.get_grant(grant_id)
        if grant is None:
            raise GrantNotFound(f"no grant {grant_id!r}")
        if grant.revoked:
            raise GrantAlreadyRevoked(f"grant {grant_id} was already revoked")
        self._journal.append(governance_event(
            AuditAction.GRANT_REVOKED, officer, now, grant_id=grant.id, grantee=grant.uid,
            role=grant.role, reason=reason))
        revoked = self._registry.revoke_grant(grant_id, now, officer, reason)
        self.view.remove(grant_id)
        if revoked is None:  # revoked by someone else between the check and now
            raise GrantAlreadyRevoked(f"grant {grant_id} was already revoked")
        self._changes.publish(ChangeKind.GRANT, grant_id)
        return revoked

    def _check(self, officer: str, request: GrantRequest, starts_at: float, now: float) -> None:
        if request.uid == officer:
            raise SelfGrantForbidden("nobody can grant themself access: ask another officer")
        _check_text(request.justification, "say why the grant is needed: a justification")
        policy = self._policy()
        if request.role not in policy.roles:
            raise UnknownRole(f"role {request.role!r} is not in the policy")
        if request.role not in grantable_roles(policy):
            raise RoleNotGrantable(
                f"role {request.role!r} gives no access to data: only roles with permission "
                "rules can be granted (administrative roles come from the directory)")
        if self._directory.get(request.uid) is None:
            raise UnknownUser(f"user {request.uid!r} is not in the directory")
        if starts_at < now - START_SKEW_S:
            raise StartsInPast(
                f"a grant may start at most {int(START_SKEW_S)} s in the past; start it now")
        if request.expires_at <= max(starts_at, now):
            raise InvalidRequest("a grant must end after it starts, and in the future")
        if request.expires_at - now > self._max_s:
            raise GrantTooLong(
                f"a grant may last at most {int(self._max_s)} s from now; ask for less")


def _check_text(text: str, what: str) -> None:
    if not text.strip() or len(text) > MAX_TEXT:
        raise InvalidRequest(f"{what} of 1 to {MAX_TEXT} characters is required")
