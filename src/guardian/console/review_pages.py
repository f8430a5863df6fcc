"""The reviewer's inbox (``/console/reviews``): their items in live campaigns, each with its
evidence and recommendation, kept or revoked one by one or in bulk.

Deciding is the API's use case (``guardian.reviews.service.decide``: only one's own items, in
an open stage, with a justification where the definition asks for one — all or nothing, one
journal append); the page parses the form, calls it and renders the inbox again (an htmx swap,
or a redirect without JavaScript). The gate is the API's: a reviewer's role (or officer, DPO,
auditor: fallback reviewers) with a fresh second factor, else the step-up page. Filters
(campaign, recommendation, person, pending/decided) only choose what is shown.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import anyio.to_thread
from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from guardian.api.errors import status_of
from guardian.api.reviews import INBOX_ROLES, ReviewDecisionBody
from guardian.bootstrap import Guardian, Reviews
from guardian.console.forms import read_form, read_multi, validated
from guardian.console.render import is_htmx, page
from guardian.console.review_views import RECOMMENDATIONS, SHOWN, matches, progress, rows
from guardian.console.session import require
from guardian.errors import ConfigurationError, GuardianError, InvalidRequest
from guardian.governance.review_model import ReviewItem, Verdict
from guardian.governance.reviews import DecisionInput

router = APIRouter(prefix="/console", include_in_schema=False)
PAGE = 1000
MOST = 5000
"""Most items one inbox shows (a reviewer with more filters by campaign)."""
FORM_FIELDS = 2 * MOST + 20


def reviews_of(guardian: Guardian) -> Reviews:
    if guardian.reviews is None:
        raise ConfigurationError("access reviews are not wired in this Guardian")
    return guardian.reviews


def _filters(request: Request) -> dict[str, str]:
    q = request.query_params
    campaign = q.get("campaign", "")
    recommendation = q.get("recommendation", "")
    shown = q.get("show", "pending")
    if campaign and (len(campaign) > 32 or not campaign.isalnum()):
        raise InvalidRequest("campaign: an id of letters and digits")
    if recommendation and recommendation not in RECOMMENDATIONS:
        raise InvalidRequest("recommendation: keep or revoke")
    if shown not in SHOWN:
        raise InvalidRequest("show: pending, decided or all")
    return {"campaign": campaign, "recommendation": recommendation,
            "person": q.get("person", "")[:128], "show": shown}


def _all_items(reviews: Reviews, uid: str) -> list[ReviewItem]:
    items: list[ReviewItem] = []
    after: str | None = None
    while len(items) < MOST:
        got = reviews.service.inbox(uid, after_id=after, limit=PAGE)
        items += got
        if len(got) < PAGE:
            break
        after = got[-1].id
    return items[:MOST]


def inbox_values(guardian: Guardian, uid: str, filters: dict[str, str]) -> dict[str, Any]:
    """Everything the inbox page shows (run off the event loop: it reads the store)."""
    reviews = reviews_of(guardian)
    items = _all_items(reviews, uid)
    campaigns = {cid: reviews.service.get(cid)[0] for cid in {i.campaign_id for i in items}}
    names = {cid: c.name for cid, c in campaigns.items()}
    definitions = {d.name: d for d in reviews.service.definitions()}
    all_rows = rows(items, names, definitions, {c: x.definition for c, x in campaigns.items()},
                    reviews.closing.high_levels())
    shown = [r for r in all_rows if (not filters["campaign"] or
                                     r.item.campaign_id == filters["campaign"])
             and matches(r, recommendation=filters["recommendation"] or None,
                         person=filters["person"] or None, shown=filters["show"])]
    query = urlencode({k: v for k, v in filters.items() if v})
    return {"rows": shown, "total": len(items), "progress": progress(items, names),
            "campaigns": sorted(names.items(), key=lambda kv: kv[1]), "filters": filters,
            "query": f"?{query}" if query else "", "truncated": len(items) >= MOST}


async def _render(request: Request, guardian: Guardian, uid: str, *, status: int = 200,
                  notice: str | None = None, error: str | None = None) -> Response:
    values = await anyio.to_thread.run_sync(inbox_values, guardian, uid, _filters(request))
    fragment = is_htmx(request)
    return page(request, guardian, "reviews_items.html" if fragment else "reviews.html",
                title="Your access reviews", status=status, fragment=fragment,
                notice=notice, error=error, **values)


@router.get("/reviews")
async def inbox(request: Request) -> Response:
    guardian: Guardian = request.app.state.guardian
    caller = require(request, guardian, INBOX_ROLES)
    done = request.query_params.get("done", "")
    notice = _done_notice(done) if done else None
    return await _render(request, guardian, caller.uid, notice=notice)


def _done_notice(done: str) -> str | None:
    keep, _, revoke = done.partition("-")
    if not (keep.isdigit() and revoke.isdigit()):
        return None
    return (f"Decided: {keep} kept, {revoke} revoked. You may change a decision until the "
            "stage closes.")


async def _decisions(request: Request, form: dict[str, str]) -> list[DecisionInput]:
    one = form.get("one", "")
    if one:
        verdict, _, item_id = one.partition(":")
        ids = [item_id]
    else:
        verdict = form.get("bulk", "")
        ids = await read_multi(request, "item", max_fields=FORM_FIELDS)
    if verdict not in RECOMMENDATIONS:
        raise InvalidRequest("choose Keep or Revoke")
    if not ids:
        raise InvalidRequest("select at least one item, then Keep or Revoke")
    shared = form.get("justification", "").strip()
    out = []
    for item_id in ids:
        body = validated(ReviewDecisionBody, {
            "item_id": item_id, "decision": verdict,
            "justification": form.get(f"j-{item_id}", "").strip() or shared})
        out.append(DecisionInput(body.item_id, Verdict(body.decision), body.justification))
    return out


@router.post("/reviews")
async def decide(request: Request) -> Response:
    guardian: Guardian = request.app.state.guardian
    form = await read_form(request, max_fields=FORM_FIELDS)
    caller = require(request, guardian, INBOX_ROLES)
    try:
        inputs = await _decisions(request, form)
        decided = await anyio.to_thread.run_sync(reviews_of(guardian).service.decide,
                                                 caller.uid, inputs)
    except GuardianError as exc:
        # An htmx swap shows the refusal in place (htmx swaps only 2xx answers).
        return await _render(request, guardian, caller.uid,
                             status=200 if is_htmx(request) else status_of(exc),
                             error=f"Nothing was decided: {exc.message} ({exc.code})")
    keep = sum(1 for i in decided if i.decision and i.decision.decision is Verdict.KEEP)
    done = f"{keep}-{len(decided) - keep}"
    if is_htmx(request):
        return await _render(request, guardian, caller.uid, notice=_done_notice(done))
    query = request.url.query
    return RedirectResponse(f"/console/reviews?{query}{'&' if query else ''}done={done}",
                            status_code=303)
