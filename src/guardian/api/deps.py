"""Request dependencies: the wired Guardian, the calling application, the signed-in person.

They are ``async`` on purpose: FastAPI runs plain functions in a worker thread, a hop that
cost more than the whole decision on the hot path. None of them does I/O.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, Request

from guardian.bootstrap import Guardian
from guardian.errors import InvalidApiKey, InvalidToken
from guardian.identity.tokens import SessionClaims


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
