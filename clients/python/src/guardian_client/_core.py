"""What the sync and async clients share: reading answers, and turning failures into denies.

The clients only differ in how they wait (``time.sleep`` or ``await``); everything that decides
whether an answer is usable lives here, once. Reading functions raise the typed errors of
:mod:`guardian_client._errors`; :func:`deny_for` turns any exception into a deny, which is how
``decide`` and ``decide_many`` fail closed.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import httpx
from pydantic import ValidationError

from guardian_client._errors import (
    AccountLocked,
    AuthenticationFailed,
    GuardianUnavailable,
    InvalidResponse,
    RequestRefused,
)
from guardian_client._models import ClientReason, Decision, Session, parse_batch

log = logging.getLogger("guardian_client")

DECISIONS = "/v1/decisions"
BATCH = "/v1/decisions:batch"
SESSIONS = "/v1/sessions"
STEP_UP = "/v1/sessions/step-up"
MAX_BATCH = 1000
"""Guardian's limit of requests in one ``:batch`` call; longer lists are sent in chunks."""


def retry_cause(outcome: httpx.Response | httpx.TransportError) -> str | None:
    """Why this attempt should be retried (a transport error or a 5xx), or ``None``."""
    if isinstance(outcome, httpx.TransportError):
        return f"{type(outcome).__name__}: {outcome}" if str(outcome) else type(outcome).__name__
    if outcome.status_code >= 500:
        return f"HTTP {outcome.status_code}"
    return None


def _json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError as exc:
        raise InvalidResponse(f"HTTP {response.status_code} answer is not JSON") from exc


def raise_for_refusal(response: httpx.Response) -> None:
    """Raise the typed error of a 4xx (or a leftover 5xx) answer; return on 2xx."""
    status = response.status_code
    if status < 400:
        return
    if status >= 500:
        raise GuardianUnavailable(f"HTTP {status}")
    try:
        error = response.json()["error"]
        code, message = str(error["code"]), str(error.get("message", ""))
    except (ValueError, KeyError, TypeError):
        code, message = f"http_{status}", response.reason_phrase
    kind = {401: AuthenticationFailed, 429: AccountLocked}.get(status, RequestRefused)
    raise kind(status, code, message)


def decision_of(response: httpx.Response) -> Decision:
    raise_for_refusal(response)
    try:
        return Decision.model_validate(_json(response))
    except ValidationError as exc:
        raise InvalidResponse(f"not a decision: {exc.error_count()} error(s)") from exc


def batch_of(response: httpx.Response, expected: int) -> Sequence[Decision]:
    raise_for_refusal(response)
    try:
        return parse_batch(_json(response), expected)
    except ValueError as exc:  # pydantic's ValidationError is a ValueError too
        raise InvalidResponse(f"not a batch of {expected} decisions: {exc}") from exc


def session_of(response: httpx.Response) -> Session:
    raise_for_refusal(response)
    try:
        return Session.model_validate(_json(response))
    except ValidationError as exc:
        raise InvalidResponse(f"not a session: {exc.error_count()} error(s)") from exc


def deny_for(exc: BaseException) -> Decision:
    """The deny that stands for a decision the client could not get; logged for operators."""
    if isinstance(exc, GuardianUnavailable):
        decision = Decision.deny(ClientReason.GUARDIAN_UNAVAILABLE,
                                 f"Guardian gave no answer: {exc}")
    elif isinstance(exc, RequestRefused):
        decision = Decision.deny(ClientReason.CLIENT_ERROR,
                                 f"Guardian refused the request: {exc}")
    elif isinstance(exc, InvalidResponse):
        decision = Decision.deny(ClientReason.INVALID_RESPONSE, str(exc))
    else:
        decision = Decision.deny(ClientReason.CLIENT_ERROR,
                                 f"the client failed: {type(exc).__name__}")
    log.warning("decision denied by the client", extra={
        "reason": decision.reasons[0].code, "detail": decision.reasons[0].message})
    return decision


def chunks(items: Sequence[Any], size: int = MAX_BATCH) -> list[Sequence[Any]]:
    return [items[i:i + size] for i in range(0, len(items), size)]


def unavailable(attempts: int, cause: str) -> GuardianUnavailable:
    return GuardianUnavailable(f"{cause} (after {attempts} attempt(s))")
