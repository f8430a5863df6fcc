"""``POST /v1/sessions`` (sign in with password and TOTP) and ``/v1/sessions/step-up``.

Every attempt, successful or not, is an audit event; a failure never says which factor was
wrong.
"""

from __future__ import annotations

from typing import Any

import anyio.to_thread
from fastapi import APIRouter
from starlette.responses import JSONResponse

from guardian.api.deps import GuardianDep, SessionDep
from guardian.api.schemas import SignInBody, StepUpBody
from guardian.audit.events import AuditAction, session_event
from guardian.bootstrap import Guardian
from guardian.clock import iso_utc
from guardian.errors import AuthenticationError
from guardian.identity.sessions import IssuedSession

router = APIRouter(prefix="/v1/sessions", tags=["sessions"])


def render_session(issued: IssuedSession) -> dict[str, Any]:
    c = issued.claims
    return {"token": issued.token, "user": c.sub, "auth_time": iso_utc(c.auth_time),
            "amr": [m.value for m in c.amr], "expires_at": iso_utc(c.exp)}


def _sign_in(guardian: Guardian, body: SignInBody) -> IssuedSession:
    now = guardian.clock.now()
    try:
        issued = guardian.sessions.sign_in(body.user, body.password, body.otp,
                                           recovery_code=body.recovery_code)
    except AuthenticationError as exc:
        guardian.journal.append(session_event(
            AuditAction.SESSION_FAILED, body.user, now, reason=exc.code))
        raise
    guardian.journal.append(session_event(
        AuditAction.SESSION_CREATED, body.user, now, session_id=issued.claims.sid,
        amr=[m.value for m in issued.claims.amr]))
    return issued


def _step_up(guardian: Guardian, token: str, body: StepUpBody) -> IssuedSession:
    now = guardian.clock.now()
    claims = guardian.sessions.verify(token)
    try:
        issued = guardian.sessions.step_up(token, body.otp)
    except AuthenticationError as exc:
        guardian.journal.append(session_event(
            AuditAction.SESSION_FAILED, claims.sub, now, reason=exc.code, step_up=True))
        raise
    guardian.journal.append(session_event(
        AuditAction.SESSION_STEPPED_UP, claims.sub, now, session_id=issued.claims.sid))
    return issued


@router.post("", status_code=201, summary="Sign in with password and TOTP or recovery code")
async def sign_in(body: SignInBody, guardian: GuardianDep) -> JSONResponse:
    issued = await anyio.to_thread.run_sync(_sign_in, guardian, body)
    return JSONResponse(render_session(issued), status_code=201)


@router.post("/step-up", status_code=201, summary="Prove the second factor again")
async def step_up(body: StepUpBody, guardian: GuardianDep, session: SessionDep) -> JSONResponse:
    token, _claims = session
    issued = await anyio.to_thread.run_sync(_step_up, guardian, token, body)
    return JSONResponse(render_session(issued), status_code=201)
