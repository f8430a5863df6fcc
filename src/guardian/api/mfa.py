"""Enrolling a TOTP authenticator over HTTP: ``POST /v1/mfa/totp`` and ``/v1/mfa/totp/activate``,
and ``POST /v1/mfa/invitations``, a security officer's invitation to enrol a first factor.

The caller holds a bearer session: the password-only one (``amr`` ``["pwd"]``) that their
password and an invitation opened when they have no second factor yet, else one whose second
factor is fresh. Starting answers the provisioning URI, its QR code (SVG data URI) and the
recovery codes — once, not cached; the new seed is active only after its first valid code.
Every step, and every invitation made, is an audit event; an invitation's code is in the answer
only (not cached), the store keeps its keyed digest.
"""

from __future__ import annotations

import anyio.to_thread
from fastapi import APIRouter, Request
from starlette.responses import JSONResponse

from guardian.api.deps import GuardianDep, SecurityOfficerDep, SessionDep
from guardian.api.schemas import Identifier, Otp, StrictBody
from guardian.api.sessions import client_source
from guardian.bootstrap import Guardian
from guardian.clock import iso_utc
from guardian.identity.enrolment import Provisioning
from guardian.identity.tokens import SessionClaims

router = APIRouter(prefix="/v1/mfa", tags=["multi-factor authentication"])
NO_STORE = {"Cache-Control": "no-store"}


class ActivateBody(StrictBody):
    otp: Otp


class InvitationBody(StrictBody):
    user: Identifier


def _start(guardian: Guardian, claims: SessionClaims) -> Provisioning:
    return guardian.mfa.enrolment.start_totp(claims.sub, session=claims)


def _activate(guardian: Guardian, claims: SessionClaims, code: str, source: str) -> None:
    guardian.mfa.enrolment.activate_totp(claims.sub, code, source=source, session=claims)


@router.post("/totp", status_code=201, summary="Start enrolling a TOTP authenticator")
async def start_totp(guardian: GuardianDep, session: SessionDep) -> JSONResponse:
    _token, claims = session
    provisioning = await anyio.to_thread.run_sync(_start, guardian, claims)
    return JSONResponse({
        "user": provisioning.uid, "state": "pending", "uri": provisioning.uri,
        "qr_svg": guardian.mfa.qr_svg(provisioning.uri),
        "recovery_codes": list(provisioning.recovery_codes),
    }, status_code=201, headers=NO_STORE)


@router.post("/totp/activate", summary="Activate the pending authenticator with its first code")
async def activate_totp(
    body: ActivateBody, guardian: GuardianDep, session: SessionDep, request: Request
) -> JSONResponse:
    _token, claims = session
    source = client_source(request, guardian)
    await anyio.to_thread.run_sync(_activate, guardian, claims, body.otp, source)
    return JSONResponse({"user": claims.sub, "state": "active", "factor": "totp"})


@router.post("/invitations", status_code=201,
             summary="Invite someone to enrol a first second factor (code shown once)")
async def invite(
    body: InvitationBody, guardian: GuardianDep, officer: SecurityOfficerDep
) -> JSONResponse:
    invitation = await anyio.to_thread.run_sync(
        guardian.mfa.invitations.invite, officer.uid, body.user)
    return JSONResponse({"user": invitation.uid, "code": invitation.code,
                         "expires_at": iso_utc(invitation.expires_at)},
                        status_code=201, headers=NO_STORE)
