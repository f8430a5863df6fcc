"""FastAPI integration: ask Guardian before an endpoint runs, answer 403 on deny, mask on permit.

    install(app, AsyncGuardianClient(url, api_key=key, application="crm-web"))

    @app.get("/customers/{customer_id}/billing")
    @requires(database="crm", category="economic-financial", action="read", purpose="billing")
    async def billing(customer_id: str) -> dict[str, str]: ...

The subject comes from the incoming request: the employee's id from ``X-Guardian-User`` and the
session token from ``X-Guardian-Session`` (names, or callables, set in :func:`install`);
Guardian checks that the token belongs to that id. Customers come from a path parameter
(``customer_id`` unless told otherwise) or a callable on the request. A deny, whatever its
cause (Guardian unreachable included), is ``403 {"detail": {"code", "message", "decision_id",
"reasons"}}``; a permit whose obligations the integration cannot fulfil is a deny too. The
decorator masks the endpoint's return value; an endpoint that wants the decision itself takes
a parameter annotated :class:`~guardian_client.Decision`. The dependency form is
``decision: Decision = Depends(permit(...))``, whose caller applies the obligations.
"""

from __future__ import annotations

import functools
import inspect
import ipaddress
import typing
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from fastapi import FastAPI, HTTPException, Request
from starlette.concurrency import run_in_threadpool

from guardian_client._async import AsyncGuardianClient
from guardian_client._models import ClientReason, Decision, DecisionRequest
from guardian_client.obligations import apply_obligations, unsupported

Header = str | Callable[[Request], str | None]
Customers = str | Callable[[Request], Sequence[str] | str | Awaitable[Sequence[str]]] | None
"""A path parameter's name, a callable on the request, or ``None`` for a bulk purpose."""
F = TypeVar("F", bound=Callable[..., Any])
_REQUEST = "guardian_request_"


@dataclass(frozen=True, slots=True)
class GuardianAccess:
    """The client and where to find the subject in a request; kept on ``app.state.guardian``."""

    client: AsyncGuardianClient
    user: Header = "X-Guardian-User"
    session: Header = "X-Guardian-Session"
    justification: Header = "X-Guardian-Justification"

    async def decide(
        self, request: Request, *, database: str, category: str, action: str, purpose: str,
        customers: Customers = "customer_id",
    ) -> Decision:
        user = _read(self.user, request)
        if not user:
            return Decision.deny(ClientReason.AUTHENTICATION_REQUIRED,
                                 "the request names no employee")
        if isinstance(customers, str) and customers not in request.path_params:
            # A misnamed parameter must not turn into a request about no customer at all.
            return Decision.deny(ClientReason.CLIENT_ERROR,
                                 f"the route has no path parameter {customers!r}")
        return await self.client.decide(DecisionRequest(
            subject=user, session_token=_read(self.session, request), action=action,
            database=database, category=category, purpose=purpose,
            customer_ids=await _customers(customers, request),
            justification=_read(self.justification, request), client_ip=_client_ip(request)))


def install(
    app: FastAPI, client: AsyncGuardianClient, *, user: Header = "X-Guardian-User",
    session: Header = "X-Guardian-Session", justification: Header = "X-Guardian-Justification",
) -> GuardianAccess:
    """Make ``client`` the one :func:`requires` and :func:`permit` use for ``app``."""
    access = GuardianAccess(client, user=user, session=session, justification=justification)
    app.state.guardian = access
    return access


def permit(
    *, database: str, category: str, action: str, purpose: str,
    customers: Customers = "customer_id",
) -> Callable[[Request], Awaitable[Decision]]:
    """A dependency whose value is the permit; on deny it raises ``HTTPException(403)``."""

    async def guardian_permit(request: Request) -> Decision:
        decision = await _access(request).decide(
            request, database=database, category=category, action=action, purpose=purpose,
            customers=customers)
        return enforce(decision)

    return guardian_permit


def requires(
    *, database: str, category: str, action: str, purpose: str,
    customers: Customers = "customer_id", replacement: Any = "***",
) -> Callable[[F], F]:
    """Decorate an endpoint (below ``@app.get``) so it runs only on a permit, masked."""
    ask = permit(database=database, category=category, action=action, purpose=purpose,
                 customers=customers)

    def decorate(endpoint: F) -> F:
        signature, request_name, decision_name = _public_signature(endpoint)

        @functools.wraps(endpoint)
        async def guarded(*args: Any, **kwargs: Any) -> Any:
            request = kwargs[request_name] if request_name != _REQUEST \
                else kwargs.pop(_REQUEST)
            decision = await ask(request)
            if decision_name:
                kwargs[decision_name] = decision
            if inspect.iscoroutinefunction(endpoint):
                result = await endpoint(*args, **kwargs)
            else:
                result = await run_in_threadpool(endpoint, *args, **kwargs)
            return apply_obligations(result, decision, replacement=replacement)

        guarded.__signature__ = signature  # type: ignore[attr-defined]
        return typing.cast(F, guarded)

    return decorate


def enforce(decision: Decision) -> Decision:
    """``decision`` if it is a permit this integration can honour, else ``HTTPException(403)``."""
    if decision.permitted:
        unknown = unsupported(decision)
        if not unknown:
            return decision
        decision = Decision.deny(ClientReason.UNSUPPORTED_OBLIGATION,
                                 f"cannot fulfil obligation(s) {', '.join(unknown)}")
    first = decision.reasons[0] if decision.reasons else None
    raise HTTPException(status_code=403, detail={
        "code": first.code if first else "denied",
        "message": first.message if first else "Guardian denied the request",
        "decision_id": decision.decision_id,
        "reasons": [r.model_dump(exclude_defaults=True) for r in decision.reasons],
    })


def _public_signature(endpoint: Callable[..., Any]) -> tuple[inspect.Signature, str, str | None]:
    """The signature FastAPI should see: no Decision parameter, a Request one, types resolved."""
    try:
        hints = typing.get_type_hints(endpoint, include_extras=True)
    except (NameError, TypeError):
        hints = {}
    signature = inspect.signature(endpoint)
    params, request_name, decision_name = [], _REQUEST, None
    for param in signature.parameters.values():
        hint = hints.get(param.name, param.annotation)
        if hint is Decision:
            decision_name = param.name
            continue
        if hint is Request:
            request_name = param.name
        params.append(param.replace(annotation=hint))
    if request_name == _REQUEST:
        params.append(inspect.Parameter(_REQUEST, inspect.Parameter.KEYWORD_ONLY,
                                        annotation=Request))
    public = signature.replace(parameters=params,
                               return_annotation=hints.get("return", signature.return_annotation))
    return public, request_name, decision_name


def _access(request: Request) -> GuardianAccess:
    access = getattr(request.app.state, "guardian", None)
    if not isinstance(access, GuardianAccess):
        raise RuntimeError("guardian_client.fastapi.install(app, client) was not called")
    return access


def _read(source: Header, request: Request) -> str | None:
    return source(request) if callable(source) else request.headers.get(source)


async def _customers(source: Customers, request: Request) -> tuple[str, ...]:
    if source is None:
        return ()
    if isinstance(source, str):
        return (str(request.path_params[source]),)
    found = source(request)
    if inspect.isawaitable(found):
        found = await found
    return (found,) if isinstance(found, str) else tuple(found)


def _client_ip(request: Request) -> str | None:
    """The employee's address, only if it is one (a test client's host is not)."""
    host = request.client.host if request.client else None
    try:
        return str(ipaddress.ip_address(host)) if host else None
    except ValueError:
        return None
