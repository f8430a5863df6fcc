"""Access reviews over HTTP: campaigns for officers (and auditors and the DPO to read), the
reviewer's inbox and decisions.

``POST /v1/campaigns`` (officer) opens a campaign; ``GET /v1/campaigns[?state=]`` and ``GET
/v1/campaigns/{id}`` (officer, auditor, DPO) show them with their counts; ``POST
/v1/campaigns/{id}:close`` (officer) closes the current stage (the last: no-answer rules, then
remediation; past the brake the campaign holds in ``closing``), ``:confirm`` applies a held
campaign, ``:cancel`` (``{"reason"}``) cancels one, ``:sign-off`` (officer or DPO who reviewed
nothing in it) closes it for good. ``GET /v1/campaigns/{id}/remediation?format=json|csv`` is
the remediation list; ``POST /v1/campaigns/{id}/items/{item}:restore`` (officer,
``{"justification"}``) gives a revoked role back. ``GET /v1/reviews`` is the signed-in
reviewer's own items, ``POST /v1/reviews:decide`` decides them in bulk, ``POST
/v1/reviews/{item}:reassign`` (``{"to", "reason"}``) hands one to someone else.

Errors: 403 ``not_your_item``, 409 ``stage_closed``, 422 ``justification_required``, 404
``campaign_not_found`` / ``item_not_found`` / ``definition_not_found``, 409 ``campaign_state``,
403 ``not_independent``, 422 ``reviewer_ineligible``, and the 401/403 of ``require_roles``
(every endpoint needs a fresh second factor).
"""

from __future__ import annotations

import csv
import io
from typing import Annotated, Any, Literal

import anyio.to_thread
import orjson
from fastapi import APIRouter, Depends, Path, Query
from pydantic import AwareDatetime, Field, StringConstraints
from starlette.responses import JSONResponse, Response

from guardian.api.deps import GuardianDep, SecurityOfficerDep, require_roles
from guardian.api.schemas import Identifier, StrictBody, Text
from guardian.bootstrap import Guardian, Reviews
from guardian.errors import ConfigurationError
from guardian.governance.review_model import Campaign, Counts, ReviewItem, Verdict
from guardian.governance.reviews import MAX_BULK, DecisionInput
from guardian.identity.authorisation import Caller
from guardian.policy.vocabulary import AdminRole

campaigns = APIRouter(prefix="/v1/campaigns", tags=["reviews"])
reviews = APIRouter(prefix="/v1/reviews", tags=["reviews"])

CAMPAIGN_READERS = frozenset({AdminRole.SECURITY_OFFICER, AdminRole.AUDITOR, AdminRole.DPO})
CAMPAIGN_SIGNERS = frozenset({AdminRole.SECURITY_OFFICER, AdminRole.DPO})
INBOX_ROLES = frozenset({AdminRole.REVIEWER, AdminRole.SECURITY_OFFICER, AdminRole.DPO,
                         AdminRole.AUDITOR})
"""Who may have review items (and so an inbox): the console's gates are these too."""
ReaderDep = Annotated[Caller, Depends(require_roles(*CAMPAIGN_READERS))]
SignerDep = Annotated[Caller, Depends(require_roles(*CAMPAIGN_SIGNERS))]
ReviewerDep = Annotated[Caller, Depends(require_roles(*INBOX_ROLES))]
Id = Annotated[str, Path(min_length=1, max_length=32, pattern=r"^[0-9A-Za-z]+$")]
QueryId = Annotated[str, StringConstraints(min_length=1, max_length=32, pattern=r"^[0-9A-Za-z]+$")]
_NO_STORE = {"Cache-Control": "no-store"}


def _reviews(guardian: Guardian) -> Reviews:
    if guardian.reviews is None:
        raise ConfigurationError("access reviews are not wired in this Guardian")
    return guardian.reviews


def _campaign(pair: tuple[Campaign, Counts]) -> dict[str, Any]:
    campaign, counts = pair
    out = campaign.as_dict(counts)
    if campaign.proposal:
        out["proposal"] = campaign.proposal
        if campaign.proposal_problems is not None:
            out["proposal_check"] = {"passed": not campaign.proposal_problems,
                                     "problems": list(campaign.proposal_problems)}
    return out


class OpenBody(StrictBody):
    definition: Identifier


class ReasonBody(StrictBody):
    reason: Text


class JustificationBody(StrictBody):
    justification: Text


