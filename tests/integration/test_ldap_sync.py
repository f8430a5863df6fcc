"""Guardian on LDAP end to end: changes in slapd reach decisions after a sync (and within the
interval of the periodic sync), an unreachable directory keeps deciding on the snapshot until
it is too old, dry runs change nothing, and people sign in with their LDAP password."""

from __future__ import annotations

import os
import re
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from guardian.api import create_app
from guardian.bootstrap import Guardian, build
from guardian.cli.main import app as cli
from guardian.clock import ManualClock
from guardian.errors import DirectoryUnavailable
from guardian.identity.totp import code_at
from guardian.identity.vocabulary import AuthMethod
from guardian.policy.model import Decision, DecisionRequest
from guardian.policy.vocabulary import Action, Outcome, ReasonCode
from ldap_support import LdapSandbox, demo_ldap_settings
from support import API_KEY, ROOT, TEST_SECRET_KEY, decision_body, demo_secret

pytestmark = pytest.mark.integration
R = ReasonCode
MFA = (AuthMethod.PASSWORD, AuthMethod.OTP)

_TOKEN = "ldap-sync-metrics-token-0123456789"
_MONITORING = {"Authorization": f"Bearer {_TOKEN}"}


@pytest.fixture(scope="module")
def sandbox(ldap_url: str) -> Iterator[LdapSandbox]:
    box = LdapSandbox(ldap_url)
    box.add_user("seed")
    box.add_group("customer-care", "seed")
    box.add_group("billing", "seed")
    yield box
    box.remove()


def unique(prefix: str) -> str:
    return f"{prefix}-{time.monotonic_ns() % 10**9}"


def agent(box: LdapSandbox, **kw: object) -> str:
    """A new customer-care agent in the sandbox."""
    uid = unique("agent")
    box.add_user(uid, **kw)  # type: ignore[arg-type]
    box.add_member("customer-care", uid)
    return uid


def decide(g: Guardian, uid: str) -> Decision:
    now = g.clock.now()
    token, _ = g.signer.issue(uid, MFA, auth_time=now, now=now, ttl_s=3600)
    return g.pipeline.decide(DecisionRequest(
        uid, Action.READ, "crm", "contact", "customer-care", ("C-1001",), token))


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def guardian(sandbox: LdapSandbox, tmp_path: Path) -> Iterator[Guardian]:
    g = build(sandbox.settings(tmp_path), prepare=True)
    assert g.directory_sync is not None
    g.directory_sync.sync()
    yield g
    g.close()


def test_sync_reads_roles_status_type_supplier_clause_and_manager(
        guardian: Guardian, sandbox: LdapSandbox) -> None:
    boss = agent(sandbox)
    contractor = agent(sandbox, kind="contractor", supplier="Acme", clause=True, manager=boss)
    sandbox.add_member("billing", contractor)
    assert guardian.directory_sync is not None
    guardian.directory_sync.sync()
    p = guardian.directory.get(contractor)
    assert p is not None and p.roles == {"customer-care", "billing"}
    assert p.is_contractor and p.supplier == "Acme" and p.contract_clause and p.active
    assert p.manager == boss


def test_a_user_disabled_in_ldap_is_denied_after_the_next_sync(
        guardian: Guardian, sandbox: LdapSandbox) -> None:
    uid = agent(sandbox)
    assert guardian.directory_sync is not None
    guardian.directory_sync.sync()
    assert decide(guardian, uid).outcome is Outcome.PERMIT
    sandbox.set_disabled(uid, True)
    assert decide(guardian, uid).outcome is Outcome.PERMIT  # the snapshot, until the sync
    guardian.directory_sync.sync()
    assert decide(guardian, uid).reason_codes == (R.ACCOUNT_DISABLED,)


def test_a_user_removed_from_a_group_is_denied_after_the_next_sync(
        guardian: Guardian, sandbox: LdapSandbox) -> None:
    uid = agent(sandbox)
    assert guardian.directory_sync is not None
    guardian.directory_sync.sync()
    assert decide(guardian, uid).outcome is Outcome.PERMIT
    sandbox.remove_member("customer-care", uid)
    result = guardian.directory_sync.sync()
    assert [str(c) for c in result.diff.changed if c.uid == uid] == [
        f"~ {uid}: roles: [customer-care] -> []"]
    assert decide(guardian, uid).reason_codes == (R.NOT_AUTHORISED,)


