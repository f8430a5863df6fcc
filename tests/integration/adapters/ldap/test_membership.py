"""Access review remediation against the shared slapd, in a private sandbox holding the demo
organisation (managers read from ``manager``): with the LDAP write account, a revoked
membership is removed from the group by Guardian (``removed``) and the next sync verifies it
(``verified``); a write account without rights leaves it ``failed`` (escalated, retried) until
a sync shows it gone; without a write account it waits on the remediation list."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from ldap3 import BASE, MODIFY_ADD, MODIFY_DELETE, Connection, Server
from ldap3.core.exceptions import LDAPInsufficientAccessRightsResult

from guardian.bootstrap import Guardian, build
from guardian.clock import ManualClock
from guardian.governance.review_model import CampaignState, RemediationState, Verdict
from guardian.governance.reviews import DecisionInput
from ldap_support import LdapSandbox, add_writer, load_demo_ldif
from support import ROOT

pytestmark = pytest.mark.integration
DAY = 86400.0
WRITER_PASSWORD = "writer-test-pass-0123"


@pytest.fixture
def box(ldap_url: str) -> Iterator[LdapSandbox]:
    sandbox = LdapSandbox(ldap_url)
    try:
        load_demo_ldif(sandbox, ROOT / "policies/demo/demo.ldif")
        sandbox.add_member("marketing", "alice")  # a groupOfNames keeps one member at least
        yield sandbox
    finally:
        sandbox.remove()


def _members(box: LdapSandbox, cn: str) -> list[str]:
    box.admin.search(box.group_dn(cn), "(objectClass=*)", BASE, attributes=["member"])
    return [str(v) for v in box.admin.entries[0]["member"].values]


def _revoke_daves_marketing(g: Guardian) -> str:
    """Open crm-quarterly; dave's marketing revoked, everything else kept; close."""
    assert g.reviews is not None and g.directory_sync is not None
    g.directory_sync.sync(force=True)  # what start-up does before serving
    campaign, _ = g.reviews.service.open("ivan", "crm-quarterly")
    by_reviewer: dict[str, list[DecisionInput]] = {}
    dave = ""
    for item in g.reviews.service.items(campaign.id):
        assert item.reviewer is not None
        if (item.subject.uid, item.access.role) == ("dave", "marketing"):
            dave = item.id
            choice = DecisionInput(item.id, Verdict.REVOKE)
        else:
            choice = DecisionInput(item.id, Verdict.KEEP, "still needed for the daily work")
        by_reviewer.setdefault(item.reviewer, []).append(choice)
    for reviewer, decisions in by_reviewer.items():
        g.reviews.service.decide(reviewer, decisions)
    assert g.reviews.closing.close("ivan", campaign.id).state is CampaignState.REMEDIATING
    assert g.reviews.revocations.revoked_roles("dave") == {"marketing": campaign.id}
    return dave


def _state(g: Guardian, item_id: str) -> RemediationState:
    assert g.reviews is not None
    (item,) = g.reviews.service._d.store.get_items([item_id])
    assert item.remediation is not None
    return item.remediation.state


def _writer_acl_loaded(box: LdapSandbox, dn: str) -> bool:
    conn = Connection(Server(box.url), dn, WRITER_PASSWORD, auto_bind=True,
                      raise_exceptions=True)
    try:
        conn.modify(box.group_dn("marketing"),
                    {"member": [(MODIFY_ADD, [box.user_dn("bob")])]})
        conn.modify(box.group_dn("marketing"),
                    {"member": [(MODIFY_DELETE, [box.user_dn("bob")])]})
        return True
    except LDAPInsufficientAccessRightsResult:
        return False
    finally:
        conn.unbind()


@pytest.mark.parametrize("account", ["sandbox-writer", "admin"])
def test_a_revoked_membership_is_removed_by_the_write_account_and_verified_by_the_next_sync(
    box: LdapSandbox, tmp_path: Path, account: str
) -> None:
    if account == "admin":
        dn, password = os.environ["GUARDIAN_TEST_LDAP_ADMIN_DN"], \
            os.environ["GUARDIAN_TEST_LDAP_ADMIN_PASSWORD"]
    else:
        dn, password = add_writer(box, WRITER_PASSWORD), WRITER_PASSWORD
        if not _writer_acl_loaded(box, dn):
            pytest.skip("slapd runs without the write-account ACL of scripts/services.sh "
                        "(restart slapd to load it)")
    g = build(box.settings(tmp_path, ldap_write_bind_dn=dn, ldap_write_password=password,
                           reports_schedule="off"), clock=ManualClock(1_796_000_000.0), prepare=True)
    try:
        dave = _revoke_daves_marketing(g)

        assert _state(g, dave) is RemediationState.REMOVED
        assert box.user_dn("dave") not in _members(box, "marketing")
        assert box.user_dn("alice") in _members(box, "marketing")  # only dave's went
        assert g.reviews is not None and g.reviews.clock is not None
        g.reviews.clock.run_due(g.clock.now())
        assert _state(g, dave) is RemediationState.REMOVED  # the snapshot still shows it

        assert g.directory_sync is not None
        g.directory_sync.sync(force=True)
        g.reviews.clock.run_due(g.clock.now())

        assert _state(g, dave) is RemediationState.VERIFIED
        assert g.reviews.revocations.revoked_roles("dave") == {}
    finally:
        g.close()


def test_a_write_account_without_rights_fails_then_a_sync_showing_it_gone_verifies(
    box: LdapSandbox, tmp_path: Path
) -> None:
    box.add_user("no-rights", password=WRITER_PASSWORD)  # reads, may not write
    g = build(box.settings(tmp_path, ldap_write_bind_dn=box.user_dn("no-rights"),
                           ldap_write_password=WRITER_PASSWORD, reports_schedule="off"),
              clock=ManualClock(1_796_000_000.0), prepare=True)
    try:
        dave = _revoke_daves_marketing(g)
        assert _state(g, dave) is RemediationState.FAILED
        assert '"action":"review.remediation_failed"' in \
            g.settings.journal_file.read_text("utf-8")
        assert box.user_dn("dave") in _members(box, "marketing")
        assert g.reviews is not None and g.reviews.clock is not None
        g.reviews.clock.run_due(g.clock.now() + DAY)  # retried: refused again
        assert _state(g, dave) is RemediationState.FAILED

        box.remove_member("marketing", "dave")  # an administrator does it by hand
        assert g.directory_sync is not None
        g.directory_sync.sync(force=True)
        g.reviews.clock.run_due(g.clock.now() + 2 * DAY)
        assert _state(g, dave) is RemediationState.VERIFIED
    finally:
        g.close()


def test_without_a_write_account_the_item_waits_blocked_until_a_sync_shows_it_gone(
    box: LdapSandbox, tmp_path: Path
) -> None:
    g = build(box.settings(tmp_path, reports_schedule="off"),
              clock=ManualClock(1_796_000_000.0), prepare=True)
    try:
        dave = _revoke_daves_marketing(g)
        assert _state(g, dave) is RemediationState.BLOCKED
        assert box.user_dn("dave") in _members(box, "marketing")
        box.remove_member("marketing", "dave")
        assert g.directory_sync is not None
        g.directory_sync.sync(force=True)
        assert g.reviews is not None and g.reviews.clock is not None
        g.reviews.clock.run_due(g.clock.now())
        assert _state(g, dave) is RemediationState.VERIFIED
    finally:
        g.close()
