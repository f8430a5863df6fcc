"""Access review campaigns for security officers (and, reading, auditors and the DPO):
the list, opening one from a definition, and a campaign's page — progress by reviewer (an SVG
chart), overdue reviewers and a reminder to them, closing the stage, confirming a campaign its
brake holds, cancelling, checking remediation against the directory, signing off, the
remediation list and the signed evidence in every format.

Every action is the API's use case (``guardian.reviews.service`` / ``closing`` /
``reminders`` / ``evidence``), gated by the API's roles with a fresh second factor: reading by
officers, auditors and the DPO; changes by officers; sign-off by an officer or the DPO who
reviewed nothing in the campaign (the service refuses anyone else, ``not_independent``).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import anyio.to_thread
import orjson
from fastapi import APIRouter, Path, Query
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from guardian.api.deps import OFFICER_ROLES
from guardian.api.reviews import (
    CAMPAIGN_READERS,
    CAMPAIGN_SIGNERS,
    OpenBody,
    ReasonBody,
    _render_evidence,
    remediation_rows,
)
from guardian.bootstrap import Guardian
from guardian.console.forms import read_form, read_multi, validated
from guardian.console.progress_chart import chart, tally
from guardian.console.render import page
from guardian.console.review_pages import reviews_of
from guardian.console.session import require, visitor_of
from guardian.errors import ConfigurationError
from guardian.governance.review_model import CampaignState
from guardian.governance.review_reminders import overdue, reminders_start

router = APIRouter(prefix="/console", include_in_schema=False)
CampaignId = Annotated[str, Path(min_length=1, max_length=32, pattern=r"^[0-9A-Za-z]+$")]
STATES = tuple(s.value for s in CampaignState)
DONE = {"opened": "Campaign opened: its reviewers are told, and their inboxes hold their items.",
        "closed": "Stage closed.", "confirmed": "Confirmed: the no-answer rules are applied.",
        "cancelled": "Campaign cancelled.", "reminded": "Reminders sent and recorded.",
        "checked": "Remediation checked against the directory.",
        "signed": "Signed off: the campaign is closed."}


def _guardian(request: Request) -> Guardian:
    guardian: Guardian = request.app.state.guardian
    return guardian


@router.get("/campaigns")
async def campaigns(request: Request, state: Annotated[Literal[
        "open", "closing", "remediating", "awaiting-sign-off", "closed", "cancelled"] | None,
        Query()] = None) -> Response:
    guardian = _guardian(request)
    require(request, guardian, CAMPAIGN_READERS)
    reviews = reviews_of(guardian)

    def load() -> dict[str, Any]:
        return {"found": reviews.service.campaigns(state),
                "definitions": reviews.service.definitions()}

    values = await anyio.to_thread.run_sync(load)
    visitor = visitor_of(request, guardian)
    return page(request, guardian, "campaigns.html", title="Access review campaigns",
                state=state or "", states=STATES, officer=bool(visitor and visitor.may(
                    OFFICER_ROLES)), **values)


@router.post("/campaigns")
async def open_campaign(request: Request) -> Response:
    guardian = _guardian(request)
    form = await read_form(request)
    officer = require(request, guardian, OFFICER_ROLES)
    body = validated(OpenBody, {"definition": form.get("definition", "")})
    campaign, _ = await anyio.to_thread.run_sync(reviews_of(guardian).service.open,
                                                 officer.uid, body.definition)
    return RedirectResponse(f"/console/campaigns/{campaign.id}?done=opened", status_code=303)


def campaign_values(guardian: Guardian, campaign_id: str) -> dict[str, Any]:
    reviews = reviews_of(guardian)
    campaign, counts = reviews.service.get(campaign_id)
    items = reviews.service.items(campaign.id)
    definition = {d.name: d for d in reviews.service.definitions()}.get(campaign.definition)
    reminders = definition.stages[campaign.stage - 1].reminders if definition else ()
    late = overdue(campaign, items, reminders, guardian.clock.now())
    remediation = remediation_rows(items)
    defaulted = [i for i in items if i.decision is not None and i.decision.defaulted]
    return {"campaign": campaign, "counts": counts, "late": late,
            "reminders_from": reminders_start(campaign, reminders),
            "chart": chart(tally(items, campaign.stage), late), "remediation": remediation,
            "defaulted": defaulted, "notices": list(reversed(campaign.notifications))[:30],
            "decided_pct": round(100 * (counts.items - counts.pending) / counts.items)
            if counts.items else 100}


@router.get("/campaigns/{campaign_id}")
async def campaign_page(request: Request, campaign_id: CampaignId) -> Response:
    guardian = _guardian(request)
    require(request, guardian, CAMPAIGN_READERS)
    values = await anyio.to_thread.run_sync(campaign_values, guardian, campaign_id)
    visitor = visitor_of(request, guardian)
    done = DONE.get(request.query_params.get("done", ""))
    return page(request, guardian, "campaign.html", title=values["campaign"].name,
                notice=done, officer=bool(visitor and visitor.may(OFFICER_ROLES)),
                signer=bool(visitor and visitor.may(CAMPAIGN_SIGNERS)), **values)


def _back(campaign_id: str, done: str) -> Response:
    return RedirectResponse(f"/console/campaigns/{campaign_id}?done={done}", status_code=303)


@router.post("/campaigns/{campaign_id}/close")
async def close(request: Request, campaign_id: CampaignId) -> Response:
    guardian = _guardian(request)
    await read_form(request)
    officer = require(request, guardian, OFFICER_ROLES)
    await anyio.to_thread.run_sync(reviews_of(guardian).closing.close, officer.uid, campaign_id)
    return _back(campaign_id, "closed")


@router.post("/campaigns/{campaign_id}/confirm")
async def confirm(request: Request, campaign_id: CampaignId) -> Response:
    guardian = _guardian(request)
    await read_form(request)
    officer = require(request, guardian, OFFICER_ROLES)
    await anyio.to_thread.run_sync(reviews_of(guardian).closing.confirm, officer.uid,
                                   campaign_id)
    return _back(campaign_id, "confirmed")


@router.post("/campaigns/{campaign_id}/cancel")
async def cancel(request: Request, campaign_id: CampaignId) -> Response:
    guardian = _guardian(request)
    form = await read_form(request)
    officer = require(request, guardian, OFFICER_ROLES)
    body = validated(ReasonBody, {"reason": form.get("reason", "")})
    await anyio.to_thread.run_sync(reviews_of(guardian).service.cancel, officer.uid,
                                   campaign_id, body.reason)
    return _back(campaign_id, "cancelled")


@router.post("/campaigns/{campaign_id}/remind")
async def remind(request: Request, campaign_id: CampaignId) -> Response:
    guardian = _guardian(request)
    await read_form(request)
    officer = require(request, guardian, OFFICER_ROLES)
    chosen = await read_multi(request, "reviewer")
    reminders = reviews_of(guardian).reminders
    if reminders is None:
        raise ConfigurationError("reminders are not wired in this Guardian")
    await anyio.to_thread.run_sync(reminders.remind, officer.uid, campaign_id, chosen or None)
    return _back(campaign_id, "reminded")


@router.post("/campaigns/{campaign_id}/verify")
async def verify(request: Request, campaign_id: CampaignId) -> Response:
    guardian = _guardian(request)
    await read_form(request)
    caller = require(request, guardian, CAMPAIGN_READERS)
    await anyio.to_thread.run_sync(reviews_of(guardian).closing.verify, caller.uid,
                                   campaign_id)
    return _back(campaign_id, "checked")


@router.post("/campaigns/{campaign_id}/sign-off")
async def sign_off(request: Request, campaign_id: CampaignId) -> Response:
    guardian = _guardian(request)
    await read_form(request)
    caller = require(request, guardian, CAMPAIGN_SIGNERS)
    await anyio.to_thread.run_sync(reviews_of(guardian).closing.sign_off, caller.uid,
                                   campaign_id)
    return _back(campaign_id, "signed")


@router.get("/campaigns/{campaign_id}/report")
async def evidence(request: Request, campaign_id: CampaignId,
                   format: Literal["json", "html", "csv", "pdf"] = "pdf") -> Response:
    """The signed evidence report, always as a download (an HTML report's own styles would
    break the console's CSP as a page)."""
    guardian = _guardian(request)
    caller = require(request, guardian, CAMPAIGN_READERS)

    def work() -> dict[str, Any]:
        r = reviews_of(guardian)
        campaign, counts = r.service.get(campaign_id)
        return r.evidence.produce(caller.uid, campaign, counts, r.service.items(campaign.id),
                                  format)

    doc = await anyio.to_thread.run_sync(work)
    name = f"guardian-campaign-{campaign_id}"
    if format == "json":
        response = Response(orjson.dumps(doc), media_type="application/json")
    else:
        response = await anyio.to_thread.run_sync(_render_evidence, doc, format, name)
    extension = {"csv": "-csv.zip"}.get(format, f".{format}")
    response.headers["Content-Disposition"] = f'attachment; filename="{name}{extension}"'
    return response


@router.get("/campaigns/{campaign_id}/remediation")
async def remediation(request: Request, campaign_id: CampaignId,
                      format: Literal["json", "csv"] = "csv") -> Response:
    from guardian.api.reviews import remediation as api_remediation

    guardian = _guardian(request)
    caller = require(request, guardian, CAMPAIGN_READERS)
    return await api_remediation(campaign_id, guardian, caller, format)