class ReviewDecisionBody(StrictBody):
    item_id: QueryId
    decision: Literal["keep", "revoke"]
    justification: Text | None = None
    until: AwareDatetime | None = None


class DecideBody(StrictBody):
    decisions: Annotated[list[ReviewDecisionBody], Field(min_length=1, max_length=MAX_BULK)]


class ReassignBody(StrictBody):
    to: Identifier
    reason: Text


@campaigns.post("", status_code=201, summary="Open a campaign of a review definition")
async def open_campaign(body: OpenBody, guardian: GuardianDep, officer: SecurityOfficerDep
                        ) -> JSONResponse:
    opened = await anyio.to_thread.run_sync(_reviews(guardian).service.open, officer.uid,
                                            body.definition)
    return JSONResponse(_campaign(opened), status_code=201)


@campaigns.get("", summary="Campaigns, newest first (optionally in one state)")
async def list_campaigns(guardian: GuardianDep, caller: ReaderDep,
                         state: Annotated[str | None, Query(max_length=32)] = None
                         ) -> dict[str, Any]:
    found = await anyio.to_thread.run_sync(_reviews(guardian).service.campaigns, state)
    return {"campaigns": [_campaign(c) for c in found]}


@campaigns.get("/{campaign_id}", summary="One campaign with its counts")
async def get_campaign(campaign_id: Id, guardian: GuardianDep, caller: ReaderDep
                       ) -> dict[str, Any]:
    return _campaign(await anyio.to_thread.run_sync(_reviews(guardian).service.get,
                                                    campaign_id))


async def _after(guardian: Guardian, campaign: Campaign) -> dict[str, Any]:
    counts = await anyio.to_thread.run_sync(
        lambda: _reviews(guardian).service.get(campaign.id)[1])
    return _campaign((campaign, counts))


@campaigns.post("/{campaign_id}:close", summary="Close the current stage (the last: no-answer "
                "rules, brake, remediation)")
async def close_campaign(campaign_id: Id, guardian: GuardianDep, officer: SecurityOfficerDep
                         ) -> dict[str, Any]:
    closed = await anyio.to_thread.run_sync(_reviews(guardian).closing.close, officer.uid,
                                            campaign_id)
    return await _after(guardian, closed)


@campaigns.post("/{campaign_id}:confirm", summary="Apply a campaign held by its brake")
async def confirm_campaign(campaign_id: Id, guardian: GuardianDep, officer: SecurityOfficerDep
                           ) -> dict[str, Any]:
    done = await anyio.to_thread.run_sync(_reviews(guardian).closing.confirm, officer.uid,
                                          campaign_id)
    return await _after(guardian, done)


@campaigns.post("/{campaign_id}:cancel", summary="Cancel an open or held campaign")
async def cancel_campaign(campaign_id: Id, body: ReasonBody, guardian: GuardianDep,
                          officer: SecurityOfficerDep) -> dict[str, Any]:
    done = await anyio.to_thread.run_sync(_reviews(guardian).service.cancel, officer.uid,
                                          campaign_id, body.reason)
    return await _after(guardian, done)


@campaigns.post("/{campaign_id}:sign-off", summary="Sign off (an officer or DPO who reviewed "
                "nothing in it)")
async def sign_off_campaign(campaign_id: Id, guardian: GuardianDep, caller: SignerDep
                            ) -> dict[str, Any]:
    done = await anyio.to_thread.run_sync(_reviews(guardian).closing.sign_off, caller.uid,
                                          campaign_id)
    return await _after(guardian, done)


@campaigns.post("/{campaign_id}/items/{item_id}:restore",
                summary="Give back a role a review revoked, with a justification")
async def restore_item(campaign_id: Id, item_id: Id, body: JustificationBody,
                       guardian: GuardianDep, officer: SecurityOfficerDep) -> dict[str, Any]:
    item = await anyio.to_thread.run_sync(_reviews(guardian).closing.restore, officer.uid,
                                          item_id, body.justification)
    return item.as_dict(with_history=True)


REMEDIATION_COLUMNS = ("item_id", "uid", "access", "role", "ref", "state", "revoked_at",
                       "updated_at", "note")


def remediation_rows(items: list[ReviewItem]) -> list[dict[str, Any]]:
    rows = []
    for i in items:
        if i.remediation is None:
            continue
        rem = i.remediation.as_dict()
        rows.append({"item_id": i.id, "uid": i.subject.uid, "access": i.access.kind.value,
                     "role": i.access.role, "ref": i.access.ref, "state": rem["state"],
                     "revoked_at": rem["revoked_at"], "updated_at": rem["updated_at"],
                     "note": rem["note"]})
    return rows


