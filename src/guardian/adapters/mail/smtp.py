"""Mail over SMTP, with the standard library's ``smtplib`` and ``email``.

One connection per mail: connect, ``STARTTLS`` (on by default unless the server is on
loopback; ``GUARDIAN_SMTP_STARTTLS`` says otherwise), log in when a username is set, send,
quit. A server that does not offer STARTTLS when it is required is refused (the password and
the report never travel in clear by accident). Every SMTP or socket error, and any recipient
the server refused, is :class:`~guardian.errors.DeliveryFailed`; its message names the host,
never the password (kept as ``SecretStr`` by the settings and only handed to ``login``).
"""

from __future__ import annotations

import ipaddress
import smtplib
import ssl
from dataclasses import dataclass, field
from email.message import EmailMessage

from guardian.errors import DeliveryFailed
from guardian.ports import OutgoingMail


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True, slots=True)
class SmtpConfig:
    host: str
    port: int = 587
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    starttls: bool | None = None
    """``None``: on unless ``host`` is loopback."""
    timeout_s: float = 30.0

    @property
    def uses_starttls(self) -> bool:
        return self.starttls if self.starttls is not None else not is_loopback(self.host)


def message_of(mail: OutgoingMail) -> EmailMessage:
    message = EmailMessage()
    message["From"] = mail.sender
    message["To"] = ", ".join(mail.recipients)
    message["Subject"] = mail.subject
    message.set_content(mail.text)
    if mail.html is not None:
        message.add_alternative(mail.html, subtype="html")
    for filename, content_type, data in mail.attachments:
        maintype, _, subtype = content_type.partition("/")
        message.add_attachment(data, maintype=maintype, subtype=subtype or "octet-stream",
                               filename=filename)
    return message


class SmtpMailer:
    """Implements :class:`guardian.ports.Mailer`."""

    def __init__(self, config: SmtpConfig) -> None:
        self.config = config

    def __repr__(self) -> str:
        return f"SmtpMailer(host={self.config.host!r}, port={self.config.port})"

    def send(self, mail: OutgoingMail) -> None:
        if not mail.recipients:
            raise DeliveryFailed("a mail needs at least one recipient")
        where = f"{self.config.host}:{self.config.port}"
        try:
            with smtplib.SMTP(self.config.host, self.config.port,
                              timeout=self.config.timeout_s) as smtp:
                self._secure_and_log_in(smtp, where)
                refused = smtp.send_message(message_of(mail))
        except smtplib.SMTPException as exc:
            raise DeliveryFailed(f"the mail server {where} refused the mail: "
                                 f"{_reason(exc)}") from exc
        except OSError as exc:
            raise DeliveryFailed(f"the mail server {where} cannot be reached: "
                                 f"{exc.strerror or type(exc).__name__}") from exc
        if refused:
            raise DeliveryFailed(f"the mail server {where} refused {len(refused)} of "
                                 f"{len(mail.recipients)} recipient(s)")

    def _secure_and_log_in(self, smtp: smtplib.SMTP, where: str) -> None:
        smtp.ehlo()
        if self.config.uses_starttls:
            if not smtp.has_extn("starttls"):
                raise DeliveryFailed(f"the mail server {where} does not offer STARTTLS "
                                     "(GUARDIAN_SMTP_STARTTLS=false to send in clear)")
            smtp.starttls(context=ssl.create_default_context())
            smtp.ehlo()
        if self.config.username:
            smtp.login(self.config.username, self.config.password or "")


def _reason(exc: smtplib.SMTPException) -> str:
    code = getattr(exc, "smtp_code", None)
    text = getattr(exc, "smtp_error", b"")
    said = text.decode("utf-8", "replace") if isinstance(text, bytes) else str(text)
    return f"{code} {said}".strip() if code else type(exc).__name__
