"""Request and response bodies of the HTTP contract (DESIGN.md), with their input limits.

Identifiers are 1–128 printable characters (no control characters); unknown fields are refused
so that a misspelt field is an error, not a silently ignored constraint.
"""

from __future__ import annotations

from ipaddress import IPv4Address, IPv6Address
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from guardian.policy.model import DecisionRequest
from guardian.policy.vocabulary import Action

_PRINTABLE = r"^[^\x00-\x1f\x7f-\x9f]+$"
Identifier = Annotated[
    str, StringConstraints(min_length=1, max_length=128, pattern=_PRINTABLE)
]
Text = Annotated[str, StringConstraints(min_length=1, max_length=1024, pattern=_PRINTABLE)]
Token = Annotated[str, StringConstraints(min_length=1, max_length=4096, pattern=r"^[!-~]+$")]
Otp = Annotated[str, StringConstraints(min_length=1, max_length=16, pattern=_PRINTABLE)]
MAX_CUSTOMERS = 1000
MAX_BATCH = 1000


class StrictBody(BaseModel):
    """A request body that refuses unknown fields: a misspelt field is an error, not ignored."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Subject(StrictBody):
    id: Identifier
    session_token: Token | None = None


class Resource(StrictBody):
    database: Identifier
    category: Identifier
    customer_ids: Annotated[list[Identifier], Field(max_length=MAX_CUSTOMERS)] = []


class Context(StrictBody):
    client_ip: Annotated[IPv4Address | IPv6Address | None,
                         Field(union_mode="left_to_right")] = None
    application: Identifier | None = None


class DecisionBody(StrictBody):
    subject: Subject
    action: Action
    resource: Resource
    purpose: Identifier
    justification: Text | None = None
    context: Context = Context()

    def to_request(self, application: str) -> DecisionRequest:
        return DecisionRequest(
            subject_id=self.subject.id,
            action=self.action,
            database=self.resource.database,
            category=self.resource.category,
            purpose=self.purpose,
            customer_ids=tuple(self.resource.customer_ids),
            session_token=self.subject.session_token,
            justification=self.justification,
            client_ip=str(self.context.client_ip) if self.context.client_ip else None,
            application=self.context.application or application,
        )


class BatchBody(StrictBody):
    requests: Annotated[list[DecisionBody], Field(min_length=1, max_length=MAX_BATCH)]


class SignInBody(StrictBody):
    """``otp``, or ``recovery_code``, or ``invitation`` for someone with no second factor yet."""

    user: Identifier
    password: Annotated[str, StringConstraints(min_length=1, max_length=1024)]
    otp: Otp | None = None
    recovery_code: Annotated[str, StringConstraints(min_length=1, max_length=64,
                                                    pattern=_PRINTABLE)] | None = None
    invitation: Annotated[str, StringConstraints(min_length=1, max_length=64,
                                                 pattern=_PRINTABLE)] | None = None


class StepUpBody(StrictBody):
    otp: Otp
