"""Request dependencies: the wired Guardian, the calling application, the signed-in person,
and ``require_roles(...)``, the gate of administrative endpoints (directory roles and a fresh
second factor, see :mod:`guardian.identity.authorisation`).

They are ``async`` on purpose: FastAPI runs plain functions in a worker thread, a hop that
cost more than the whole decision on the hot path. None of them does I/O.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Header, Request

from guardian.bootstrap import Guardian
from guardian.errors import InvalidApiKey, InvalidToken
from guardian.identity.authorisation import Caller, authorise
from guardian.identity.tokens import SessionClaims
from guardian.policy.vocabulary import AdminRole


async def get_guardian(request: Request) -> Guardian:
    guardian: Guardian = request.app.state.guardian
    return guardian


GuardianDep = Annotated[Guardian, Depends(get_guardian)]


def check_api_key(guardian: Guardian, api_key: str | None) -> str:
    """The application holding ``api_key``; :class:`InvalidApiKey` (401) otherwise."""
    if not api_key:
        raise InvalidApiKey("missing X-API-Key header")
    app = guardian.applications.application_for(api_key)
    if app is None:
        raise InvalidApiKey("unknown API key")
    return app


def application_of(request: Request) -> tuple[Guardian, str]:
    """For hot endpoints that avoid dependency resolution: the Guardian and the caller."""
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


def require_roles(*roles: str) -> Callable[..., Awaitable[Caller]]:
    """A dependency admitting a bearer session whose subject holds one of ``roles`` in the
    directory, with a second factor at most ``admin_mfa_max_age_s`` old; else 401/403."""
    wanted = frozenset(roles)

    async def caller_with_role(guardian: GuardianDep, session: SessionDep) -> Caller:
        _token, claims = session
        return authorise(guardian.directory.get(claims.sub), claims, wanted,
                         guardian.clock.now(), guardian.settings.admin_mfa_max_age_s)

    return caller_with_role


SecurityOfficerDep = Annotated[Caller, Depends(require_roles(AdminRole.SECURITY_OFFICER))]
AuditorDep = Annotated[Caller, Depends(require_roles(AdminRole.AUDITOR, AdminRole.DPO))]
ReviewerDep = Annotated[Caller, Depends(require_roles(AdminRole.REVIEWER))]