def test_a_user_deleted_from_ldap_is_unknown_after_the_next_sync(
        guardian: Guardian, sandbox: LdapSandbox) -> None:
    uid = agent(sandbox)
    assert guardian.directory_sync is not None
    guardian.directory_sync.sync()
    sandbox.delete_user(uid)  # memberOf/refint also drops it from the group
    result = guardian.directory_sync.sync()
    assert uid in [p.uid for p in result.diff.removed]
    assert decide(guardian, uid).reason_codes == (R.UNKNOWN_SUBJECT,)


def test_the_periodic_sync_brings_a_change_to_decisions_within_its_interval(
        sandbox: LdapSandbox, tmp_path: Path) -> None:
    disabled, removed = agent(sandbox), agent(sandbox)
    g = build(sandbox.settings(tmp_path, directory_sync_interval_s=5), prepare=True)
    try:
        with TestClient(create_app(g)) as client:  # the lifespan starts the sync thread
            def outcome(uid: str) -> dict[str, object]:
                now = time.time()
                token, _ = g.signer.issue(uid, MFA, auth_time=now, now=now, ttl_s=3600)
                response = client.post("/v1/decisions", headers={"X-API-Key": API_KEY},
                                       json=decision_body(uid, token))
                assert response.status_code == 200, response.text
                body: dict[str, object] = response.json()
                return body

            assert outcome(disabled)["decision"] == "permit"  # synced at start-up
            assert outcome(removed)["decision"] == "permit"
            sandbox.set_disabled(disabled, True)
            sandbox.remove_member("customer-care", removed)
            changed_at = time.monotonic()
            seen: dict[str, float] = {}
            while len(seen) < 2 and time.monotonic() - changed_at < 15:
                for uid in (disabled, removed):
                    if uid not in seen and outcome(uid)["decision"] == "deny":
                        seen[uid] = time.monotonic() - changed_at
                time.sleep(0.2)
            assert set(seen) == {disabled, removed}, "the change never reached decisions"
            # Within the interval, plus the time of one sync and one poll.
            assert max(seen.values()) <= 5 + 1.5, seen
            reasons = outcome(disabled)["reasons"]
            assert [r["code"] for r in reasons] == ["account_disabled"]  # type: ignore[index, union-attr]
    finally:
        g.close()
    assert "guardian-directory-sync" not in {t.name for t in threading.enumerate()}


def test_ldap_down_decides_on_the_snapshot_then_denies_once_it_is_too_old(
        sandbox: LdapSandbox, tmp_path: Path) -> None:
    uid = agent(sandbox)
    first = build(sandbox.settings(tmp_path), prepare=True)
    assert first.directory_sync is not None
    first.directory_sync.sync()
    first.close()
    # A restart with LDAP unreachable: same data folder, a port nothing listens on.
    clock = ManualClock(start=time.time())
    down = build(sandbox.settings(tmp_path, ldap_url=f"ldap://127.0.0.1:{closed_port()}",
                                  directory_max_age_s=600, metrics_token=_TOKEN), clock=clock, prepare=True)
    try:
        assert down.directory_sync is not None
        assert decide(down, uid).outcome is Outcome.PERMIT
        with pytest.raises(DirectoryUnavailable):
            down.directory_sync.sync()
        with TestClient(create_app(down)) as client:
            clock.advance(120)
            health = client.get("/v1/health", headers=_MONITORING).json()
            directory = health["directory"]
            assert health["status"] == "ok" and directory["source"] == "ldap"
            assert directory["users"] >= 2 and 120 <= directory["age_s"] < 130
            assert "SocketOpenError" in directory["last_error"]
            assert directory["stale"] is False and directory["last_sync_at"] is not None
            assert os.environ["GUARDIAN_TEST_LDAP_BIND_PASSWORD"] not in str(health)
            assert decide(down, uid).outcome is Outcome.PERMIT
            clock.advance(481)
            decision = decide(down, uid)
            assert decision.reason_codes == (R.DIRECTORY_STALE,)
            health = client.get("/v1/health", headers=_MONITORING).json()
            assert health["status"] == "degraded" and health["directory"]["stale"] is True
            unknown = decide(down, "nobody-at-all")
            assert unknown.reason_codes == (R.DIRECTORY_STALE, R.UNKNOWN_SUBJECT)
    finally:
        down.close()


