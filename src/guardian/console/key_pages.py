"""Security keys (WebAuthn) in the console: signing in with password and key, stepping up
with a key, and registering one (from an invitation, or signed in, adding another).

The browser side is ``static/webauthn.js`` (no inline script): it asks one of the ``…/options``
endpoints here for a challenge (a CSRF-checked form post answering JSON), hands it to
``navigator.credentials.get``/``create``, puts the key's answer into the form's hidden
``credential`` field and submits the form, so what follows is an ordinary form post answered
with a page. Each step is the API's own use case (:mod:`guardian.api.webauthn`): the same
challenges, lockout, audit events and metrics. A refused sign-in says exactly what a refused
password and code says (:data:`guardian.console.auth_pages.FAILED`).

Browsers accept a key only on the relying party's own domain (``GUARDIAN_WEBAUTHN_RP_ID``; an
IP address is never one), so a page opened at another address offers, instead of the key
button, a link to the console at ``GUARDIAN_WEBAUTHN_ORIGIN``.
"""

from __future__ import annotations

from typing import Any

import anyio.to_thread
import orjson
from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from guardian.api.errors import status_of
from guardian.api.sessions import client_source
from guardian.api.webauthn import KeySignInBody, step_up_with_key
from guardian.api.webauthn import _sign_in as sign_in_with_key
from guardian.bootstrap import Guardian
from guardian.console.auth_pages import (
    FAILED,
    LOCKED,
    attempt_throttled,
    keys_work_here,
    sign_in_page,
    signed_in_response,
    step_up_page,
)
from guardian.console.forms import read_form, validated
from guardian.console.render import page
from guardian.console.security import clear_cookie
from guardian.console.session import (
    SESSION_COOKIE,
    SignInNeeded,
    StepUpNeeded,
    Visitor,
    safe_next,
    token_of,
    visitor_of,
)
from guardian.errors import (
    AccountLocked,
    AuthenticationError,
    FreshMfaRequired,
    GuardianError,
    InvalidRequest,
    InvalidWebAuthn,
)

router = APIRouter(prefix="/console", include_in_schema=False)
MAX_CREDENTIAL_CHARS = 16 * 1024
NO_ANSWER = ("The security key's answer did not arrive. Security keys need JavaScript and a "
             "browser that supports them.")
KEY_REFUSED = "That security key was not accepted. Try again, or use your authenticator app."


class NoKeyAnswer(InvalidRequest):
    """The form came without the script's ``credential`` (no JavaScript, or tampered with)."""


def _guardian(request: Request) -> Guardian:
    guardian: Guardian = request.app.state.guardian
    return guardian


def credential_of(form: dict[str, str]) -> dict[str, Any]:
    """The key's answer the script put in the form (a JSON object), or :class:`NoKeyAnswer`."""
    raw = form.get("credential", "")
    if not raw or len(raw) > MAX_CREDENTIAL_CHARS:
        raise NoKeyAnswer(NO_ANSWER)
    try:
        parsed = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise NoKeyAnswer(NO_ANSWER) from exc
    if not isinstance(parsed, dict):
        raise NoKeyAnswer(NO_ANSWER)
    return parsed


def _json_error(exc: GuardianError) -> JSONResponse:
    return JSONResponse({"error": {"code": exc.code, "message": exc.message}},
                        status_code=status_of(exc))


def _session_ended() -> JSONResponse:
    return JSONResponse({"error": {"code": "session_expired", "message":
                                   "Your session has ended: reload the page and sign in again."}},
                        status_code=401)


@router.post("/sign-in/key/options")
async def sign_in_options(request: Request) -> Response:
    """A challenge for the user typed (the same shape whoever it is, as over the API)."""
    guardian = _guardian(request)
    try:
        form = await read_form(request)
        user = validated(KeySignInBody, {"user": form.get("user", ""), "password": "-",
                                         "credential": {}}).user
        options = await anyio.to_thread.run_sync(guardian.sessions.webauthn_options, user)
    except GuardianError as exc:
        return _json_error(exc)
    return JSONResponse({"publicKey": options})


