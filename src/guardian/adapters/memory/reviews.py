"""An in-memory ``ReviewStore`` for unit tests: campaigns, items and revocations in dicts,
answering like the SQL store (newest campaign first, items by id, live campaigns only in a
reviewer's inbox)."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import replace

from guardian.governance.review_model import Campaign, CampaignState, Counts, ReviewItem, Revocation

_LIVE = (CampaignState.OPEN, CampaignState.CLOSING)


class MemoryReviews:
    def __init__(self) -> None:
        self.campaigns: dict[str, Campaign] = {}
        self.items: dict[str, ReviewItem] = {}
        self.revocations: dict[str, Revocation] = {}
        self.ended: dict[str, float] = {}
        self._lock = threading.Lock()

    def add_campaign(self, campaign: Campaign, items: Sequence[ReviewItem]) -> None:
        with self._lock:
            self.campaigns[campaign.id] = campaign
            self.items.update({i.id: i for i in items})

    def save_campaign(self, campaign: Campaign) -> None:
        self.campaigns[campaign.id] = campaign

    def get_campaign(self, campaign_id: str) -> Campaign | None:
        return self.campaigns.get(campaign_id)

    def list_campaigns(self, state: str | None = None) -> list[Campaign]:
        found = [c for c in self.campaigns.values() if state is None or c.state.value == state]
        return sorted(found, key=lambda c: (c.opened_at, c.id), reverse=True)

    def save_items(self, items: Sequence[ReviewItem]) -> None:
        with self._lock:
            self.items.update({i.id: i for i in items if i.id in self.items})

    def get_items(self, item_ids: Sequence[str]) -> list[ReviewItem]:
        return [self.items[i] for i in dict.fromkeys(item_ids) if i in self.items]

    def campaign_items(self, campaign_id: str) -> list[ReviewItem]:
        return sorted((i for i in self.items.values() if i.campaign_id == campaign_id),
                      key=lambda i: i.id)

    def reviewer_items(self, reviewer: str, *, campaign_id: str | None = None,
                       pending_only: bool = False, after_id: str | None = None,
                       limit: int = 100) -> list[ReviewItem]:
        live = {c.id for c in self.campaigns.values() if c.state in _LIVE}
        found = sorted((i for i in self.items.values()
                        if i.reviewer == reviewer and i.campaign_id in live
                        and (campaign_id is None or i.campaign_id == campaign_id)
                        and (not pending_only or i.decision is None)
                        and (after_id is None or i.id > after_id)), key=lambda i: i.id)
        return found[:limit]

    def counts(self, campaign_id: str) -> Counts:
        items = self.campaign_items(campaign_id)
        decided = [i.decision for i in items if i.decision is not None]
        keep = sum(1 for d in decided if d.decision.value == "keep")
        return Counts(len(items), len(items) - len(decided), keep, len(decided) - keep,
                      sum(1 for d in decided if d.defaulted))

    def add_revocations(self, revocations: Sequence[Revocation]) -> None:
        with self._lock:
            self.revocations.update({r.item_id: r for r in revocations})

    def end_revocation(self, item_id: str, at: float) -> None:
        if item_id in self.revocations and item_id not in self.ended:
            self.ended[item_id] = at

    def active_revocations(self) -> list[Revocation]:
        return sorted((r for k, r in self.revocations.items() if k not in self.ended),
                      key=lambda r: (r.at, r.item_id))

    def forget(self, campaign_id: str) -> None:
        """Tests: drop a campaign's items (to check what survives elsewhere)."""
        self.items = {k: replace(v) for k, v in self.items.items()
                      if v.campaign_id != campaign_id}
