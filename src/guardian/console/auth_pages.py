"""Signing in and out of the console, stepping up, and enrolling a first factor from an
invitation.

Each goes through the API's own code for the same use case (:mod:`guardian.api.sessions`,
:mod:`guardian.api.mfa`): the same throttling, lockout, audit events and metrics. A failure
says only that the sign-in did not work (or that sign-in is paused after too many failures),
never which part was wrong, whether the person exists or whether the lockout paused them:
one message, one status (:data:`FAILED`). A session that ended is said so on the sign-in page.
"""

from __future__ import annotations

import anyio.to_thread
from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from guardian.api.mfa import _activate, _start
from guardian.api.schemas import SignInBody, StepUpBody
from guardian.api.sessions import _sign_in, _step_up, client_source, wait_for_throttle
from guardian.bootstrap import Guardian
from guardian.console.forms import read_form, validated
from guardian.console.render import page
from guardian.console.security import (
    CSRF_COOKIE,
    clear_cookie,
    keep_csrf,
    new_csrf_token,
    set_cookie,
)
from guardian.console.session import (
    SESSION_COOKIE,
    SIGNED_IN_COOKIE,
    SignInNeeded,
    Visitor,
    safe_next,
    token_of,
    visitor_of,
)
from guardian.errors import AccountLocked, AuthenticationError, InvalidRequest
from guardian.identity.sessions import IssuedSession

router = APIRouter(prefix="/console", include_in_schema=False)
FAILED = ("The sign-in did not work. Check what you typed and try again. After several "
          "failed attempts sign-in pauses for a while.")
"""The one answer to every refused sign-in — unknown person, wrong password, wrong code or
key, paused by the lockout — with the same status (401): nothing a stranger could tell apart."""
LOCKED = "Sign-in is paused after too many failed attempts. Wait a while and try again."
EXPIRED = "Your session has ended. Sign in again to continue."
SIGNED_OUT = "You are signed out."


def _guardian(request: Request) -> Guardian:
    guardian: Guardian = request.app.state.guardian
    return guardian


def signed_in_response(request: Request, guardian: Guardian, issued: IssuedSession, to: str
                       ) -> Response:
    """Go to ``to`` with the new session's cookie (and a fresh CSRF token)."""
    response = RedirectResponse(to, status_code=303)
    ttl = max(1, int(issued.claims.exp - guardian.clock.now()))
    set_cookie(response, request, guardian.settings.host, SESSION_COOKIE, issued.token, ttl)
    # No lifetime: outlives the session's cookie, so that a page can say the session ended.
    set_cookie(response, request, guardian.settings.host, SIGNED_IN_COOKIE, "1")
    new_csrf_token(request)
    keep_csrf(response, request, guardian.settings.host)
    return response


def keys_work_here(request: Request, guardian: Guardian) -> bool:
    """Whether a browser on this page's address may use the relying party's keys (browsers
    accept a key only on ``GUARDIAN_WEBAUTHN_RP_ID``'s domain, never on an IP address)."""
    host = (request.url.hostname or "").lower()
    rp_id = guardian.settings.webauthn_rp_id.lower()
    return host == rp_id or host.endswith("." + rp_id)


def sign_in_page(request: Request, guardian: Guardian, *, next_path: str, user: str,
                 error: str | None, notice: str | None = None) -> Response:
    """The sign-in form (password with a code or a security key); a refusal is 401."""
    return page(request, guardian, "sign_in.html", title="Sign in",
                status=200 if error is None else 401, next=next_path, user=user, error=error,
                notice=notice, keys_here=keys_work_here(request, guardian),
                key_url=guardian.settings.webauthn_origin.rstrip("/") + "/console/sign-in")


def step_up_page(request: Request, guardian: Guardian, visitor: Visitor, next_path: str,
                 error: str | None, *, status: int = 200) -> Response:
    """The step-up form: a fresh code, or the security key if the person has one."""
    has_key = guardian.mfa.webauthn.has_credentials(visitor.uid)
    return page(request, guardian, "step_up.html", title="Confirm it is you", status=status,
                visitor=visitor, next=next_path, error=error,
                has_key=has_key and keys_work_here(request, guardian))


async def attempt_throttled(request: Request, guardian: Guardian, uid: str) -> str:
    """Wait out the person's throttle; the attempt's source address."""
    source = client_source(request, guardian)
    await wait_for_throttle(guardian, uid)
    return source


@router.get("/")
async def home(request: Request) -> Response:
    guardian = _guardian(request)
    visitor = visitor_of(request, guardian)
    if visitor is None:
        raise SignInNeeded("/console/")
    if visitor.enrolment_only:
        return RedirectResponse("/console/enrol/totp", status_code=303)
    return page(request, guardian, "home.html", title="Home", visitor=visitor,
                max_age_s=guardian.settings.identity.admin_mfa_max_age_s)


@router.get("")
async def bare() -> Response:
    return RedirectResponse("/console/", status_code=308)


@router.get("/sign-in")
async def sign_in_form(request: Request, next: str | None = None, expired: str | None = None,
                       signed_out: str | None = None) -> Response:
    notice = EXPIRED if expired else SIGNED_OUT if signed_out else None
    return sign_in_page(request, _guardian(request), next_path=safe_next(next), user="",
                        error=None, notice=notice)


