"""Mail over SMTP against a real SMTP server on loopback (aiosmtpd): the mail arrives with its
attachments, STARTTLS is on by default off loopback and required when asked, and a server
that is down or refuses is ``DeliveryFailed`` without the password in sight."""

from __future__ import annotations

import pytest

from delivery_support import Inbox, free_port, smtp_inbox  # noqa: F401 - fixture
from guardian.adapters.mail.smtp import SmtpConfig, SmtpMailer
from guardian.errors import DeliveryFailed
from guardian.ports import OutgoingMail

MAIL = OutgoingMail(
    sender="guardian@bank.test", recipients=("judy@bank.test", "dpo@bank.test"),
    subject="Report", text="See attached.", html="<p>See attached.</p>",
    attachments=(("r.pdf", "application/pdf", b"%PDF-1.7 fake"),
                 ("r.json", "application/json", b'{"a": 1}')))


def test_a_mail_arrives_with_its_attachments(smtp_inbox: Inbox) -> None:  # noqa: F811
    SmtpMailer(SmtpConfig("127.0.0.1", smtp_inbox.port)).send(MAIL)

    [mail] = smtp_inbox.mails
    assert smtp_inbox.envelopes == [("guardian@bank.test", ["judy@bank.test", "dpo@bank.test"])]
    assert mail["Subject"] == "Report"
    files = {p.get_filename(): (p.get_content_type(), p.get_content())
             for p in mail.iter_attachments()}
    assert files["r.pdf"] == ("application/pdf", b"%PDF-1.7 fake")
    assert files["r.json"][0] == "application/json"


def test_starttls_is_on_by_default_except_on_loopback() -> None:
    assert SmtpConfig("smtp.bank.test").uses_starttls
    assert not SmtpConfig("127.0.0.1").uses_starttls and not SmtpConfig("::1").uses_starttls
    assert not SmtpConfig("smtp.bank.test", starttls=False).uses_starttls


def test_starttls_required_but_not_offered_is_refused_before_anything_is_sent(
    smtp_inbox: Inbox,  # noqa: F811
) -> None:
    mailer = SmtpMailer(SmtpConfig("127.0.0.1", smtp_inbox.port, username="guardian",
                                   password="s3cret-smtp-pass", starttls=True))
    with pytest.raises(DeliveryFailed, match="STARTTLS") as caught:
        mailer.send(MAIL)

    assert smtp_inbox.mails == [] and "s3cret-smtp-pass" not in caught.value.message
    assert "s3cret-smtp-pass" not in repr(mailer) + repr(mailer.config)


def test_a_server_that_is_down_is_delivery_failed() -> None:
    with pytest.raises(DeliveryFailed, match="cannot be reached"):
        SmtpMailer(SmtpConfig("127.0.0.1", free_port(), timeout_s=5)).send(MAIL)
