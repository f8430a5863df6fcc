"""Temporary grants: a security officer lends a role of the policy to someone, for a while.

Refused, each with its own error: a grant to oneself (nobody grants themself access), a role
the policy does not know, a person the directory does not know, an end not after the start or
already past, and an expiry further from now than the configured maximum. Every grant, and
every refusal of an officer's request, is an audit event; the event is journalled before the
grant is stored, so no grant exists without its record.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from guardian.audit.events import AuditAction, governance_event
from guardian.errors import (
    GrantTooLong,
    GuardianError,
    InvalidRequest,
    SelfGrantForbidden,
    UnknownRole,
    UnknownUser,
)
from guardian.governance.model import TemporaryGrant
from guardian.ids import new_ulid
from guardian.ports import AuditJournal, Clock, Directory, GrantRegistry


@dataclass(frozen=True, slots=True)
class GrantRequest:
    uid: str
    role: str
    expires_at: float
    justification: str
    starts_at: float | None = None
    """``None``: now."""


class GrantService:
    def __init__(
        self,
        registry: GrantRegistry,
        directory: Directory,
        policy_roles: Callable[[], frozenset[str]],
        journal: AuditJournal,
        clock: Clock,
        *,
        max_duration_s: float,
    ) -> None:
        self._registry = registry
        self._directory = directory
        self._policy_roles = policy_roles
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
        return grant

    def list(self, uid: str | None = None) -> list[TemporaryGrant]:
        return self._registry.list_grants(uid)

    def _check(self, officer: str, request: GrantRequest, starts_at: float, now: float) -> None:
        if request.uid == officer:
            raise SelfGrantForbidden("nobody can grant themself access: ask another officer")
        if request.role not in self._policy_roles():
            raise UnknownRole(f"role {request.role!r} is not in the policy")
        if self._directory.get(request.uid) is None:
            raise UnknownUser(f"user {request.uid!r} is not in the directory")
        if request.expires_at <= max(starts_at, now):
            raise InvalidRequest("a grant must end after it starts, and in the future")
        if request.expires_at - now > self._max_s:
            raise GrantTooLong(
                f"a grant may last at most {int(self._max_s)} s from now; ask for less")