def test_dry_run_shows_the_changes_and_applies_nothing_then_sync_applies(
        sandbox: LdapSandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = sandbox.settings(tmp_path)
    monkeypatch.chdir(ROOT)
    for key, value in {"DEMO": "false", "SECRET_KEY": TEST_SECRET_KEY,
                       "AUDIT_SIGNING_KEY": settings.audit_signing_key.get_secret_value()
                       if settings.audit_signing_key else "",
                       "DIRECTORY_FILE": str(settings.directory_file),
                       "DIRECTORY": "ldap", "LDAP_URL": settings.ldap_url,
                       "LDAP_BASE_DN": settings.ldap_base_dn, "LDAP_BIND_DN": settings.ldap_bind_dn,
                       "LDAP_BIND_PASSWORD": os.environ["GUARDIAN_TEST_LDAP_BIND_PASSWORD"],
                       "LDAP_USERS_DN": sandbox.people, "LDAP_GROUPS_DN": sandbox.groups,
                       "DATA_DIR": str(settings.data_dir)}.items():
        monkeypatch.setenv(f"GUARDIAN_{key}", str(value))
    runner = CliRunner()
    uid = agent(sandbox)
    assert runner.invoke(cli, ["directory", "sync"]).exit_code == 0
    snapshot = settings.directory_snapshot_file
    before = snapshot.read_bytes()
    sandbox.set_disabled(uid, True)

    wide = {"COLUMNS": "200"}
    dry = runner.invoke(cli, ["directory", "sync", "--dry-run"], env=wide)
    assert dry.exit_code == 0, dry.output
    assert "0 added, 0 removed, 1 changed (dry run, nothing applied" in dry.output
    assert re.search(rf"^changed +{uid} +active: True -> False", dry.stdout, re.M)
    assert snapshot.read_bytes() == before

    applied = runner.invoke(cli, ["directory", "sync"], env=wide)
    assert applied.exit_code == 0, applied.output
    assert re.search(rf"^changed +{uid} +active: True -> False", applied.stdout, re.M)
    assert "(applied" in applied.output
    assert snapshot.read_bytes() != before
    again = runner.invoke(cli, ["directory", "sync", "--dry-run"], terminal_width=200)
    assert "0 added, 0 removed, 0 changed" in again.output
    # What the CLI applied is what a server restarted while LDAP is down decides on.
    offline = build(sandbox.settings(tmp_path, ldap_url=f"ldap://127.0.0.1:{closed_port()}"), prepare=True)
    try:
        assert decide(offline, uid).reason_codes == (R.ACCOUNT_DISABLED,)
    finally:
        offline.close()


def test_people_sign_in_with_their_ldap_password_and_a_second_factor(
        ldap_url: str, tmp_path: Path) -> None:
    clock = ManualClock(start=float(int(time.time() // 30 * 30)))
    g = build(demo_ldap_settings(ldap_url, tmp_path), clock=clock, prepare=True)
    try:
        # Outside demo mode nobody inherits the demo file's seeds: the people enrolled theirs.
        for uid in ("alice", "heidi"):
            g.mfa.store.begin_totp(uid, demo_secret(uid), [], clock.now())
            assert g.mfa.store.activate_totp(uid, clock.now())
        with TestClient(create_app(g)) as client:
            def sign_in(uid: str, password: str) -> int:
                clock.advance(30)
                return client.post("/v1/sessions", json={
                    "user": uid, "password": password,
                    "otp": code_at(demo_secret(uid), clock.now())}).status_code

            assert sign_in("alice", "alice-demo-pass") == 201
            assert sign_in("alice", "wrong-pass") == 401
            assert sign_in("heidi", "heidi-demo-pass") == 401
            assert sign_in("alice)(uid=*", "alice-demo-pass") == 401
    finally:
        g.close()
