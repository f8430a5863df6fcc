"""Temporary grants for security officers: ``POST/GET /v1/grants``, ``DELETE /v1/grants/{id}``.

Refusals of a grant, each with its code: 403 ``self_grant_forbidden`` (a grant to oneself), 422
``unknown_role`` (not a role of the policy), 422 ``role_not_grantable`` (a role without
permission rules, or an administrative one), 422 ``unknown_user``, 422 ``starts_at_in_past``
(more than a minute ago), 422 ``grant_too_long`` (past ``GUARDIAN_GRANT_MAX_S`` from now), 422
``invalid_request`` (an end not after the start), and 403 ``role_required`` /
``fresh_mfa_required`` from :func:`~guardian.api.deps.require_roles`.

``DELETE /v1/grants/{id}`` with ``{"reason": "..."}`` ends a grant at once (200, the revoked
grant): 404 ``grant_not_found``, 409 ``grant_already_revoked``.
"""

from __future__ import annotations

from typing import Annotated, Any

import anyio.to_thread
from fastapi import APIRouter, Path
from pydantic import AwareDatetime
from starlette.responses import JSONResponse

from guardian.api.deps import GuardianDep, SecurityOfficerDep
from guardian.api.schemas import Identifier, StrictBody, Text
from guardian.governance.grants import GrantRequest
from guardian.governance.model import TemporaryGrant

router = APIRouter(prefix="/v1/grants", tags=["governance"])


class GrantBody(StrictBody):
    uid: Identifier
    role: Identifier
    expires_at: AwareDatetime
    justification: Text
    starts_at: AwareDatetime | None = None


class RevokeBody(StrictBody):
    reason: Text


def render_grant(grant: TemporaryGrant) -> dict[str, Any]:
    return grant.as_dict()


@router.post("", status_code=201, summary="Grant a role of the policy to someone, for a while")
async def create_grant(body: GrantBody, guardian: GuardianDep, officer: SecurityOfficerDep
                       ) -> JSONResponse:
    request = GrantRequest(
        uid=body.uid, role=body.role, expires_at=body.expires_at.timestamp(),
        justification=body.justification,
        starts_at=body.starts_at.timestamp() if body.starts_at is not None else None)
    grant = await anyio.to_thread.run_sync(guardian.grants.grant, officer.uid, request)
    return JSONResponse(render_grant(grant), status_code=201)


@router.get("", summary="Temporary grants, past and present (optionally of one user)")
async def list_grants(guardian: GuardianDep, officer: SecurityOfficerDep,
                      uid: Identifier | None = None) -> dict[str, Any]:
    grants = await anyio.to_thread.run_sync(guardian.grants.list, uid)
    return {"grants": [render_grant(g) for g in grants]}


@router.delete("/{grant_id}", summary="Revoke a grant: it stops counting at once")
async def revoke_grant(grant_id: Annotated[Identifier, Path()], body: RevokeBody,
                       guardian: GuardianDep, officer: SecurityOfficerDep) -> dict[str, Any]:
    grant = await anyio.to_thread.run_sync(
        guardian.grants.revoke, officer.uid, grant_id, body.reason)
    return render_grant(grant)
