"""The LDAP adapter without a server: URL and TLS plumbing, escaped filters, entry mapping.

The real slapd is exercised in tests/integration/adapters/ldap/test_directory.py; here a fake ldap3
connection records the filters it is given and answers with prepared entries.
"""

from __future__ import annotations

import re
import ssl
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import pytest

from guardian.adapters.ldap.connection import LdapConfig, LdapConnections
from guardian.adapters.ldap.directory import (
    LdapAttributes,
    LdapDirectory,
    LdapLayout,
    normalise_dn,
)
from guardian.errors import ConfigurationError, DirectoryUnavailable
from guardian.identity.vocabulary import EmployeeType

T = TypeVar("T")
BASE = "dc=guardian,dc=test"
PEOPLE = f"ou=people,{BASE}"
GROUPS = f"ou=groups,{BASE}"
ROLES = frozenset({"customer-care", "billing", "auditor"})


def config(url: str = "ldap://127.0.0.1:3389", **kw: Any) -> LdapConfig:
    return LdapConfig((url,), f"cn=svc,{BASE}", "svc-secret", **kw)


# -- URL and TLS plumbing -------------------------------------------------------------------------

def test_an_ldaps_url_uses_tls_with_certificate_verification() -> None:
    (server,) = LdapConnections(config("ldaps://ldap.example.test"))._servers
    assert server.ssl and server.port == 636
    assert server.tls.validate == ssl.CERT_REQUIRED


def test_start_tls_on_a_remote_ldap_url_verifies_certificates_against_the_ca_file(
        tmp_path: Path) -> None:
    ca = tmp_path / "ca.pem"
    ca.write_text("-----BEGIN CERTIFICATE-----\n")
    (server,) = LdapConnections(config("ldap://ldap.example.test:3389", start_tls=True,
                                       ca_file=ca))._servers
    assert not server.ssl and server.port == 3389
    assert server.tls.validate == ssl.CERT_REQUIRED and server.tls.ca_certs_file == str(ca)


