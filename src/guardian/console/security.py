"""The console's defences that do not depend on who is signed in: response headers, cookies
and the CSRF token.

Every console response carries a Content-Security-Policy without inline script or style
(``default-src 'self'``; QR codes are ``data:`` images), ``frame-ancestors 'none'`` with
``X-Frame-Options: DENY``, no referrer and no caching of pages. Cookies are HttpOnly,
SameSite=Strict, and Secure unless both the server and the browser are on loopback (plain HTTP
there is the demo's ``make run``). The CSRF token is a random value in its own cookie that
every form and htmx request must echo (``csrf`` field or ``X-CSRF-Token`` header); it is
replaced at sign-in and sign-out, so a token learnt before signing in opens nothing after.
"""

from __future__ import annotations

import hmac
import ipaddress
import secrets
from collections.abc import Mapping

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from guardian.errors import CsrfRejected

PREFIX = "/console"
CSRF_COOKIE = "guardian_console_csrf"
CSRF_FIELD = "csrf"
CSRF_HEADER = "x-csrf-token"
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "connect-src 'self'; form-action 'self'; base-uri 'none'; object-src 'none'; "
       "frame-ancestors 'none'")
HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"content-security-policy", CSP.encode()),
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-opener-policy", b"same-origin"),
)


class ConsoleHeaders:
    """ASGI middleware: the security headers on every response under ``/console``,
    ``Cache-Control: no-store`` on everything but its static files, and blank query
    parameters dropped."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "") if scope["type"] == "http" else ""
        if path != PREFIX and not path.startswith(PREFIX + "/"):
            await self.app(scope, receive, send)
            return
        static = path.startswith(PREFIX + "/static/")
        scope = {**scope, "query_string": without_blanks(scope.get("query_string", b""))}

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", [])
                           if k.lower() not in {h for h, _ in HEADERS}]
                headers.extend(HEADERS)
                if not static and not any(k.lower() == b"cache-control" for k, _ in headers):
                    headers.append((b"cache-control", b"no-store"))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, with_headers)


def without_blanks(query: bytes) -> bytes:
    """A query string without its empty parameters: a console form's blank field means no
    filter, as if it had not been sent (the API's parsers then apply unchanged)."""
    if not query:
        return query
    kept = [p for p in query.split(b"&") if p and not p.endswith(b"=")]
    return b"&".join(kept)


def _loopback(host: str | None) -> bool:
    if host is None:
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def secure_cookies(request: Request, bind_host: str) -> bool:
    """Secure everywhere except a loopback server seen by a loopback browser."""
    return not (_loopback(bind_host) and _loopback(request.url.hostname))


def set_cookie(response: Response, request: Request, bind_host: str, name: str, value: str,
               max_age: int | None = None) -> None:
    response.set_cookie(name, value, max_age=max_age, path=PREFIX, httponly=True,
                        secure=secure_cookies(request, bind_host), samesite="strict")


def clear_cookie(response: Response, request: Request, bind_host: str, name: str) -> None:
    response.delete_cookie(name, path=PREFIX, httponly=True,
                           secure=secure_cookies(request, bind_host), samesite="strict")


def csrf_token(request: Request) -> str:
    """The browser's CSRF token: the one this request minted, the cookie's, or a new one
    (:func:`keep_csrf` then sets the cookie)."""
    minted: str | None = getattr(request.state, "console_csrf", None)
    if minted:
        return minted
    existing = request.cookies.get(CSRF_COOKIE, "")
    if len(existing) == 43 and existing.replace("-", "").replace("_", "").isalnum():
        return existing
    return new_csrf_token(request)


def new_csrf_token(request: Request) -> str:
    """A token replacing the browser's (at sign-in and sign-out)."""
    token = secrets.token_urlsafe(32)
    request.state.console_csrf = token
    return token


def keep_csrf(response: Response, request: Request, bind_host: str) -> None:
    """Set the CSRF cookie if this request minted a new token."""
    minted: str | None = getattr(request.state, "console_csrf", None)
    if minted is not None and request.cookies.get(CSRF_COOKIE) != minted:
        set_cookie(response, request, bind_host, CSRF_COOKIE, minted)


def check_csrf(request: Request, form: Mapping[str, str]) -> None:
    """Refuse (403 ``csrf_token_invalid``) a state-changing request whose token (form field or
    header) is missing or is not the one in the browser's cookie."""
    expected = request.cookies.get(CSRF_COOKIE, "")
    given = form.get(CSRF_FIELD) or request.headers.get(CSRF_HEADER, "")
    if not expected or not given or not hmac.compare_digest(expected.encode(), given.encode()):
        raise CsrfRejected("this form has expired or did not come from this console: "
                           "reload the page and try again")
