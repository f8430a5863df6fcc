"""Consent from the consent system: ``PUT /v1/customers/{id}/consents/{purpose}`` and
``GET /v1/customers/{id}/consents`` (the state per purpose and the whole history).

Recording needs an API key with the ``consent`` scope; reading, such a key or a signed-in
auditor or DPO (with a fresh second factor). The customer id and purpose are checked by the
service (422 ``invalid_customer_id``, ``unknown_purpose``, ``consent_not_needed``), which
journals the change before storing it; the next decision in this process counts it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import anyio.to_thread
from fastapi import APIRouter, Depends, Header, Path
from pydantic import StrictBool, StringConstraints

from guardian.api.deps import GuardianDep, key_holder, require_roles, require_session
from guardian.api.schemas import StrictBody
from guardian.errors import InvalidConsent
from guardian.governance.consent import MAX_SOURCE, ConsentCaller
from guardian.governance.model import Scope
from guardian.identity.authorisation import Caller
from guardian.policy.vocabulary import AdminRole

router = APIRouter(prefix="/v1/customers", tags=["consent"])

PathText = Annotated[str, Path(min_length=1, max_length=256)]
_officers = require_roles(AdminRole.AUDITOR, AdminRole.DPO)


class ConsentBody(StrictBody):
    granted: StrictBool
    source: Annotated[str, StringConstraints(min_length=1, max_length=MAX_SOURCE)]
    at: Annotated[str, StringConstraints(min_length=10, max_length=40)] | None = None
    """When the customer gave or withdrew it (ISO 8601); default: now."""


async def consent_system(
    guardian: GuardianDep, x_api_key: Annotated[str | None, Header(alias="X-API-Key")] = None,
) -> ConsentCaller:
    holder = key_holder(guardian, x_api_key, Scope.CONSENT)
    return ConsentCaller(holder.application, holder.application, holder.key_id)


ConsentSystemDep = Annotated[ConsentCaller, Depends(consent_system)]


async def consent_reader(
    guardian: GuardianDep,
    x_api_key: Annotated[str | None, Header(alias="X-API-Key")] = None,
    authorization: Annotated[str | None, Header()] = None,
) -> str:
    """A ``consent`` key, else a signed-in auditor or DPO: who reads."""
    if x_api_key is not None or authorization is None:
        return key_holder(guardian, x_api_key, Scope.CONSENT).application
    session = await require_session(guardian, authorization)
    caller: Caller = await _officers(guardian, session)
    return caller.uid


@router.put("/{customer_id}/consents/{purpose}",
            summary="Record that a customer gave or withdrew consent (consent-scoped key)")
async def put_consent(customer_id: PathText, purpose: PathText, body: ConsentBody,
                      guardian: GuardianDep, caller: ConsentSystemDep) -> dict[str, Any]:
    at = _instant(body.at) if body.at is not None else None
    change = await anyio.to_thread.run_sync(
        lambda: guardian.consent.record(customer_id, purpose, body.granted, body.source,
                                        caller, at=at))
    return {"customer_id": change.customer_id, **change.as_dict()}


@router.get("/{customer_id}/consents",
            summary="A customer's consent per purpose and its history (consent key, auditor, DPO)")
async def get_consents(customer_id: PathText, guardian: GuardianDep,
                       reader: Annotated[str, Depends(consent_reader)]) -> dict[str, Any]:
    consents = await anyio.to_thread.run_sync(guardian.consent.consents_of, customer_id)
    return consents.as_dict()


def _instant(text: str) -> float:
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidConsent("at is not an ISO 8601 instant") from None
    if parsed.tzinfo is None:
        raise InvalidConsent("at needs a time zone (e.g. 2026-11-30T09:12:00Z)")
    return parsed.timestamp()
