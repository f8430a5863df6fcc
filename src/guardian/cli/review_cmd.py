"""``guardian review``: access review campaigns from the command line.

``definitions``, ``open``, ``list``, ``show``, ``close``, ``confirm``, ``sign-off``,
``cancel``, ``run-due`` for officers; ``inbox`` and ``decide`` for a reviewer (``--actor``).
The same use cases as ``/v1/campaigns`` and ``/v1/reviews``, with the same refusals (their codes
are printed, exit 2). Every change is an audit event, so the journal must be writable: while a
server holds it, use the HTTP API instead. Listings take ``--output table|json|csv``.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape

from guardian.cli.common import built, fail
from guardian.cli.output import Column, Output, OutputOption, render
from guardian.governance.review_model import Campaign, Counts, ReviewItem, Verdict
from guardian.governance.reviews import DecisionInput

app = typer.Typer(no_args_is_help=True, help="Access reviews: campaigns, inbox, decisions.")
console = Console(soft_wrap=True)
Actor = Annotated[str, typer.Option("--actor", help="Who does this, for the audit trail")]
CampaignId = Annotated[str, typer.Argument(help="The campaign's id (guardian review list)")]

DEFINITION_COLUMNS = (Column("name"), Column("title"), Column("kind"), Column("every"),
                      Column("roles"), Column("reviewer"), Column("version", in_table=False))
CAMPAIGN_COLUMNS = (
    Column("id", whole=True), Column("definition"),
    Column("state", styles={"open": "green", "closing": "yellow", "closed": "dim",
                            "cancelled": "red"}),
    Column("stage"), Column("due_at", "due", whole=True), Column("items"),
    Column("pending"), Column("keep"), Column("revoke"), Column("defaulted"),
    Column("opened_by", in_table=False), Column("snapshot_hash", in_table=False),
)
ITEM_COLUMNS = (
    Column("id", whole=True), Column("uid", "person"), Column("access"), Column("permits"),
    Column("last_used", "last used"), Column("recommendation", "suggests",
                                              styles={"keep": "green", "revoke": "red"}),
    Column("reasons"), Column("decision", styles={"keep": "green", "revoke": "red"}),
    Column("reviewer", in_table=False), Column("remediation", in_table=False),
)


def _campaign_row(pair: tuple[Campaign, Counts]) -> dict[str, Any]:
    campaign, counts = pair
    data = campaign.as_dict(counts)
    return {**data, **data.pop("counts")}


def _item_row(item: ReviewItem) -> dict[str, Any]:
    data = item.as_dict()
    return {"id": item.id, "uid": item.subject.uid,
            "access": f"{item.access.kind.value} {item.access.role or item.access.ref}",
            "permits": item.usage.permits, "last_used": data["usage"]["last_used_at"] or "never",
            "recommendation": item.recommendation.decision.value,
            "reasons": [r.value for r in item.recommendation.reasons],
            "decision": item.decision.decision.value if item.decision else "",
            "reviewer": item.reviewer or "",
            "remediation": item.remediation.state.value if item.remediation else ""}


def _reviews(guardian: Any) -> Any:
    if guardian.reviews is None:
        fail("access reviews are not wired")
    return guardian.reviews


@app.command()
def definitions(output: OutputOption = Output.TABLE) -> None:
    """The review definitions of policies/reviews/*.yaml that lint clean."""
    with built() as guardian:
        found = _reviews(guardian).service.definitions()
    rows = [{**d.as_dict(), "roles": list(d.scope.roles),
             "reviewer": [s["reviewer"] for s in d.as_dict()["stages"]]} for d in found]
    render(rows, DEFINITION_COLUMNS, output, empty="no review definitions")


@app.command("open")
def open_(definition: Annotated[str, typer.Argument(help="A definition's name")],
          actor: Actor = "cli", output: OutputOption = Output.TABLE) -> None:
    """Open a campaign: freeze who holds what, gather usage evidence, assign reviewers."""
    with built() as guardian:
        pair = _reviews(guardian).service.open(actor, definition)
    render([_campaign_row(pair)], CAMPAIGN_COLUMNS, output)


@app.command("list")
def list_(state: Annotated[str | None, typer.Option(help="Only campaigns in this state")] = None,
          output: OutputOption = Output.TABLE) -> None:
    """Campaigns, newest first, with their counts."""
    with built() as guardian:
        found = _reviews(guardian).service.campaigns(state)
    render([_campaign_row(p) for p in found], CAMPAIGN_COLUMNS, output, empty="no campaigns")


@app.command()
def show(campaign_id: CampaignId, output: OutputOption = Output.TABLE) -> None:
    """One campaign and every item in it."""
    with built() as guardian:
        service = _reviews(guardian).service
        pair = service.get(campaign_id)
        items = service.items(campaign_id)
    if output is Output.TABLE:
        render([_campaign_row(pair)], CAMPAIGN_COLUMNS, output)
    render([_item_row(i) for i in items], ITEM_COLUMNS, output, empty="no items")


def _changed(campaign: Campaign) -> None:
    console.print(f"campaign {campaign.id}: [bold]{escape(campaign.state.value)}[/]"
                  + (f" (held: {campaign.held})" if campaign.held else ""))


@app.command()
def close(campaign_id: CampaignId, actor: Actor = "cli") -> None:
    """Close the current stage: the last applies the no-answer rules (or holds at the brake)."""
    with built() as guardian:
        _changed(_reviews(guardian).closing.close(actor, campaign_id))


@app.command()
def confirm(campaign_id: CampaignId, actor: Actor = "cli") -> None:
    """Apply a campaign its brake holds (state closing)."""
    with built() as guardian:
        _changed(_reviews(guardian).closing.confirm(actor, campaign_id))


@app.command("sign-off")
def sign_off(campaign_id: CampaignId, actor: Actor = "cli") -> None:
    """Sign a remediated campaign off (an officer or the DPO who reviewed nothing in it)."""
    with built() as guardian:
        _changed(_reviews(guardian).closing.sign_off(actor, campaign_id))


@app.command()
def cancel(campaign_id: CampaignId,
           reason: Annotated[str, typer.Option("--reason", "-r", help="Why")],
           actor: Actor = "cli") -> None:
    """Cancel an open or held campaign."""
    with built() as guardian:
        _changed(_reviews(guardian).service.cancel(actor, campaign_id, reason))


@app.command("run-due")
def run_due() -> None:
    """Do once what the clock asks: campaigns due by their recurrence, reminders, deadlines,
    remediation checks and retries (for cron; skipped while a server replica leads it)."""
    with built() as guardian:
        reviews, leader = _reviews(guardian), guardian.leader
        if leader is not None and not leader.try_acquire("reviews"):
            console.print("another Guardian process leads the review clock: nothing done")
            return
        try:
            clock = reviews.clock
            changed = clock.run_due(guardian.clock.now()) if clock is not None \
                else reviews.closing.run_due(guardian.clock.now())
        finally:
            if leader is not None:
                leader.release("reviews")
    for campaign in changed:
        _changed(campaign)
    if not changed:
        console.print("nothing due")


@app.command()
def inbox(actor: Annotated[str, typer.Option("--actor", help="The reviewer")],
          campaign: Annotated[str | None, typer.Option(help="Only this campaign")] = None,
          pending: Annotated[bool, typer.Option(help="Only items not decided yet")] = False,
          output: OutputOption = Output.TABLE) -> None:
    """A reviewer's own items in open campaigns, with evidence and recommendation."""
    with built() as guardian:
        items = _reviews(guardian).service.inbox(actor, campaign_id=campaign,
                                                 pending_only=pending, limit=1000)
    render([_item_row(i) for i in items], ITEM_COLUMNS, output, empty="inbox empty")


@app.command()
def decide(item_ids: Annotated[list[str], typer.Argument(help="Item ids (guardian review inbox)")],
           actor: Annotated[str, typer.Option("--actor", help="The reviewer")],
           keep: Annotated[bool, typer.Option("--keep/--revoke", help="Keep or revoke")] = True,
           justification: Annotated[str | None, typer.Option("--justification", "-j")] = None,
           output: OutputOption = Output.TABLE) -> None:
    """Keep or revoke items (all in one step: all decided, or none)."""
    verdict = Verdict.KEEP if keep else Verdict.REVOKE
    with built() as guardian:
        items = _reviews(guardian).service.decide(
            actor, [DecisionInput(i, verdict, justification) for i in item_ids])
    render([_item_row(i) for i in items], ITEM_COLUMNS, output)