@pytest.mark.parametrize(("url", "kw", "message"), [
    ("ldap://ldap.example.test", {}, "in clear"),
    ("ldaps://ldap.example.test", {"start_tls": True}, "already TLS"),
    ("ldaps://ldap.example.test", {"ca_file": Path("/nonexistent/ca.pem")}, "does not exist"),
    ("ldap://svc:pw@127.0.0.1", {}, "only scheme, host and port"),
    ("ldap://127.0.0.1/dc=x?uid", {}, "only scheme, host and port"),
    ("http://127.0.0.1", {}, "expected ldap://"),
    ("ldap://127.0.0.1:99999", {}, "Port"),
])
def test_unsafe_or_malformed_ldap_settings_are_configuration_errors(
        url: str, kw: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        LdapConnections(config(url, **kw))


def test_the_bind_password_never_shows_in_the_configuration_repr() -> None:
    assert "svc-secret" not in repr(config()) and "svc-secret" not in str(config())


def test_unknown_attribute_settings_are_refused_by_name() -> None:
    assert LdapAttributes.of({"disabled": "nsAccountLock"}).disabled == "nsAccountLock"
    with pytest.raises(ConfigurationError, match="disabld"):
        LdapAttributes.of({"disabld": "x"})


# -- a fake connection ----------------------------------------------------------------------------

class FakeConn:
    def __init__(self, entries: dict[str, list[tuple[str, dict[str, list[str]]]]]) -> None:
        self.entries = entries
        self.filters: list[str] = []
        self.response: list[dict[str, Any]] = []
        self.result: dict[str, Any] = {}

    def search(self, base: str, search_filter: str, scope: Any, **kw: Any) -> None:
        self.filters.append(search_filter)
        found = self.entries.get(base, [])
        wanted = re.search(r"\(uid=([^)]*)\)", search_filter)
        if wanted:  # equality as LDAP does it: escapes decoded, case ignored
            value = re.sub(r"\\([0-9a-f]{2})", lambda m: chr(int(m.group(1), 16)),
                           wanted.group(1)).lower()
            found = [(dn, a) for dn, a in found if value in (u.lower() for u in a["uid"])]
        self.response = [{"type": "searchResEntry", "dn": dn, "attributes": attrs}
                         for dn, attrs in found]
        self.result = {"result": self.code, "description": self.description}

    code = 0
    description = "success"


class FakeConnections(LdapConnections):
    def __init__(self, conn: FakeConn) -> None:
        super().__init__(config())
        self.conn = conn
        self.runs = 0
        self.binds: list[tuple[str, str]] = []

    def run(self, operation: Callable[[Any], T]) -> T:
        self.runs += 1
        return operation(self.conn)

    def check_password(self, dn: str, password: str) -> bool:
        self.binds.append((dn, password))
        return password == "right"


def user(uid: str, **attrs: str | list[str]) -> tuple[str, dict[str, list[str]]]:
    values = {k: v if isinstance(v, list) else [v] for k, v in attrs.items()}
    return f"uid={uid},{PEOPLE}", {"uid": [uid], "cn": [uid.title()], **values}


def group(cn: str, *uids: str, parent: str = GROUPS) -> tuple[str, dict[str, list[str]]]:
    return f"cn={cn},{parent}", {"cn": [cn], "member": [f"uid={u},{PEOPLE}" for u in uids]}


def directory(users: list[Any], groups: list[Any], **layout: Any) -> tuple[
        LdapDirectory, FakeConnections]:
    conns = FakeConnections(FakeConn({PEOPLE: users, GROUPS: groups}))
    return LdapDirectory(conns, LdapLayout(PEOPLE, GROUPS, ROLES, **layout)), conns


# -- reading people -------------------------------------------------------------------------------

def test_groups_named_after_declared_roles_become_roles_by_default() -> None:
    d, _ = directory([user("alice"), user("bob")], [
        group("customer-care", "alice"), group("billing", "alice", "bob"),
        group("janitors", "bob"), group("auditor", "bob", parent=f"ou=other,{GROUPS}")])
    by_uid = {p.uid: p for p in d.fetch()}
    assert by_uid["alice"].roles == {"customer-care", "billing"}
    assert by_uid["bob"].roles == {"billing"}


def test_an_explicit_mapping_replaces_the_default_and_ignores_spelling_of_dns() -> None:
    d, _ = directory([user("alice")], [group("crm-agents", "alice"), group("billing", "alice")],
                     group_roles={"CN=CRM-Agents, OU=Groups, DC=guardian, DC=test": "customer-care"})
    (alice,) = d.fetch()
    assert alice.roles == {"customer-care"}


def test_a_mapping_to_an_undeclared_role_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match="janitor"):
        directory([], [], group_roles={f"cn=x,{GROUPS}": "janitor"})


def test_status_type_supplier_clause_and_manager_are_read_from_their_attributes() -> None:
    d, _ = directory([
        user("ivan"),
        user("frank", guardianEmployeeType="contractor", guardianSupplier="Acme",
             guardianContractClause="TRUE", guardianAccountDisabled="FALSE",
             manager=f"uid=ivan, ou=People,{BASE}"),
        user("heidi", guardianAccountDisabled="TRUE"),
    ], [])
    by_uid = {p.uid: p for p in d.fetch()}
    frank = by_uid["frank"]
    assert frank.employee_type is EmployeeType.CONTRACTOR and frank.supplier == "Acme"
    assert frank.contract_clause and frank.active and frank.manager == "ivan"
    assert not by_uid["heidi"].active and by_uid["ivan"].active
    assert by_uid["ivan"].employee_type is EmployeeType.EMPLOYEE and by_uid["ivan"].manager is None


