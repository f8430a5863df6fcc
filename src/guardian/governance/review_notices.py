"""Telling reviewers what waits for them: one mail per reviewer (through the ``Mailer`` port)
listing their pending items with the console link and the CLI command, and one webhook per
reviewer (through ``WebhookSender``: JSON, HMAC-signed body). Never for an empty inbox — the
caller passes only reviewers with pending items. What went out on which channel is returned, so
the caller records each notification with its time (audit event and the campaign's timeline);
a channel that failed is named ``<channel>-failed`` and does not stop the others.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from guardian.clock import iso_utc
from guardian.errors import GuardianError
from guardian.governance.review_model import Campaign, ReviewItem
from guardian.ports import Mailer, OutgoingMail, WebhookSender

MAX_LISTED = 200
"""Items listed in one mail; the rest are counted (the console shows them all)."""


@dataclass(frozen=True, slots=True)
class NoticeConfig:
    sender: str = "guardian@localhost"
    mail_domain: str | None = None
    """A reviewer's address is ``<uid>@<mail_domain>``; ``None``: no mail."""
    console_url: str = "http://127.0.0.1:8080/console/"
    webhook_url: str | None = None
    webhook_secret: bytes = b""


class ReviewNotifier:
    def __init__(self, config: NoticeConfig, *, mailer: Mailer | None = None,
                 webhook: WebhookSender | None = None) -> None:
        self.config = config
        self._mailer = mailer if config.mail_domain else None
        self._webhook = webhook if config.webhook_url else None

    @property
    def wanted(self) -> bool:
        return self._mailer is not None or self._webhook is not None

    def notify(self, campaign: Campaign, kind: str,
               pending: Mapping[str, Sequence[ReviewItem]]) -> dict[str, str]:
        """Reviewer → the channels their notice went out on (``email+webhook``, …)."""
        return {reviewer: self._one(campaign, kind, reviewer, items)
                for reviewer, items in sorted(pending.items()) if items}

    def _one(self, campaign: Campaign, kind: str, reviewer: str,
             items: Sequence[ReviewItem]) -> str:
        channels = []
        if self._mailer is not None:
            channels.append(_send(lambda: self._mail(campaign, kind, reviewer, items), "email"))
        if self._webhook is not None:
            channels.append(_send(lambda: self._post(campaign, kind, reviewer, items),
                                  "webhook"))
        return "+".join(channels) or "recorded"

    def _mail(self, campaign: Campaign, kind: str, reviewer: str,
              items: Sequence[ReviewItem]) -> None:
        assert self._mailer is not None
        c = self.config
        lines = [f"Hello {reviewer},", "",
                 f"{len(items)} access review item(s) wait for your decision in "
                 f"\"{campaign.name}\" (stage {campaign.stage}, due {iso_utc(campaign.due_at)}).",
                 ""]
        for item in items[:MAX_LISTED]:
            lines.append(f"  - {item.subject.uid} ({item.subject.name}): {item.access.kind.value} "
                         f"{item.access.role or item.access.ref} — recommended "
                         f"{item.recommendation.decision.value}")
        if len(items) > MAX_LISTED:
            lines.append(f"  … and {len(items) - MAX_LISTED} more")
        lines += ["", f"Decide in the console: {c.console_url}",
                  f"or with the CLI: guardian review inbox --campaign {campaign.id}", ""]
        subject = (f"[Guardian] {kind.split(':')[0]}: {len(items)} access review item(s) "
                   f"due {iso_utc(campaign.due_at)[:10]}")
        self._mailer.send(OutgoingMail(c.sender, (f"{reviewer}@{c.mail_domain}",), subject,
                                       "\n".join(lines)))

    def _post(self, campaign: Campaign, kind: str, reviewer: str,
              items: Sequence[ReviewItem]) -> None:
        assert self._webhook is not None and self.config.webhook_url is not None
        payload = {
            "type": "review.notification", "kind": kind, "reviewer": reviewer,
            "campaign": {"id": campaign.id, "name": campaign.name,
                         "definition": campaign.definition, "stage": campaign.stage,
                         "due_at": iso_utc(campaign.due_at)},
            "pending": len(items), "item_ids": [i.id for i in items[:MAX_LISTED]],
            "console_url": self.config.console_url,
        }
        self._webhook.post(self.config.webhook_url, payload, self.config.webhook_secret)


def _send(work: Callable[[], None], channel: str) -> str:
    try:
        work()
    except GuardianError:
        return f"{channel}-failed"  # recorded as such in the timeline and the audit event
    return channel
