"""Mounting the console into the API's FastAPI application, at ``/console/``.

The console is a client of the same services as the API, in the same process: its routers,
its static files (htmx and one stylesheet, served from the package), the security headers of
:mod:`guardian.console.security`, and error handlers that answer console paths with an HTML
page (the status and code from the API's one table) instead of JSON.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from pathlib import Path

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.staticfiles import StaticFiles

from guardian.api.errors import status_of
from guardian.console import (
    audit_pages,
    auth_pages,
    campaign_pages,
    key_pages,
    officer_pages,
    report_pages,
    review_pages,
)
from guardian.console.render import page
from guardian.console.security import PREFIX, ConsoleHeaders
from guardian.console.session import SIGNED_IN_COOKIE, SignInNeeded, StepUpNeeded, next_query
from guardian.errors import GuardianError

STATIC = Path(__file__).with_name("static")
Handler = Callable[[Request, Exception], Awaitable[Response]]


def install_console(app: FastAPI) -> None:
    """Add the console to ``app`` (whose ``state.guardian`` it serves)."""
    for module in (auth_pages, officer_pages, audit_pages, report_pages, review_pages,
                   campaign_pages):
        app.include_router(module.router)
    app.include_router(key_pages.router)
    app.mount(f"{PREFIX}/static", StaticFiles(directory=STATIC), name="console-static")
    app.add_middleware(ConsoleHeaders)
    app.add_exception_handler(SignInNeeded, _to_sign_in)
    for kind in (GuardianError, RequestValidationError, StarletteHTTPException):
        app.add_exception_handler(kind, _html_for_console(app, kind))


def _in_console(request: Request) -> bool:
    path = request.url.path
    return path == PREFIX or path.startswith(PREFIX + "/")


async def _to_sign_in(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, SignInNeeded)
    target = "step-up" if isinstance(exc, StepUpNeeded) else "sign-in"
    location = f"{PREFIX}/{target}{next_query(exc.next_path)}"
    if target == "sign-in" and request.cookies.get(SIGNED_IN_COOKIE):
        location += "&expired=1"  # signed in before, the session is gone: say it ended
    if request.headers.get("hx-request") == "true":
        # htmx follows no redirect into a swap: make the whole page go there.
        return Response(status_code=204, headers={"HX-Redirect": location})
    return RedirectResponse(location, status_code=303)


def _html_for_console(app: FastAPI, kind: type[Exception]) -> Handler:
    api_handler = app.exception_handlers.get(kind)

    async def handler(request: Request, exc: Exception) -> Response:
        if not _in_console(request):
            assert api_handler is not None
            answer = api_handler(request, exc)
            return await answer if inspect.isawaitable(answer) else answer
        return error_page(request, exc)

    return handler


def error_page(request: Request, exc: Exception) -> Response:
    if isinstance(exc, GuardianError):
        status, code, message = status_of(exc), exc.code, exc.message
    elif isinstance(exc, StarletteHTTPException):
        status, code, message = exc.status_code, "not_found" if exc.status_code == 404 \
            else "http_error", "There is no such page." if exc.status_code == 404 \
            else str(exc.detail)
    else:
        status, code, message = 422, "invalid_request", "Some of what was sent is not valid."
    return page(request, request.app.state.guardian, "error.html", title="Something went wrong",
                status=status, code=code, message=message)
