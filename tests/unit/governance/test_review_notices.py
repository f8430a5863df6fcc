"""Notices to reviewers: one mail and one signed webhook per reviewer with pending items, only
on the channels configured; a failed channel is named ``<channel>-failed`` and the others still
go out; long inboxes are listed up to ``MAX_LISTED``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from guardian.errors import DeliveryFailed
from guardian.governance.review_model import (
    Access,
    AccessKind,
    AssignedBy,
    Assignment,
    Campaign,
    CampaignState,
    RecoCode,
    Recommendation,
    ReviewItem,
    Subject,
    Usage,
    Verdict,
)
from guardian.governance.review_notices import MAX_LISTED, NoticeConfig, ReviewNotifier
from guardian.ports import OutgoingMail

NOW = 1_796_000_000.0
CAMPAIGN = Campaign(id="camp-1", name="CRM access, quarterly", definition="crm-quarterly",
                    kind="membership", state=CampaignState.OPEN, stage=1, opened_at=NOW,
                    due_at=NOW + 14 * 86400, opened_by="ivan", snapshot_hash="sha256:x",
                    definition_version="sha256:y")
CONFIG = NoticeConfig(mail_domain="example.test", webhook_url="http://127.0.0.1:9/hook",
                      webhook_secret=b"s" * 32, console_url="http://127.0.0.1:8080/console/")


class Mailer:
    def __init__(self, fail: bool = False) -> None:
        self.sent: list[OutgoingMail] = []
        self.fail = fail

    def send(self, mail: OutgoingMail) -> None:
        if self.fail:
            raise DeliveryFailed("smtp said no")
        self.sent.append(mail)


class Webhook:
    def __init__(self, fail: bool = False) -> None:
        self.posted: list[tuple[str, Mapping[str, Any], bytes]] = []
        self.fail = fail

    def post(self, url: str, payload: Mapping[str, Any], secret: bytes) -> None:
        if self.fail:
            raise DeliveryFailed("502")
        self.posted.append((url, payload, secret))


def _item(n: int, uid: str = "alice") -> ReviewItem:
    return ReviewItem(
        id=f"item-{n}", campaign_id="camp-1", stage=1,
        subject=Subject(uid, uid.title(), "employee", "nina", True),
        access=Access(AccessKind.ROLE, "billing", "ldap"), usage=Usage(90),
        recommendation=Recommendation(Verdict.REVOKE, (RecoCode.NEVER_USED,)),
        assignment=Assignment("nina", AssignedBy.MANAGER, NOW, 1))


def test_each_reviewer_with_pending_items_gets_a_mail_and_a_webhook() -> None:
    mailer, webhook = Mailer(), Webhook()
    notifier = ReviewNotifier(CONFIG, mailer=mailer, webhook=webhook)
    sent = notifier.notify(CAMPAIGN, "opened", {"oscar": [_item(2, "bob")], "nina": [_item(1)],
                                                "peggy": []})
    assert sent == {"nina": "email+webhook", "oscar": "email+webhook"}
    first = mailer.sent[0]
    assert first.recipients == ("nina@example.test",) and first.sender == "guardian@localhost"
    assert first.subject == "[Guardian] opened: 1 access review item(s) due 2026-12-14"
    assert "alice (Alice): role billing — recommended revoke" in first.text
    assert "guardian review inbox --campaign camp-1" in first.text
    assert CONFIG.console_url in first.text
    url, payload, secret = webhook.posted[0]
    assert url == CONFIG.webhook_url and secret == CONFIG.webhook_secret
    assert payload["type"] == "review.notification" and payload["reviewer"] == "nina"
    assert payload["pending"] == 1 and payload["item_ids"] == ["item-1"]
    assert payload["campaign"]["id"] == "camp-1"


def test_a_failed_channel_is_named_and_does_not_stop_the_other() -> None:
    notifier = ReviewNotifier(CONFIG, mailer=Mailer(fail=True), webhook=Webhook())
    assert notifier.notify(CAMPAIGN, "reminder", {"nina": [_item(1)]}) == {
        "nina": "email-failed+webhook"}
    notifier = ReviewNotifier(CONFIG, mailer=Mailer(), webhook=Webhook(fail=True))
    assert notifier.notify(CAMPAIGN, "reminder", {"nina": [_item(1)]}) == {
        "nina": "email+webhook-failed"}


def test_unconfigured_channels_send_nothing_and_the_notice_is_only_recorded() -> None:
    mailer, webhook = Mailer(), Webhook()
    notifier = ReviewNotifier(NoticeConfig(), mailer=mailer, webhook=webhook)
    assert not notifier.wanted
    assert notifier.notify(CAMPAIGN, "opened", {"nina": [_item(1)]}) == {"nina": "recorded"}
    assert mailer.sent == [] and webhook.posted == []
    assert ReviewNotifier(CONFIG, webhook=webhook).wanted


def test_a_long_inbox_lists_the_first_items_and_counts_the_rest() -> None:
    mailer, webhook = Mailer(), Webhook()
    items = [_item(n) for n in range(MAX_LISTED + 5)]
    ReviewNotifier(CONFIG, mailer=mailer, webhook=webhook).notify(
        CAMPAIGN, "escalated:2", {"nina": items})
    text = mailer.sent[0].text
    assert text.count("  - alice") == MAX_LISTED and "… and 5 more" in text
    assert mailer.sent[0].subject.startswith("[Guardian] escalated: 205 access review")
    assert len(webhook.posted[0][1]["item_ids"]) == MAX_LISTED
    assert webhook.posted[0][1]["pending"] == MAX_LISTED + 5