@router.post("/sign-in/key")
async def sign_in(request: Request) -> Response:
    guardian = _guardian(request)
    form = await read_form(request)
    target = safe_next(form.get("next"))
    user = form.get("user", "")[:128]
    try:
        body = validated(KeySignInBody, {"user": form.get("user", ""),
                                         "password": form.get("password", ""),
                                         "credential": credential_of(form)})
        source = await attempt_throttled(request, guardian, body.user)
        issued = await anyio.to_thread.run_sync(sign_in_with_key, guardian, body, source)
    except NoKeyAnswer:
        return sign_in_page(request, guardian, next_path=target, user=user, error=NO_ANSWER)
    except (AuthenticationError, InvalidRequest):
        return sign_in_page(request, guardian, next_path=target, user=user, error=FAILED)
    return signed_in_response(request, guardian, issued, target)


@router.post("/step-up/key/options")
async def step_up_options(request: Request) -> Response:
    guardian = _guardian(request)
    try:
        await read_form(request)
        visitor = visitor_of(request, guardian)
        if visitor is None or visitor.enrolment_only:
            return _session_ended()
        options = await anyio.to_thread.run_sync(guardian.sessions.webauthn_options,
                                                 visitor.uid)
    except GuardianError as exc:
        return _json_error(exc)
    return JSONResponse({"publicKey": options})


@router.post("/step-up/key")
async def step_up(request: Request) -> Response:
    guardian = _guardian(request)
    form = await read_form(request)
    target = safe_next(form.get("next"))
    visitor = visitor_of(request, guardian)
    if visitor is None or visitor.enrolment_only:
        raise SignInNeeded(target)
    try:
        issued = await anyio.to_thread.run_sync(
            step_up_with_key, guardian, token_of(request), credential_of(form),
            client_source(request, guardian))
    except NoKeyAnswer:
        return step_up_page(request, guardian, visitor, target, NO_ANSWER, status=422)
    except AuthenticationError as exc:
        locked = isinstance(exc, AccountLocked)
        return step_up_page(request, guardian, visitor, target,
                            LOCKED if locked else KEY_REFUSED, status=429 if locked else 401)
    return signed_in_response(request, guardian, issued, target)


def _enrolling_visitor(request: Request, guardian: Guardian) -> Visitor:
    """Someone who may register a key now: an invitation's session, or a fresh factor."""
    visitor = visitor_of(request, guardian)
    if visitor is None:
        raise SignInNeeded("/console/enrol/key")
    try:
        guardian.mfa.enrolment.authorise_change(visitor.claims)
    except FreshMfaRequired as exc:
        raise StepUpNeeded("/console/enrol/key") from exc
    return visitor


def _enrol_page(request: Request, guardian: Guardian, visitor: Visitor, error: str | None,
                status: int = 200) -> Response:
    return page(request, guardian, "enrol_key.html", title="Add a security key",
                status=status, visitor=visitor, error=error,
                keys_here=keys_work_here(request, guardian),
                key_url=guardian.settings.webauthn_origin.rstrip("/") + "/console/enrol/key")


@router.get("/enrol/key")
async def enrol_key_form(request: Request) -> Response:
    guardian = _guardian(request)
    return _enrol_page(request, guardian, _enrolling_visitor(request, guardian), None)


@router.post("/enrol/key/options")
async def enrol_key_options(request: Request) -> Response:
    guardian = _guardian(request)
    try:
        await read_form(request)
        visitor = visitor_of(request, guardian)
        if visitor is None:
            return _session_ended()
        options = await anyio.to_thread.run_sync(guardian.mfa.enrolment.webauthn_options,
                                                 visitor.claims)
    except GuardianError as exc:
        return _json_error(exc)
    return JSONResponse({"publicKey": options})


@router.post("/enrol/key")
async def enrol_key(request: Request) -> Response:
    guardian = _guardian(request)
    form = await read_form(request)
    visitor = _enrolling_visitor(request, guardian)
    try:
        await anyio.to_thread.run_sync(guardian.mfa.enrolment.register_key, visitor.claims,
                                       credential_of(form))
    except NoKeyAnswer:
        return _enrol_page(request, guardian, visitor, NO_ANSWER, status=422)
    except InvalidWebAuthn:
        return _enrol_page(request, guardian, visitor, "The security key was not registered. "
                           "Try again, or use another key.", status=422)
    if not visitor.enrolment_only:
        return page(request, guardian, "enrolled.html", title="Security key added",
                    visitor=visitor, factor="key")
    response = page(request, guardian, "enrolled.html", title="Security key added",
                    visitor=None, factor="key")
    clear_cookie(response, request, guardian.settings.host, SESSION_COOKIE)
    return response
