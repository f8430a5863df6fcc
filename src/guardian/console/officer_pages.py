"""Security officers' pages: temporary grants (give, list, revoke), application keys (create —
the key shown once —, list, revoke), invitations to enrol a first factor, and the policy in
force.

Every change goes through the service the API calls (``guardian.grants``, ``guardian.api_keys``,
``guardian.mfa.invitations``), which validates and journals it; the page only parses the form
and renders the answer. Pages that show a secret are never cached.
"""

from __future__ import annotations

from typing import Annotated, Any

import anyio.to_thread
from fastapi import APIRouter, Path
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from guardian.api.deps import OFFICER_ROLES
from guardian.api.grants import RevokeBody
from guardian.api.keys import KeyBody
from guardian.api.mfa import InvitationBody
from guardian.api.schemas import Identifier, StrictBody, Text
from guardian.bootstrap import Guardian
from guardian.console.forms import read_form, read_multi, validated
from guardian.console.render import is_htmx, page
from guardian.console.session import require
from guardian.governance.grants import GrantRequest, grantable_roles

router = APIRouter(prefix="/console", include_in_schema=False)
DURATIONS = {"1h": ("1 hour", 3600), "8h": ("8 hours", 8 * 3600), "1d": ("1 day", 86400),
             "3d": ("3 days", 3 * 86400), "7d": ("7 days", 7 * 86400)}
GrantId = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[0-9A-Za-z_-]+$")]


class GrantForm(StrictBody):
    uid: Identifier
    role: Identifier
    duration: str
    justification: Text


def _guardian(request: Request) -> Guardian:
    guardian: Guardian = request.app.state.guardian
    return guardian


async def _grants_page(request: Request, guardian: Guardian, *, status: int = 200,
                       notice: str | None = None, error: str | None = None) -> Response:
    grants = await anyio.to_thread.run_sync(guardian.grants.list, None)
    now = guardian.clock.now()
    active = [g for g in grants if not g.revoked and g.expires_at > now]
    past = [g for g in grants if g not in active]
    values: dict[str, Any] = {
              "active": active, "past": past[:200], "notice": notice, "error": error,
              "roles": sorted(grantable_roles(guardian.policy.definition)),
              "people": sorted(p.uid for p in guardian.directory.principals() if p.active),
              "durations": DURATIONS}
    if is_htmx(request):
        return page(request, guardian, "grants_table.html", title="Grants", status=status,
                    fragment=True, **values)
    return page(request, guardian, "grants.html", title="Grants", status=status, **values)


@router.get("/grants")
async def grants(request: Request) -> Response:
    guardian = _guardian(request)
    require(request, guardian, OFFICER_ROLES)
    return await _grants_page(request, guardian, notice=_notice(request))


@router.post("/grants")
async def give_grant(request: Request) -> Response:
    guardian = _guardian(request)
    form = await read_form(request)
    officer = require(request, guardian, OFFICER_ROLES)
    body = validated(GrantForm, form)
    if body.duration not in DURATIONS:
        return await _grants_page(request, guardian, status=422,
                                  error="Choose how long the grant lasts.")
    grant_request = GrantRequest(uid=body.uid, role=body.role,
                                 expires_at=guardian.clock.now() + DURATIONS[body.duration][1],
                                 justification=body.justification)
    grant = await anyio.to_thread.run_sync(guardian.grants.grant, officer.uid, grant_request)
    return RedirectResponse(f"/console/grants?done=granted&id={grant.id}", status_code=303)


@router.post("/grants/{grant_id}/revoke")
async def revoke_grant(request: Request, grant_id: GrantId) -> Response:
    guardian = _guardian(request)
    form = await read_form(request)
    officer = require(request, guardian, OFFICER_ROLES)
    body = validated(RevokeBody, {"reason": form.get("reason", "")})
    await anyio.to_thread.run_sync(guardian.grants.revoke, officer.uid, grant_id, body.reason)
    if is_htmx(request):
        return await _grants_page(request, guardian, notice=f"Grant {grant_id} revoked.")
    return RedirectResponse(f"/console/grants?done=revoked&id={grant_id}", status_code=303)


def _notice(request: Request) -> str | None:
    done, ident = request.query_params.get("done"), request.query_params.get("id", "")[:64]
    if done == "granted":
        return f"Grant {ident} given: it counts in decisions now."
    if done == "revoked":
        return f"Grant {ident} revoked: it no longer counts in any decision."
    if done == "key-revoked":
        return f"Key {ident} revoked: it is refused from the next request on."
    return None


async def _keys_page(request: Request, guardian: Guardian) -> Response:
    keys = await anyio.to_thread.run_sync(guardian.api_keys.list)
    return page(request, guardian, "keys.html", title="Application keys", keys=keys,
                notice=_notice(request))


@router.get("/keys")
async def keys(request: Request) -> Response:
    guardian = _guardian(request)
    require(request, guardian, OFFICER_ROLES)
    return await _keys_page(request, guardian)


@router.post("/keys")
async def create_key(request: Request) -> Response:
    guardian = _guardian(request)
    form = await read_form(request)
    officer = require(request, guardian, OFFICER_ROLES)
    scopes = await read_multi(request, "scopes") or ["decide"]
    body = validated(KeyBody, {"name": form.get("name", ""), "scopes": scopes})
    new = await anyio.to_thread.run_sync(guardian.api_keys.create, body.name, officer.uid,
                                         frozenset(body.scopes))
    return page(request, guardian, "key_created.html", title="Key created", record=new.record,
                key=new.key)


@router.post("/keys/{key_id}/revoke")
async def revoke_key(request: Request, key_id: GrantId) -> Response:
    guardian = _guardian(request)
    await read_form(request)
    officer = require(request, guardian, OFFICER_ROLES)
    await anyio.to_thread.run_sync(guardian.api_keys.revoke, key_id, officer.uid)
    return RedirectResponse(f"/console/keys?done=key-revoked&id={key_id}", status_code=303)


@router.get("/invitations")
async def invitations(request: Request) -> Response:
    guardian = _guardian(request)
    require(request, guardian, OFFICER_ROLES)
    return page(request, guardian, "invitations.html", title="Invitations", invitation=None,
                people=sorted(p.uid for p in guardian.directory.principals() if p.active))


@router.post("/invitations")
async def invite(request: Request) -> Response:
    guardian = _guardian(request)
    form = await read_form(request)
    officer = require(request, guardian, OFFICER_ROLES)
    body = validated(InvitationBody, {"user": form.get("user", "")})
    invitation = await anyio.to_thread.run_sync(guardian.mfa.invitations.invite, officer.uid,
                                                body.user)
    return page(request, guardian, "invitations.html", title="Invitations",
                invitation=invitation, people=[])


@router.get("/policy")
async def policy(request: Request) -> Response:
    guardian = _guardian(request)
    require(request, guardian, OFFICER_ROLES)
    definition = guardian.policy.definition
    rules = sorted(definition.rules, key=lambda r: (r.role, r.database, r.category, r.action))
    return page(request, guardian, "policy.html", title="Policy in force",
                definition=definition, rules=rules,
                purposes=sorted(definition.purposes.values(), key=lambda p: p.name))
