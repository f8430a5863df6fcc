"""Request and response bodies of the HTTP contract (DESIGN.md), with their input limits.

Identifiers are 1–128 printable characters (no control, no invisible formatting characters such
as zero-width spaces or bidi marks); unknown fields are refused so that a misspelt field is an
error, not a silently ignored constraint. Customer ids are NFC-normalised and must match the
organisation's pattern, and a request naming no customer must be for a purpose declared bulk
and say what it covers: both need the server's rules, handed in as the validation context
(:class:`RequestRules`), so a variant of an id is refused here, never decided.
"""

from __future__ import annotations

import ipaddress
import re
import unicodedata
from dataclasses import dataclass
from typing import Annotated

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from guardian.policy.model import DecisionRequest
from guardian.policy.vocabulary import Action

# Control characters (C0, C1) and the invisible formatting characters a look-alike id hides in.
_INVISIBLE = "\u00ad\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u206f\ufeff\ufff9-\ufffb"
_PRINTABLE = rf"^[^\x00-\x1f\x7f-\x9f{_INVISIBLE}]+$"
Identifier = Annotated[
    str, StringConstraints(min_length=1, max_length=128, pattern=_PRINTABLE)
]
CustomerId = Annotated[str, StringConstraints(min_length=1, max_length=128)]
"""Checked against the organisation's pattern (after NFC) by :class:`Resource`."""
Text = Annotated[str, StringConstraints(min_length=1, max_length=1024, pattern=_PRINTABLE)]
Token = Annotated[str, StringConstraints(min_length=1, max_length=4096, pattern=r"^[!-~]+$")]
Otp = Annotated[str, StringConstraints(min_length=1, max_length=16, pattern=_PRINTABLE)]
_IP_CHARS = re.compile(r"[0-9A-Fa-f:.]{2,45}")
MAX_CUSTOMERS = 1000
MAX_BATCH = 1000
DEFAULT_CUSTOMER_ID_PATTERN = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


@dataclass(frozen=True, slots=True)
class RequestRules:
    """What validating a decision body needs from the server: the organisation's customer id
    pattern (matched in full, after NFC) and the purposes declared bulk in ``guardian.yaml``."""

    customer_id_pattern: re.Pattern[str] = DEFAULT_CUSTOMER_ID_PATTERN
    bulk_purposes: frozenset[str] = frozenset()


_DEFAULT_RULES = RequestRules()


def _rules(info: ValidationInfo) -> RequestRules:
    context = info.context
    return context if isinstance(context, RequestRules) else _DEFAULT_RULES


class StrictBody(BaseModel):
    """A request body that refuses unknown fields: a misspelt field is an error, not ignored."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Subject(StrictBody):
    id: Identifier
    session_token: Token | None = None


class Resource(StrictBody):
    database: Identifier
    category: Identifier
    customer_ids: Annotated[list[CustomerId], Field(max_length=MAX_CUSTOMERS)] = []
    scope: Text | None = None
    """What a bulk request covers (e.g. ``all customers of campaign X``), journalled."""

    @field_validator("customer_ids")
    @classmethod
    def _canonical_ids(cls, ids: list[str], info: ValidationInfo) -> list[str]:
        pattern = _rules(info).customer_id_pattern
        out = []
        for position, raw in enumerate(ids):
            value = unicodedata.normalize("NFC", raw)
            if pattern.fullmatch(value) is None:
                raise PydanticCustomError(
                    "invalid_customer_id",
                    "customer id #{position} '{value}' does not match the organisation's "
                    "pattern {pattern}", {"position": position, "value": value[:40],
                                          "pattern": pattern.pattern})
            out.append(value)
        return out


_CANONICAL_IPS: dict[str, str] = {}
"""Valid ``client_ip`` texts already seen → canonical form (``ipaddress`` costs microseconds a
request; an application's users come from a bounded set of addresses)."""
_CANONICAL_IPS_KEPT = 65_536


class Context(StrictBody):
    client_ip: Annotated[str, StringConstraints(max_length=64)] | None = None
    """The address of the person behind the application, as the application reports it."""
    application: Identifier | None = None
    """What the client says it is; journalled apart from the application its key proves."""

    @field_validator("client_ip")
    @classmethod
    def _canonical_ip(cls, value: str | None) -> str | None:
        # Only the characters of an address: no IPv6 zone id (``%...``), which ``ipaddress``
        # would take verbatim, newlines and all. Stored canonical (``2001:db8::1``).
        if value is None:
            return None
        known = _CANONICAL_IPS.get(value)
        if known is not None:
            return known
        try:
            if _IP_CHARS.fullmatch(value) is None:
                raise ValueError(value)
            canonical = str(ipaddress.ip_address(value))
        except ValueError:
            raise PydanticCustomError("invalid_client_ip",
                                      "client_ip is not an IPv4 or IPv6 address") from None
        if len(_CANONICAL_IPS) >= _CANONICAL_IPS_KEPT:
            _CANONICAL_IPS.clear()  # bounded: a flood of distinct addresses costs a re-parse
        _CANONICAL_IPS[value] = canonical
        return canonical


class DecisionBody(StrictBody):
    subject: Subject
    action: Action
    resource: Resource
    purpose: Identifier
    justification: Text | None = None
    context: Context = Context()

    @model_validator(mode="after")
    def _names_what_it_covers(self, info: ValidationInfo) -> DecisionBody:
        if self.resource.customer_ids:
            return self
        if self.purpose not in _rules(info).bulk_purposes:
            raise PydanticCustomError(
                "customers_required",
                "resource.customer_ids is empty: name the customers (purpose {purpose} is "
                "not declared bulk)", {"purpose": self.purpose})
        if self.resource.scope is None:
            raise PydanticCustomError(
                "bulk_scope_required",
                "a bulk request names what it covers in resource.scope", {})
        return self

    def to_request(self, application: str, key_id: str | None = None) -> DecisionRequest:
        return DecisionRequest(
            subject_id=self.subject.id,
            action=self.action,
            database=self.resource.database,
            category=self.resource.category,
            purpose=self.purpose,
            customer_ids=tuple(self.resource.customer_ids),
            session_token=self.subject.session_token,
            justification=self.justification,
            client_ip=self.context.client_ip,
            application=application,
            key_id=key_id,
            client_application=self.context.application,
            scope=self.resource.scope,
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

