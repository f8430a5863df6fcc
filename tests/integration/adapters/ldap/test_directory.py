"""The LDAP adapter against the real slapd: the demo organisation, password binds, injection
attempts through a user id, TLS plumbing and failures, connection pooling."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from guardian.adapters.files.directory import FileDirectory
from guardian.adapters.files.policy import load_policy
from guardian.adapters.ldap.directory import LdapDirectory
from guardian.bootstrap import build_ldap_source
from guardian.clock import ManualClock
from guardian.errors import DirectoryUnavailable
from guardian.identity.directory_sync import SyncedDirectory
from guardian.identity.sealing import Sealer
from ldap_support import LdapSandbox, demo_ldap_settings, load_demo_ldif
from support import ROOT

pytestmark = pytest.mark.integration

ROLES = load_policy(ROOT / "policies").roles
DEMO_PEOPLE = 14
INJECTIONS = ["*", "*)(uid=*", "alice)(|(uid=*", "alice)(uid=*", "al*", "*alice*",
              "alice\x00", "\x00", "alice\x00)(uid=*", "alice)(&", "(uid=alice)", "alice\\",
              "ALICE", " alice", "alice "]


def source(tmp_path: Path, url: str, **overrides: object) -> LdapDirectory:
    return build_ldap_source(demo_ldap_settings(url, tmp_path, **overrides).ldap, ROLES)


@pytest.fixture(scope="module")
def demo_box(ldap_url: str) -> Iterator[LdapSandbox]:
    """policies/demo/demo.ldif as this tree has it, loaded into a sandbox of the shared slapd
    (which was seeded from the file as it was when the services started)."""
    box = LdapSandbox(ldap_url)
    load_demo_ldif(box, ROOT / "policies/demo/demo.ldif")
    yield box
    box.remove()


@pytest.fixture
def demo(ldap_url: str, tmp_path: Path, demo_box: LdapSandbox) -> Iterator[LdapDirectory]:
    d = source(tmp_path, ldap_url, ldap_users_dn=demo_box.people, ldap_groups_dn=demo_box.groups)
    yield d
    d.close()


@pytest.fixture(scope="module")
def sandbox(ldap_url: str) -> Iterator[LdapSandbox]:
    box = LdapSandbox(ldap_url)
    yield box
    box.remove()


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_the_demo_organisation_reads_as_the_demo_directory_file(demo: LdapDirectory) -> None:
    from_ldap = {p.uid: p for p in demo.fetch()}
    from_file = {p.uid: p for p in FileDirectory(
        ROOT / "policies/demo/directory.yaml", Sealer(b"k" * 32)).principals()}
    assert from_ldap == from_file
    assert from_ldap["frank"].supplier == "Acme Contact Centre" and from_ldap["frank"].contract_clause
    assert not from_ldap["grace"].contract_clause and not from_ldap["heidi"].active
    assert from_ldap["mallory"].roles == frozenset()
    assert demo.warnings == []


def test_managers_are_read_from_the_manager_dn_as_uids(demo: LdapDirectory) -> None:
    people = {p.uid: p for p in demo.fetch()}
    assert len(people) == DEMO_PEOPLE
    assert {u for u, p in people.items() if p.manager == "nina"} == {
        "alice", "bob", "dave", "frank", "grace", "heidi"}
    assert {u for u, p in people.items() if p.manager == "oscar"} == {
        "carol", "erin", "mallory", "nina"}
    assert all(people[u].manager is None for u in ("ivan", "judy", "oscar", "peggy"))
    assert people["nina"].roles == people["oscar"].roles == frozenset({"reviewer"})
    assert people["peggy"].roles == frozenset({"dpo"})
    assert demo.verify_password("peggy", "peggy-demo-pass") is True
    assert demo.verify_password("oscar", "nina-demo-pass") is False


def test_a_demo_user_signs_in_with_her_own_password_only(demo: LdapDirectory) -> None:
    assert demo.verify_password("alice", "alice-demo-pass") is True
    assert demo.verify_password("alice", "bob-demo-pass") is False
    assert demo.verify_password("alice", "") is False
    assert demo.verify_password("nobody", "alice-demo-pass") is False


def test_a_disabled_user_cannot_sign_in_even_with_the_right_password(demo: LdapDirectory) -> None:
    assert demo.verify_password("heidi", "heidi-demo-pass") is False


@pytest.mark.parametrize("uid", INJECTIONS)
def test_an_injected_user_id_matches_nobody_and_never_binds(demo: LdapDirectory, uid: str) -> None:
    assert demo._connections.run(lambda conn: demo._find_user(conn, uid)) is None
    assert demo.verify_password(uid, "alice-demo-pass") is False


def test_a_user_id_full_of_filter_characters_is_matched_exactly(
        sandbox: LdapSandbox, tmp_path: Path, ldap_url: str) -> None:
    sandbox.add_user("star*(paren)", password="odd-pass-1")
    sandbox.add_user("star", password="odd-pass-2")
    d = source(tmp_path, ldap_url, ldap_users_dn=sandbox.people, ldap_groups_dn=sandbox.groups)
    try:
        assert d.verify_password("star*(paren)", "odd-pass-1") is True
        assert d.verify_password("star*(paren)", "odd-pass-2") is False
        assert d.verify_password("star*", "odd-pass-1") is False
        assert d.verify_password("star", "odd-pass-1") is False
        assert {"star*(paren)", "star"} <= {p.uid for p in d.fetch()}
    finally:
        d.close()


def test_start_tls_against_a_server_without_tls_fails_with_a_typed_error(
        tmp_path: Path, ldap_url: str) -> None:
    d = source(tmp_path, ldap_url, ldap_start_tls=True)
    with pytest.raises(DirectoryUnavailable, match="StartTLS"):
        d.fetch()
    with pytest.raises(DirectoryUnavailable, match="StartTLS"):
        d.verify_password("alice", "alice-demo-pass")
    d.close()


def test_an_unreachable_server_fails_fast_with_a_typed_error(tmp_path: Path) -> None:
    d = source(tmp_path, f"ldap://127.0.0.1:{closed_port()}", ldap_timeout_s=2)
    started = time.monotonic()
    with pytest.raises(DirectoryUnavailable, match="SocketOpenError"):
        d.fetch()
    assert time.monotonic() - started < 3


def test_the_second_url_serves_when_the_first_is_down(
        tmp_path: Path, ldap_url: str, demo_box: LdapSandbox) -> None:
    d = source(tmp_path, f"ldap://127.0.0.1:{closed_port()},{ldap_url}",
               ldap_users_dn=demo_box.people, ldap_groups_dn=demo_box.groups)
    assert len(d.fetch()) == DEMO_PEOPLE
    d.close()


def test_a_wrong_service_password_is_a_typed_error_without_the_password(
        tmp_path: Path, ldap_url: str) -> None:
    d = source(tmp_path, ldap_url, ldap_bind_password="not-the-svc-pass")
    with pytest.raises(DirectoryUnavailable) as info:
        d.fetch()
    assert "InvalidCredentials" in info.value.message
    assert "not-the-svc-pass" not in info.value.message


def test_concurrent_sign_ins_share_a_small_pool_of_service_connections(
        tmp_path: Path, ldap_url: str) -> None:
    d = source(tmp_path, ldap_url, ldap_pool_size=2)
    results: list[bool] = []

    def sign_in() -> None:
        for _ in range(5):
            results.append(d.verify_password("bob", "bob-demo-pass"))

    threads = [threading.Thread(target=sign_in) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert results == [True] * 30
    assert len(d._connections._idle) <= 2
    d.close()


def test_a_pooled_connection_dropped_by_the_server_is_replaced_transparently(
        demo: LdapDirectory) -> None:
    assert len(demo.fetch()) == DEMO_PEOPLE
    (idle,) = demo._connections._idle
    idle.socket.shutdown(socket.SHUT_RDWR)  # as a server closing an idle connection would
    assert len(demo.fetch()) == DEMO_PEOPLE
    assert demo._connections._idle and demo._connections._idle[0] is not idle


def test_a_sync_cut_short_by_the_server_size_limit_is_refused_and_keeps_the_snapshot(
        ldap_url: str, tmp_path: Path) -> None:
    box = LdapSandbox(ldap_url)
    try:
        box.add_user("reader", password="reader-pass")
        d = source(tmp_path, ldap_url, ldap_users_dn=box.people, ldap_groups_dn=box.groups,
                   ldap_bind_dn=box.user_dn("reader"), ldap_bind_password="reader-pass")
        synced = SyncedDirectory(d, ManualClock())
        assert synced.sync().users == 1
        for i in range(505):  # past slapd's default limit of 500 entries for an ordinary user
            box.add_user(f"many-{i}")
        with pytest.raises(DirectoryUnavailable, match="sizeLimitExceeded"):
            synced.sync()
        assert [p.uid for p in synced.principals()] == ["reader"]
        d.close()
    finally:
        box.remove()
