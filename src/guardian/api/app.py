"""The FastAPI application factory: routers, the error table, the body size limit and request
ids (outermost, so that even a refused body's answer and log line carry one)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from guardian import __version__
from guardian.api import (
    audit,
    consents,
    decisions,
    grants,
    health,
    keys,
    mfa,
    openapi,
    periodic_reports,
    policy,
    reports,
    reviews,
    sessions,
    webauthn,
)
from guardian.api.decision_route import DecisionRoute, GuardianAPI
from guardian.api.errors import (
    on_guardian_error,
    on_http_error,
    on_unexpected,
    on_validation_error,
)
from guardian.api.limits import RequestBodyGuard
from guardian.api.request_ids import RequestIds
from guardian.bootstrap import Guardian
from guardian.errors import GuardianError


def create_app(guardian: Guardian, *, close_on_shutdown: bool = False) -> GuardianAPI:
    """The API over ``guardian``. With ``close_on_shutdown`` (``guardian serve``) the server's
    shutdown also closes it: uvicorn re-raises SIGTERM once it has stopped, so code after
    ``uvicorn.run`` never runs, and a clean stop must still sign the journal's tail."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Background work (directory sync, shipper) runs while the app serves, not beyond.
        guardian.start_background()
        try:
            yield
        finally:
            guardian.stop_background()
            if close_on_shutdown:
                guardian.close()

    docs = guardian.settings.api_docs_served
    app = GuardianAPI(
        title="Guardian",
        version=__version__,
        summary="Who may touch customer personal data, and the proof of every access.",
        lifespan=lifespan,
        # The API's map is for developers: on by default in demo mode (loopback only).
        docs_url="/docs" if docs else None,
        redoc_url="/redoc" if docs else None,
        openapi_url="/openapi.json" if docs else None,
    )
    app.state.guardian = guardian
    app.state.request_rules = decisions.RulesCache(guardian)
    app.decision_route = DecisionRoute(guardian, app.state.request_rules,
                                       guardian.settings.max_body_bytes)
    app.add_middleware(RequestBodyGuard, max_bytes=guardian.settings.max_body_bytes)
    app.add_middleware(RequestIds)
    app.add_exception_handler(GuardianError, on_guardian_error)
    app.add_exception_handler(RequestValidationError, on_validation_error)
    app.add_exception_handler(StarletteHTTPException, on_http_error)
    app.add_exception_handler(Exception, on_unexpected)
    app.include_router(decisions.router)
    app.include_router(sessions.router)
    app.include_router(health.router)
    app.include_router(mfa.router)
    app.include_router(webauthn.router)
    app.include_router(keys.router)
    app.include_router(grants.router)
    app.include_router(audit.router)
    app.include_router(reports.router)
    app.include_router(consents.router)
    app.include_router(periodic_reports.router)
    app.include_router(reviews.campaigns)
    app.include_router(reviews.reviews)
    app.include_router(policy.router)
    openapi.install(app,
                    customer_id_pattern=guardian.settings.governance.customer_id_pattern.pattern)
    from guardian.console import install_console

    install_console(app)
    return app
