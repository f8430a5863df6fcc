"""``POST /v1/sessions`` (sign in with password and TOTP) and ``/v1/sessions/step-up``.

Every attempt, successful or not, is an audit event (an unknown user id only as its keyed
digest); a failure never says which part was wrong. The source of an attempt, for lockout, is
the connection's address — ``X-Forwarded-For`` only from a proxy named in
``GUARDIAN_TRUSTED_PROXIES``. Someone failing often from many places is only slowed down: the
wait happens here, on the event loop, so it holds no worker thread.

Attempts are counted by outcome (``success``, ``failure``, ``locked``) and logged for operators
without any credential, and a refused one without the user id typed (it may be a password).
"""

from __future__ import annotations

import ipaddress
from typing import Any

import anyio
import anyio.to_thread
from fastapi import APIRouter, Request
from starlette.responses import JSONResponse

from guardian.api.deps import GuardianDep, SessionDep
from guardian.api.schemas import SignInBody, StepUpBody
from guardian.bootstrap import Guardian
from guardian.clock import iso_utc
from guardian.errors import AccountLocked, AuthenticationError
from guardian.identity.sessions import IssuedSession
from guardian.logging import get_logger

log = get_logger("guardian.sessions")
router = APIRouter(prefix="/v1/sessions", tags=["sessions"])


def render_session(issued: IssuedSession) -> dict[str, Any]:
    c = issued.claims
    return {"token": issued.token, "user": c.sub, "auth_time": iso_utc(c.auth_time),
            "amr": [m.value for m in c.amr], "expires_at": iso_utc(c.exp)}


def client_source(request: Request, guardian: Guardian) -> str:
    """The address an attempt comes from: the peer, or behind trusted proxies the last
    ``X-Forwarded-For`` hop that is not one of them."""
    peer = request.client.host if request.client is not None else "unknown"
    trusted = guardian.settings.trusted_proxy_networks
    if not trusted or not _within(peer, trusted):
        return peer
    hops = [h.strip() for h in request.headers.get("x-forwarded-for", "").split(",")]
    for hop in reversed(hops):
        if not hop:
            break
        if not _within(hop, trusted):
            return _canonical(hop)
    return peer


def _within(address: str, networks: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...],
            ) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in net for net in networks)


def _canonical(address: str) -> str:
    try:
        return str(ipaddress.ip_address(address))
    except ValueError:
        return "invalid-forwarded-address"


async def wait_for_throttle(guardian: Guardian, uid: str) -> None:
    delay = await anyio.to_thread.run_sync(guardian.sessions.delay_s, uid)
    if delay > 0:
        await anyio.sleep(delay)


def sign_in_outcome(code: str | None) -> str:
    """``success`` (no error), ``locked`` (lockout) or ``failure``, from an error's code."""
    if code is None:
        return "success"
    return "locked" if code == AccountLocked.code else "failure"


def counted_sign_in(guardian: Guardian, method: str, issued: IssuedSession | None,
                    code: str | None = None) -> None:
    """Count and log one sign-in attempt (``issued`` on success, else the error's code)."""
    outcome = sign_in_outcome(code)
    guardian.metrics.signed_in(method, outcome)
    if issued is not None:
        log.info("signed in", method=method, user=issued.claims.sub,
                 amr=[m.value for m in issued.claims.amr])
    else:
        log.info("sign-in refused", method=method, outcome=outcome, code=code)


def _sign_in(guardian: Guardian, body: SignInBody, source: str) -> IssuedSession:
    method = "recovery_code" if body.recovery_code is not None else "totp"
    try:
        issued = guardian.sign_in.sign_in(body.user, body.password, body.otp,
                                          recovery_code=body.recovery_code,
                                          invitation=body.invitation, source=source)
    except AuthenticationError as exc:
        counted_sign_in(guardian, method, None, exc.code)
        raise
    counted_sign_in(guardian, method, issued)
    return issued


def counted_step_up(guardian: Guardian, user: str, code: str | None = None) -> None:
    """Count and log one step-up (``code``: the refusal's error code)."""
    guardian.metrics.stepped_up(sign_in_outcome(code))
    if code is None:
        log.info("stepped up", user=user)
    else:
        log.info("step-up refused", user=user, code=code)


def _step_up(guardian: Guardian, token: str, body: StepUpBody, source: str) -> IssuedSession:
    user = guardian.sessions.verify(token).sub
    try:
        issued = guardian.sign_in.step_up(token, body.otp, source=source)
    except AuthenticationError as exc:
        counted_step_up(guardian, user, exc.code)
        raise
    counted_step_up(guardian, user)
    return issued


@router.post("", status_code=201, summary="Sign in with password and TOTP or recovery code")
async def sign_in(body: SignInBody, guardian: GuardianDep, request: Request) -> JSONResponse:
    source = client_source(request, guardian)
    await wait_for_throttle(guardian, body.user)
    issued = await anyio.to_thread.run_sync(_sign_in, guardian, body, source)
    return JSONResponse(render_session(issued), status_code=201)


@router.post("/step-up", status_code=201, summary="Prove the second factor again")
async def step_up(
    body: StepUpBody, guardian: GuardianDep, session: SessionDep, request: Request
) -> JSONResponse:
    token, _claims = session
    source = client_source(request, guardian)
    issued = await anyio.to_thread.run_sync(_step_up, guardian, token, body, source)
    return JSONResponse(render_session(issued), status_code=201)
