"""Request dependencies: the wired Guardian, the calling application (its key holding the
endpoint's scope: ``decide`` or ``consent``), the signed-in person, and ``require_roles(...)``,
the gate of administrative endpoints (directory roles and a fresh second factor, see
:mod:`guardian.identity.authorisation`).

They are ``async`` on purpose: FastAPI runs plain functions in a worker thread, a hop that
cost more than the whole decision on the hot path. None of them does I/O.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Header, Request

from guardian.bootstrap import Guardian
from guardian.errors import InvalidApiKey, InvalidToken, ScopeRequired
from guardian.governance.model import KeyHolder, Scope
from guardian.identity.authorisation import Caller, authorise
from guardian.identity.tokens import SessionClaims
from guardian.policy.vocabulary import AdminRole


async def get_guardian(request: Request) -> Guardian:
    guardian: Guardian = request.app.state.guardian
    return guardian


GuardianDep = Annotated[Guardian, Depends(get_guardian)]


def key_holder(guardian: Guardian, api_key: str | None, scope: Scope,
               digest: str | None = None) -> KeyHolder:
    """Who holds ``api_key`` if it opens ``scope``: :class:`InvalidApiKey` (401) for a missing
    or unknown key, :class:`ScopeRequired` (403) for a key without the scope. From memory.
    ``digest``: the key's digest, when the caller needs it too (computed once)."""
    if not api_key:
        raise InvalidApiKey("missing X-API-Key header")
    holder = (guardian.applications.holder_of(api_key) if digest is None
              else guardian.applications.holder_by_digest(digest))
    if holder is None:
        raise InvalidApiKey("unknown API key")
    if scope not in holder.scopes:
        raise ScopeRequired(f"this API key does not hold the {scope.value!r} scope")
    return holder


def check_api_key(guardian: Guardian, api_key: str | None,
                  scope: Scope = Scope.DECIDE) -> str:
    """The application holding ``api_key`` with ``scope``; 401 or 403 otherwise."""
    return key_holder(guardian, api_key, scope).application


def application_of(request: Request) -> tuple[Guardian, str]:
    """For hot endpoints that avoid dependency resolution: the Guardian and the caller, whose
    key must hold the ``decide`` scope."""
    guardian: Guardian = request.app.state.guardian
    return guardian, check_api_key(guardian, request.headers.get("x-api-key"))


async def require_application(
    guardian: GuardianDep,
    x_api_key: Annotated[str | None, Header(alias="X-API-Key")] = None,
) -> str:
    return check_api_key(guardian, x_api_key)


async def require_session(
    guardian: GuardianDep,
    authorization: Annotated[str | None, Header()] = None,
) -> tuple[str, SessionClaims]:
    """The bearer token and its verified claims."""
    if not authorization or not authorization.startswith("Bearer "):
        raise InvalidToken("missing `Authorization: Bearer <session token>` header")
    token = authorization.removeprefix("Bearer ").strip()
    return token, guardian.sessions.verify(token)


ApplicationDep = Annotated[str, Depends(require_application)]
SessionDep = Annotated[tuple[str, SessionClaims], Depends(require_session)]


OFFICER_ROLES = frozenset({AdminRole.SECURITY_OFFICER})
"""Grants, keys, invitations: security officers."""
TRAIL_ROLES = frozenset({AdminRole.AUDITOR, AdminRole.DPO})
"""Searching the trail and customers' access reports: auditors and the DPO."""
REPORT_ROLES = frozenset({AdminRole.SECURITY_OFFICER, AdminRole.AUDITOR, AdminRole.DPO})
"""Periodic reports and operational details: officers, auditors and the DPO."""
REVIEWER_ROLES = frozenset({AdminRole.REVIEWER})


def caller_of(guardian: Guardian, claims: SessionClaims, roles: frozenset[str]) -> Caller:
    """The gate shared by the API and the console: the session's subject holds one of
    ``roles`` in the directory, with a second factor at most ``admin_mfa_max_age_s`` old;
    else :class:`~guardian.errors.FreshMfaRequired` or :class:`~guardian.errors.RoleRequired`."""
    return authorise(guardian.directory.get(claims.sub), claims, roles,
                     guardian.clock.now(), guardian.settings.identity.admin_mfa_max_age_s)


def require_roles(*roles: str) -> Callable[..., Awaitable[Caller]]:
    """A dependency admitting a bearer session that passes :func:`caller_of` for ``roles``."""
    wanted = frozenset(roles)

    async def caller_with_role(guardian: GuardianDep, session: SessionDep) -> Caller:
        _token, claims = session
        return caller_of(guardian, claims, wanted)

    return caller_with_role


SecurityOfficerDep = Annotated[Caller, Depends(require_roles(*OFFICER_ROLES))]
AuditorDep = Annotated[Caller, Depends(require_roles(*TRAIL_ROLES))]
ReviewerDep = Annotated[Caller, Depends(require_roles(*REVIEWER_ROLES))]