@campaigns.get("/{campaign_id}/remediation", summary="What the directory must still drop")
async def remediation(campaign_id: Id, guardian: GuardianDep, caller: ReaderDep,
                      format: Literal["json", "csv"] = "json") -> Response:
    def work() -> list[dict[str, Any]]:
        r = _reviews(guardian)
        r.closing.verify(caller.uid, campaign_id)
        return remediation_rows(r.service.items(campaign_id))

    rows = await anyio.to_thread.run_sync(work)
    if format == "json":
        return JSONResponse({"campaign_id": campaign_id, "items": rows}, headers=_NO_STORE)
    out = io.StringIO()
    writer = csv.DictWriter(out, REMEDIATION_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return Response(out.getvalue(), media_type="text/csv; charset=utf-8", headers={
        **_NO_STORE, "Content-Disposition":
        f'attachment; filename="guardian-remediation-{campaign_id}.csv"'})


@campaigns.get("/{campaign_id}/report", summary="The campaign's signed evidence report")
async def evidence_report(campaign_id: Id, guardian: GuardianDep, caller: ReaderDep,
                          format: Literal["json", "html", "csv", "pdf"] = "json") -> Response:
    def work() -> dict[str, Any]:
        r = _reviews(guardian)
        campaign, counts = r.service.get(campaign_id)
        return r.evidence.produce(caller.uid, campaign, counts, r.service.items(campaign.id),
                                  format)

    doc = await anyio.to_thread.run_sync(work)
    name = f"guardian-campaign-{campaign_id}"
    if format == "json":
        return Response(orjson.dumps(doc), media_type="application/json", headers={
            **_NO_STORE, "Content-Disposition": f'attachment; filename="{name}.json"'})
    return await anyio.to_thread.run_sync(_render_evidence, doc, format, name)


def _render_evidence(doc: dict[str, Any], format: str, name: str) -> Response:
    from guardian.reports.periodic_render import csv_zip
    from guardian.reports.review_evidence import evidence_html

    if format == "csv":
        return Response(csv_zip(doc), media_type="application/zip", headers={
            **_NO_STORE, "Content-Disposition": f'attachment; filename="{name}-csv.zip"'})
    html = evidence_html(doc)
    if format == "html":
        return Response(html, media_type="text/html; charset=utf-8", headers=_NO_STORE)
    from guardian.bootstrap import html_to_pdf

    return Response(html_to_pdf(html), media_type="application/pdf", headers={
        **_NO_STORE, "Content-Disposition": f'attachment; filename="{name}.pdf"'})


@reviews.get("", summary="The signed-in reviewer's own items")
async def inbox(guardian: GuardianDep, caller: ReviewerDep,
                campaign: Annotated[QueryId | None, Query()] = None,
                state: Annotated[Literal["pending", "all"], Query()] = "all",
                cursor: Annotated[QueryId | None, Query()] = None,
                limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> dict[str, Any]:
    page = await anyio.to_thread.run_sync(lambda: _reviews(guardian).service.inbox(
        caller.uid, campaign_id=campaign, pending_only=state == "pending", after_id=cursor,
        limit=limit + 1))
    more = len(page) > limit
    page = page[:limit]
    return {"items": [i.as_dict() for i in page],
            "next_cursor": page[-1].id if more and page else None}


@reviews.post(":decide", summary="Decide one's items (keep or revoke), in bulk")
async def decide(body: DecideBody, guardian: GuardianDep, caller: ReviewerDep
                 ) -> dict[str, Any]:
    inputs = [DecisionInput(d.item_id, Verdict(d.decision), d.justification,
                            d.until.timestamp() if d.until is not None else None)
              for d in body.decisions]
    items = await anyio.to_thread.run_sync(_reviews(guardian).service.decide, caller.uid,
                                           inputs)
    return {"items": [i.as_dict() for i in items]}


@reviews.post("/{item_id}:reassign", summary="Hand an item to someone else, with a reason")
async def reassign(item_id: Id, body: ReassignBody, guardian: GuardianDep,
                   caller: ReviewerDep) -> dict[str, Any]:
    officer = AdminRole.SECURITY_OFFICER.value in caller.roles
    item = await anyio.to_thread.run_sync(lambda: _reviews(guardian).service.reassign(
        caller.uid, item_id, body.to, body.reason, officer=officer))
    return item.as_dict()
