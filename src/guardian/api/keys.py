"""Application API keys for security officers: ``POST/GET /v1/keys``, ``DELETE /v1/keys/{id}``.

A key holds scopes (``"scopes": ["decide"]`` by default, ``["consent"]`` for the consent
system, or both). The clear key is in the answer to ``POST`` only (not cached); afterwards only
its id and name exist. The keys of the applications file are listed too (``"source": "file"``,
no creation time or author) and revoked the same way. Creating and revoking are audit events; a
revoked key is refused (401 ``invalid_api_key``) from the next request on.
"""

from __future__ import annotations

from typing import Annotated, Any

import anyio.to_thread
from fastapi import APIRouter
from pydantic import Field
from starlette.responses import JSONResponse

from guardian.api.deps import GuardianDep, SecurityOfficerDep
from guardian.api.schemas import Identifier, StrictBody
from guardian.governance.model import ApiKeyRecord, Scope

router = APIRouter(prefix="/v1/keys", tags=["governance"])


class KeyBody(StrictBody):
    name: Identifier
    scopes: Annotated[list[Scope], Field(min_length=1, max_length=2)] = [Scope.DECIDE]
    """``decide`` (the decision endpoints), ``consent`` (the consent endpoints)."""


def render_key(record: ApiKeyRecord) -> dict[str, Any]:
    return record.as_dict()


@router.post("", status_code=201, summary="Create an application API key (shown once)")
async def create_key(body: KeyBody, guardian: GuardianDep, officer: SecurityOfficerDep
                     ) -> JSONResponse:
    new = await anyio.to_thread.run_sync(guardian.api_keys.create, body.name, officer.uid,
                                         frozenset(body.scopes))
    return JSONResponse({**render_key(new.record), "key": new.key}, status_code=201,
                        headers={"Cache-Control": "no-store"})


@router.get("", summary="Every API key, the store's and the applications file's, revoked included")
async def list_keys(guardian: GuardianDep, officer: SecurityOfficerDep) -> dict[str, Any]:
    keys = await anyio.to_thread.run_sync(guardian.api_keys.list)
    return {"keys": [render_key(k) for k in keys]}


@router.delete("/{key_id}", summary="Revoke an API key (of the store or the applications file)")
async def revoke_key(key_id: str, guardian: GuardianDep, officer: SecurityOfficerDep
                     ) -> dict[str, Any]:
    record = await anyio.to_thread.run_sync(guardian.api_keys.revoke, key_id, officer.uid)
    return render_key(record)
