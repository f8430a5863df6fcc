"""The review clock's settings fail closed at start: a webhook without its signing secret, one
half of the LDAP write account, a mail domain without a mail server, a write account without
an LDAP directory."""

from __future__ import annotations

from pathlib import Path

import pytest

from support import demo_settings


@pytest.mark.parametrize(("settings", "message"), [
    ({"review_webhook_url": "http://127.0.0.1:9/hook"}, "GUARDIAN_REVIEW_WEBHOOK_SECRET"),
    ({"review_webhook_url": "http://127.0.0.1:9/hook", "review_webhook_secret": "short"},
     "at least 16"),
    ({"ldap_write_bind_dn": "cn=w,dc=x"}, "go together"),
    ({"ldap_write_bind_dn": "cn=w,dc=x", "ldap_write_password": "p"},
     "GUARDIAN_DIRECTORY=ldap"),
    ({"review_mail_domain": "example.com"}, "GUARDIAN_SMTP_HOST"),
])
def test_incomplete_review_settings_are_refused(tmp_path: Path, settings: dict[str, object],
                                                message: str) -> None:
    with pytest.raises(ValueError, match=message):
        demo_settings(tmp_path, **settings)


def test_the_review_clock_runs_by_default_without_any_channel(tmp_path: Path) -> None:
    s = demo_settings(tmp_path)
    assert s.reviews_schedule and s.review_webhook_url is None and s.ldap_write_bind_dn is None
