"""guardian-client: ask Guardian before touching customer personal data, and fail closed.

    from guardian_client import GuardianClient, DecisionRequest

    with GuardianClient("http://127.0.0.1:8000", api_key="demo-app-key") as guardian:
        session = guardian.sign_in("alice", "alice-demo-pass", otp)
        decision = guardian.decide(DecisionRequest(
            subject="alice", session_token=session.token, action="read", database="crm",
            category="contact", customer_ids=("C-1001",), purpose="customer-care"))
        if decision.permitted: ...

``decide`` and ``decide_many`` never raise: an error, a timeout or an answer that is not the
contract's is a deny whose reason code is a :class:`ClientReason`. FastAPI helpers are in
:mod:`guardian_client.fastapi` (``pip install 'guardian-client[fastapi]'``).
"""

from __future__ import annotations

from guardian_client._async import AsyncGuardianClient
from guardian_client._config import DEFAULT_LIMITS, DEFAULT_TIMEOUT, NO_RETRY, RetryPolicy
from guardian_client._errors import (
    AccountLocked,
    AuthenticationFailed,
    GuardianClientError,
    GuardianUnavailable,
    InvalidResponse,
    ObligationError,
    RequestRefused,
)
from guardian_client._models import (
    AuditReceipt,
    ClientReason,
    Decision,
    DecisionRequest,
    Obligation,
    Reason,
    Session,
)
from guardian_client._sync import GuardianClient
from guardian_client.obligations import apply_obligations, mask

__all__ = [
    "DEFAULT_LIMITS",
    "DEFAULT_TIMEOUT",
    "NO_RETRY",
    "AccountLocked",
    "AsyncGuardianClient",
    "AuditReceipt",
    "AuthenticationFailed",
    "ClientReason",
    "Decision",
    "DecisionRequest",
    "GuardianClient",
    "GuardianClientError",
    "GuardianUnavailable",
    "InvalidResponse",
    "Obligation",
    "ObligationError",
    "Reason",
    "RequestRefused",
    "RetryPolicy",
    "Session",
    "apply_obligations",
    "mask",
]