def test_doubtful_values_are_read_the_strict_way_and_reported() -> None:
    d, _ = directory([
        user("odd", guardianEmployeeType="intern", guardianAccountDisabled="maybe"),
        user("twin"), ("uid=twin,ou=elsewhere," + PEOPLE, {"uid": ["twin"]}),
        ("cn=no uid," + PEOPLE, {"cn": ["nobody"]}),
    ], [])
    principals = {p.uid: p for p in d.fetch()}
    assert set(principals) == {"odd"}
    assert principals["odd"].employee_type is EmployeeType.CONTRACTOR
    assert not principals["odd"].active
    joined = "\n".join(d.warnings)
    assert "intern" in joined and "maybe" not in joined and "read as disabled" in joined
    assert "'twin' is used by another entry" in joined and "no usable uid" in joined


@pytest.mark.parametrize(("code", "description"), [
    (4, "sizeLimitExceeded"), (3, "timeLimitExceeded"), (10, "referral")])
def test_a_partial_answer_from_the_server_fails_the_fetch_instead_of_dropping_people(
        code: int, description: str) -> None:
    d, conns = directory([user("alice")], [])
    conns.conn.code, conns.conn.description = code, description
    with pytest.raises(DirectoryUnavailable, match=description):
        d.fetch()


def test_a_multi_valued_uid_is_the_one_the_dn_names() -> None:
    d, _ = directory([(f"uid=alice,{PEOPLE}", {"uid": ["a.martin", "alice"]})], [])
    assert [p.uid for p in d.fetch()] == ["alice"]


def test_dns_compare_without_case_or_spaces_and_keep_escaped_values_apart() -> None:
    assert normalise_dn("UID=Alice , OU=People,DC=Guardian,DC=Test") == \
        "uid=alice,ou=people,dc=guardian,dc=test"
    assert normalise_dn(r"cn=a\,b,ou=g") != normalise_dn("cn=a,cn=b,ou=g")


# -- sign-in: escaped look-up, then a bind -------------------------------------------------------

@pytest.mark.parametrize(("uid", "escaped"), [
    ("*", r"\2a"),
    ("*)(uid=*", r"\2a\29\28uid=\2a"),
    ("alice)(|(uid=*", r"alice\29\28|\28uid=\2a"),
    ("a\\b", r"a\5cb"),
])
def test_the_sign_in_search_escapes_every_filter_character(uid: str, escaped: str) -> None:
    d, conns = directory([], [])
    assert d.verify_password(uid, "right") is False
    assert conns.conn.filters == [f"(&(objectClass=inetOrgPerson)(uid={escaped}))"]
    assert conns.binds == []


@pytest.mark.parametrize(("uid", "password"), [
    ("alice", ""), ("", "right"), ("al\x00ice", "right"), ("alice", "ri\x00ght"),
    (" alice", "right"), ("x" * 129, "right"),
])
def test_empty_passwords_and_impossible_uids_are_refused_before_any_ldap_call(
        uid: str, password: str) -> None:
    d, conns = directory([user("alice")], [])
    assert d.verify_password(uid, password) is False
    assert conns.runs == 0 and conns.binds == []


def test_sign_in_binds_as_the_dn_found_only_for_an_exact_active_match() -> None:
    d, conns = directory([user("alice"), user("heidi", guardianAccountDisabled="TRUE")], [])
    assert d.verify_password("alice", "right") is True
    assert d.verify_password("alice", "wrong") is False
    assert conns.binds == [(f"uid=alice,{PEOPLE}", "right"), (f"uid=alice,{PEOPLE}", "wrong")]
    assert d.verify_password("heidi", "right") is False
    assert len(conns.binds) == 2


def test_sign_in_refuses_an_entry_whose_uid_differs_from_the_one_asked() -> None:
    # LDAP matched "ALICE" case-insensitively; the entry's uid is "alice".
    d, conns = directory([user("alice")], [])
    assert d.verify_password("ALICE", "right") is False
    assert conns.binds == []


def test_sign_in_refuses_when_several_entries_match() -> None:
    d, conns = directory([user("alice"), user("alice")], [])
    assert d.verify_password("alice", "right") is False
    assert conns.binds == []
