"""What an application sends to Guardian and what it gets back, as typed, frozen values.

:class:`DecisionRequest` is flat (who, what, which customers, why) and is turned into the nested
body of the HTTP contract by :meth:`DecisionRequest.to_wire`. It checks nothing itself: Guardian
is the one judge of its input, and a request it refuses becomes a deny (``client_error``), so
building a request from user input never raises. :class:`Decision` is Guardian's answer, or one
the client made up when it could not get an answer (``origin == "client"``): always a deny.
Unknown fields in answers are ignored, so a newer Guardian that adds to the contract still parses.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

MASK = "mask"
"""The obligation type whose ``fields`` the application must not show."""


class ClientReason(StrEnum):
    """Reason codes of denies the client makes itself, when Guardian gave no usable answer."""

    GUARDIAN_UNAVAILABLE = "guardian_unavailable"
    """No answer: connection refused or broken, timed out, or a 5xx after every retry."""
    CLIENT_ERROR = "client_error"
    """Guardian refused the request (a 4xx: invalid input, wrong API key, ...)."""
    INVALID_RESPONSE = "invalid_response"
    """An answer that is not the contract's (not JSON, wrong shape, wrong number of decisions)."""
    UNSUPPORTED_OBLIGATION = "unsupported_obligation"
    """A permit carried an obligation this application cannot fulfil, so it is not acted on."""
    AUTHENTICATION_REQUIRED = "authentication_required"
    """The integration found no subject in the incoming request (nothing to ask Guardian about)."""


class _Answer(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")


class Reason(_Answer):
    code: str
    message: str = ""
    customer_ids: tuple[str, ...] = ()


class Obligation(_Answer):
    type: str
    fields: tuple[str, ...] = ()


class AuditReceipt(_Answer):
    """Where Guardian's journal holds the decision: its sequence number and chained hash."""

    seq: int
    hash: str


class Decision(_Answer):
    decision_id: str | None = None
    decision: Literal["permit", "deny"]
    reasons: tuple[Reason, ...] = ()
    obligations: tuple[Obligation, ...] = ()
    policy_version: str | None = None
    audit: AuditReceipt | None = None
    origin: Literal["guardian", "client"] = "guardian"
    """``client`` for a deny made by the client itself (Guardian never saw or never answered)."""

    @property
    def permitted(self) -> bool:
        return self.decision == "permit"

    @property
    def reason_codes(self) -> tuple[str, ...]:
        return tuple(r.code for r in self.reasons)

    @property
    def masked_fields(self) -> frozenset[str]:
        """Every field named by a ``mask`` obligation."""
        return frozenset(f for o in self.obligations if o.type == MASK for f in o.fields)

    @classmethod
    def deny(cls, code: ClientReason, message: str) -> Decision:
        """A deny made by the client, never journalled by Guardian (no id, no receipt)."""
        return cls(decision="deny", reasons=(Reason(code=code.value, message=message),),
                   origin="client")


class DecisionRequest(BaseModel):
    """One question: may ``subject`` do ``action`` on ``database/category`` of these customers."""

    model_config = ConfigDict(frozen=True)

    subject: str
    action: str
    database: str
    category: str
    purpose: str
    customer_ids: tuple[str, ...] = ()
    session_token: str | None = Field(default=None, repr=False)
    """The employee's Guardian session; never shown in a ``repr`` (requests get logged)."""
    justification: str | None = None
    client_ip: str | None = None
    application: str | None = None
    """What the calling application says it is; Guardian records the key's application apart."""

    def to_wire(self, default_application: str | None = None) -> dict[str, Any]:
        subject: dict[str, Any] = {"id": self.subject}
        if self.session_token:
            subject["session_token"] = self.session_token
        body: dict[str, Any] = {
            "subject": subject,
            "action": self.action,
            "resource": {"database": self.database, "category": self.category,
                         "customer_ids": list(self.customer_ids)},
            "purpose": self.purpose,
        }
        if self.justification:
            body["justification"] = self.justification
        context: dict[str, Any] = {}
        if self.client_ip:
            context["client_ip"] = self.client_ip
        application = self.application or default_application
        if application:
            context["application"] = application
        if context:
            body["context"] = context
        return body


class Session(_Answer):
    """A signed-in employee's session: the token to pass as ``session_token``, and its claims."""

    token: str = Field(repr=False)
    user: str
    auth_time: str
    amr: tuple[str, ...]
    expires_at: str


def parse_batch(payload: Any, expected: int) -> Sequence[Decision]:
    """The decisions of a ``:batch`` answer; raises ``ValueError`` unless there are ``expected``."""
    if not isinstance(payload, dict) or not isinstance(payload.get("decisions"), list):
        raise ValueError("a batch answer must be an object with a list of decisions")
    decisions = [Decision.model_validate(item) for item in payload["decisions"]]
    if len(decisions) != expected:
        raise ValueError(f"asked {expected} decisions, got {len(decisions)}")
    return decisions