async def _attempt(request: Request, guardian: Guardian, body: SignInBody) -> IssuedSession:
    source = await attempt_throttled(request, guardian, body.user)
    return await anyio.to_thread.run_sync(_sign_in, guardian, body, source)


@router.post("/sign-in")
async def sign_in(request: Request) -> Response:
    guardian = _guardian(request)
    form = await read_form(request)
    target = safe_next(form.get("next"))
    user = form.get("user", "")[:128]
    try:
        body = validated(SignInBody, {"user": form.get("user", ""),
                                      "password": form.get("password", ""),
                                      "otp": form.get("otp", "").replace(" ", "")})
        issued = await _attempt(request, guardian, body)
    except (AuthenticationError, InvalidRequest):
        return sign_in_page(request, guardian, next_path=target, user=user, error=FAILED)
    return signed_in_response(request, guardian, issued, target)


@router.get("/step-up")
async def step_up_form(request: Request, next: str | None = None) -> Response:
    guardian = _guardian(request)
    visitor = visitor_of(request, guardian)
    if visitor is None or visitor.enrolment_only:
        raise SignInNeeded(safe_next(next))
    return step_up_page(request, guardian, visitor, safe_next(next), None)


@router.post("/step-up")
async def step_up(request: Request) -> Response:
    guardian = _guardian(request)
    form = await read_form(request)
    target = safe_next(form.get("next"))
    visitor = visitor_of(request, guardian)
    if visitor is None or visitor.enrolment_only:
        raise SignInNeeded(target)
    try:
        body = validated(StepUpBody, {"otp": form.get("otp", "").replace(" ", "")})
        source = client_source(request, guardian)
        issued = await anyio.to_thread.run_sync(_step_up, guardian, token_of(request), body,
                                                source)
    except (AuthenticationError, InvalidRequest) as exc:
        locked = isinstance(exc, AccountLocked)
        return step_up_page(request, guardian, visitor, target,
                            LOCKED if locked else "That code did not work. Wait for the next "
                            "code and try again.", status=429 if locked else 401)
    return signed_in_response(request, guardian, issued, target)


@router.post("/sign-out")
async def sign_out(request: Request) -> Response:
    guardian = _guardian(request)
    await read_form(request)
    response = RedirectResponse("/console/sign-in?signed_out=1", status_code=303)
    clear_cookie(response, request, guardian.settings.host, SESSION_COOKIE)
    clear_cookie(response, request, guardian.settings.host, CSRF_COOKIE)
    clear_cookie(response, request, guardian.settings.host, SIGNED_IN_COOKIE)
    return response


@router.get("/enrol")
async def enrol_form(request: Request) -> Response:
    return page(request, _guardian(request), "enrol.html", title="Set up your sign-in",
                error=None, user="")


@router.post("/enrol")
async def enrol_sign_in(request: Request) -> Response:
    """Password and invitation code: a short session good for enrolling a factor only."""
    guardian = _guardian(request)
    form = await read_form(request)
    try:
        body = validated(SignInBody, {"user": form.get("user", ""),
                                      "password": form.get("password", ""),
                                      "invitation": form.get("invitation", "").strip()})
        issued = await _attempt(request, guardian, body)
    except (AuthenticationError, InvalidRequest):
        return page(request, guardian, "enrol.html", title="Set up your sign-in",
                    status=401, user=form.get("user", "")[:128], error=FAILED)
    return signed_in_response(request, guardian, issued, "/console/enrol/totp")


@router.get("/enrol/totp")
async def enrol_totp_form(request: Request) -> Response:
    guardian = _guardian(request)
    visitor = visitor_of(request, guardian)
    if visitor is None:
        raise SignInNeeded("/console/enrol/totp")
    return page(request, guardian, "enrol_totp.html", title="Add an authenticator app",
                visitor=visitor, provisioning=None, qr=None, error=None)


@router.post("/enrol/totp")
async def enrol_totp_start(request: Request) -> Response:
    guardian = _guardian(request)
    await read_form(request)
    visitor = visitor_of(request, guardian)
    if visitor is None:
        raise SignInNeeded("/console/enrol/totp")
    provisioning = await anyio.to_thread.run_sync(_start, guardian, visitor.claims)
    return page(request, guardian, "enrol_totp.html", title="Add an authenticator app",
                visitor=visitor, provisioning=provisioning,
                qr=guardian.mfa.qr_svg(provisioning.uri), error=None)


@router.post("/enrol/activate")
async def enrol_activate(request: Request) -> Response:
    guardian = _guardian(request)
    form = await read_form(request)
    visitor = visitor_of(request, guardian)
    if visitor is None:
        raise SignInNeeded("/console/enrol/totp")
    code = form.get("otp", "").replace(" ", "")
    if not code:
        raise InvalidRequest("type the code your authenticator app shows")
    await anyio.to_thread.run_sync(_activate, guardian, visitor.claims, code,
                                   client_source(request, guardian))
    response = page(request, guardian, "enrolled.html", title="Authenticator added",
                    visitor=None, factor="totp")
    clear_cookie(response, request, guardian.settings.host, SESSION_COOKIE)
    return response
