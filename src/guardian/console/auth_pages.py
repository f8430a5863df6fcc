"""Signing in and out of the console, stepping up, and enrolling a first factor from an
invitation.

Each goes through the API's own code for the same use case (:mod:`guardian.api.sessions`,
:mod:`guardian.api.mfa`): the same throttling, lockout, audit events and metrics. A failure
says only that the sign-in did not work (or that sign-in is paused after too many failures),
never which part was wrong or whether the person exists.
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
    SignInNeeded,
    safe_next,
    token_of,
    visitor_of,
)
from guardian.errors import AccountLocked, AuthenticationError, InvalidRequest
from guardian.identity.sessions import IssuedSession

router = APIRouter(prefix="/console", include_in_schema=False)
FAILED = "The sign-in did not work. Check what you typed and try again."
LOCKED = "Sign-in is paused after too many failed attempts. Wait a while and try again."


def _guardian(request: Request) -> Guardian:
    guardian: Guardian = request.app.state.guardian
    return guardian


def _signed_in(request: Request, guardian: Guardian, issued: IssuedSession, to: str
               ) -> Response:
    response = RedirectResponse(to, status_code=303)
    ttl = max(1, int(issued.claims.exp - guardian.clock.now()))
    set_cookie(response, request, guardian.settings.host, SESSION_COOKIE, issued.token, ttl)
    new_csrf_token(request)
    keep_csrf(response, request, guardian.settings.host)
    return response


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
async def sign_in_form(request: Request, next: str | None = None) -> Response:
    return page(request, _guardian(request), "sign_in.html", title="Sign in",
                next=safe_next(next), error=None, user="")


async def _attempt(request: Request, guardian: Guardian, body: SignInBody) -> IssuedSession:
    source = client_source(request, guardian)
    await wait_for_throttle(guardian, body.user)
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
    except (AuthenticationError, InvalidRequest) as exc:
        locked = isinstance(exc, AccountLocked)
        return page(request, guardian, "sign_in.html", title="Sign in",
                    status=429 if locked else 401, next=target, user=user,
                    error=LOCKED if locked else FAILED)
    return _signed_in(request, guardian, issued, target)


@router.get("/step-up")
async def step_up_form(request: Request, next: str | None = None) -> Response:
    guardian = _guardian(request)
    visitor = visitor_of(request, guardian)
    if visitor is None or visitor.enrolment_only:
        raise SignInNeeded(safe_next(next))
    return page(request, guardian, "step_up.html", title="Confirm it is you", visitor=visitor,
                next=safe_next(next), error=None)


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
        return page(request, guardian, "step_up.html", title="Confirm it is you",
                    status=429 if locked else 401, visitor=visitor, next=target,
                    error=LOCKED if locked else "That code did not work. Wait for the next "
                    "code and try again.")
    return _signed_in(request, guardian, issued, target)


@router.post("/sign-out")
async def sign_out(request: Request) -> Response:
    guardian = _guardian(request)
    await read_form(request)
    response = RedirectResponse("/console/sign-in?signed_out=1", status_code=303)
    clear_cookie(response, request, guardian.settings.host, SESSION_COOKIE)
    clear_cookie(response, request, guardian.settings.host, CSRF_COOKIE)
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
    except (AuthenticationError, InvalidRequest) as exc:
        locked = isinstance(exc, AccountLocked)
        return page(request, guardian, "enrol.html", title="Set up your sign-in",
                    status=429 if locked else 401, user=form.get("user", "")[:128],
                    error=LOCKED if locked else FAILED)
    return _signed_in(request, guardian, issued, "/console/enrol/totp")


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
                    visitor=None)
    clear_cookie(response, request, guardian.settings.host, SESSION_COOKIE)
    return response
