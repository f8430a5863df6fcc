"""Security keys (WebAuthn): registering one, and signing in with password and key.

``POST /v1/mfa/webauthn/register/options`` then ``/register`` (bearer session, same rule as a
TOTP enrolment: the invitation's password-only session while the person has no second
factor, else a fresh one); ``POST /v1/sessions/webauthn/options`` (the user id: options of the
same shape for everyone, decoys for people without a key, so they tell nothing) then
``/v1/sessions/webauthn`` (password and the key's assertion, checked together) answers a session
with ``amr`` ``["pwd", "hwk"]``; ``POST /v1/sessions/step-up/webauthn/options`` then
``/v1/sessions/step-up/webauthn`` (bearer session) step up with a key instead of a TOTP code.
Challenges are kept server-side and serve once.
"""

from __future__ import annotations

from typing import Annotated, Any

import anyio.to_thread
from fastapi import APIRouter, Request
from pydantic import Field
from starlette.responses import JSONResponse

from guardian.api.deps import GuardianDep, SessionDep
from guardian.api.schemas import Identifier, StrictBody
from guardian.api.sessions import (
    client_source,
    counted_sign_in,
    counted_step_up,
    render_session,
    wait_for_throttle,
)
from guardian.bootstrap import Guardian
from guardian.errors import AuthenticationError
from guardian.identity.sessions import IssuedSession

router = APIRouter(prefix="/v1", tags=["multi-factor authentication"])
Credential = Annotated[dict[str, Any], Field(max_length=16)]
"""A ``PublicKeyCredential`` as JSON (``id``, ``rawId``, ``response``, ``type``…)."""


class RegisterBody(StrictBody):
    credential: Credential


Password = Annotated[str, Field(min_length=1, max_length=1024)]


class KeyOptionsBody(StrictBody):
    user: Identifier
    password: Password | None = None
    """Accepted for older clients and ignored: it is checked with the assertion."""


class KeySignInBody(StrictBody):
    user: Identifier
    password: Password
    credential: Credential


def step_up_with_key(guardian: Guardian, token: str, credential: dict[str, Any],
                     source: str) -> IssuedSession:
    """Step up with a security key's answer, counted and logged like a TOTP step-up."""
    user = guardian.sessions.verify(token).sub
    try:
        issued = guardian.sign_in.step_up_webauthn(token, credential, source=source)
    except AuthenticationError as exc:
        counted_step_up(guardian, user, exc.code)
        raise
    counted_step_up(guardian, user)
    return issued


def _sign_in(guardian: Guardian, body: KeySignInBody, source: str) -> IssuedSession:
    try:
        issued = guardian.sign_in.sign_in_webauthn(body.user, body.password, body.credential,
                                                   source=source)
    except AuthenticationError as exc:
        counted_sign_in(guardian, "webauthn", None, exc.code)
        raise
    counted_sign_in(guardian, "webauthn", issued)
    return issued


@router.post("/mfa/webauthn/register/options", summary="Options to register a security key")
async def registration_options(guardian: GuardianDep, session: SessionDep) -> JSONResponse:
    _token, claims = session
    options = await anyio.to_thread.run_sync(guardian.mfa.enrolment.webauthn_options, claims)
    return JSONResponse({"publicKey": options})


@router.post("/mfa/webauthn/register", status_code=201, summary="Register a security key")
async def register(body: RegisterBody, guardian: GuardianDep, session: SessionDep) -> JSONResponse:
    _token, claims = session
    credential_id = await anyio.to_thread.run_sync(
        guardian.mfa.enrolment.register_key, claims, body.credential)
    return JSONResponse({"user": claims.sub, "credential_id": credential_id}, status_code=201)


@router.post("/sessions/webauthn/options", summary="A key challenge (the same for anyone)")
async def sign_in_options(body: KeyOptionsBody, guardian: GuardianDep) -> JSONResponse:
    options = await anyio.to_thread.run_sync(guardian.sessions.webauthn_options, body.user)
    return JSONResponse({"publicKey": options})


@router.post("/sessions/webauthn", status_code=201,
             summary="Sign in with the password and the key's answer")
async def sign_in(body: KeySignInBody, guardian: GuardianDep, request: Request) -> JSONResponse:
    source = client_source(request, guardian)
    await wait_for_throttle(guardian, body.user)
    issued = await anyio.to_thread.run_sync(_sign_in, guardian, body, source)
    return JSONResponse(render_session(issued), status_code=201)


@router.post("/sessions/step-up/webauthn/options",
             summary="A key challenge for stepping up (bearer session)")
async def step_up_options(guardian: GuardianDep, session: SessionDep) -> JSONResponse:
    _token, claims = session
    options = await anyio.to_thread.run_sync(guardian.sessions.webauthn_options, claims.sub)
    return JSONResponse({"publicKey": options})


@router.post("/sessions/step-up/webauthn", status_code=201,
             summary="Step up with the key's answer instead of a TOTP code")
async def step_up(body: RegisterBody, guardian: GuardianDep, session: SessionDep,
                  request: Request) -> JSONResponse:
    token, _claims = session
    source = client_source(request, guardian)
    issued = await anyio.to_thread.run_sync(step_up_with_key, guardian, token, body.credential,
                                            source)
    return JSONResponse(render_session(issued), status_code=201)
