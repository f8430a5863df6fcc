"""What time asks of access reviews, in one call: :meth:`ReviewClock.run_due`.

The server's review schedule (on the leader replica only) and ``guardian review run-due`` (for
cron users) call it. It opens a new campaign of each definition whose recurrence (``every:``)
has come round since its last campaign was opened — the first campaign of a definition is
opened by an officer, the clock keeps the rhythm from there, and never while one is still open
or held — then hands over to :meth:`ReviewClosing.run_due`: reminders (mailed and posted per
reviewer), stages past their deadline closed (the next stage's reviewers, the no-answer rules,
the brake), remediation checked against the directory and removals retried. Running it twice
for the same instant does nothing the second time: each reminder and each deadline is recorded
in the store before the next run reads it.
"""

from __future__ import annotations

from guardian.errors import CampaignStateConflict
from guardian.governance.review_closing import SYSTEM, ReviewClosing
from guardian.governance.review_model import Campaign, CampaignState
from guardian.governance.reviews import ReviewDeps, ReviewService

LIVE = (CampaignState.OPEN, CampaignState.CLOSING)


class ReviewClock:
    def __init__(self, deps: ReviewDeps, service: ReviewService, closing: ReviewClosing
                 ) -> None:
        self._d = deps
        self._service = service
        self._closing = closing

    def run_due(self, now: float) -> list[Campaign]:
        """Every campaign opened or changed by the passing of time up to ``now``."""
        latest: dict[str, Campaign] = {}
        for campaign in (*self.open_due(now), *self._closing.run_due(now)):
            latest[campaign.id] = campaign  # a campaign opened now is also told of at once
        return list(latest.values())

    def open_due(self, now: float) -> list[Campaign]:
        last: dict[str, Campaign] = {}
        live: set[str] = set()
        for campaign in self._d.store.list_campaigns():  # newest first
            last.setdefault(campaign.definition, campaign)
            if campaign.state in LIVE:
                live.add(campaign.definition)
        opened = []
        for name, definition in sorted(self._d.definitions().items()):
            previous = last.get(name)
            if previous is None or name in live:
                continue
            if definition.every.next_after(previous.opened_at) > now:
                continue
            try:
                campaign, _ = self._service.open(SYSTEM, name)
            except CampaignStateConflict:
                continue  # opened meanwhile (by an officer)
            opened.append(campaign)
        return opened
