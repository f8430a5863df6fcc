"""A private corner of the shared test slapd: `ou=t-<random>` with its own people and groups.

Integration tests create, change and delete entries only there (never the demo organisation),
as the admin account of scripts/services.sh, and remove the whole subtree when they are done.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

from ldap3 import MODIFY_ADD, MODIFY_DELETE, MODIFY_REPLACE, SUBTREE, Connection, Server

from guardian.config import Settings
from support import real_settings


class LdapSandbox:
    def __init__(self, url: str) -> None:
        self.url = url
        self.base = os.environ["GUARDIAN_TEST_LDAP_BASE_DN"]
        self.root = f"ou=t-{secrets.token_hex(4)},{self.base}"
        self.people = f"ou=people,{self.root}"
        self.groups = f"ou=groups,{self.root}"
        self.admin = Connection(Server(url), os.environ["GUARDIAN_TEST_LDAP_ADMIN_DN"],
                                os.environ["GUARDIAN_TEST_LDAP_ADMIN_PASSWORD"],
                                auto_bind=True, raise_exceptions=True)
        for dn in (self.root, self.people, self.groups):
            self.admin.add(dn, ["organizationalUnit"], {"ou": dn.split(",")[0][3:]})

    def user_dn(self, uid: str) -> str:
        return f"uid={uid},{self.people}"

    def group_dn(self, cn: str) -> str:
        return f"cn={cn},{self.groups}"

    def add_user(self, uid: str, *, password: str | None = None, disabled: bool = False,
                 kind: str = "employee", supplier: str | None = None,
                 clause: bool | None = None, manager: str | None = None) -> str:
        attrs: dict[str, Any] = {"uid": uid, "cn": f"Test {uid}", "sn": uid,
                                 "guardianEmployeeType": kind,
                                 "guardianAccountDisabled": "TRUE" if disabled else "FALSE"}
        if password is not None:
            attrs["userPassword"] = password
        if supplier is not None:
            attrs["guardianSupplier"] = supplier
        if clause is not None:
            attrs["guardianContractClause"] = "TRUE" if clause else "FALSE"
        if manager is not None:
            attrs["manager"] = self.user_dn(manager)
        self.admin.add(self.user_dn(uid), ["inetOrgPerson", "guardianPerson"], attrs)
        return self.user_dn(uid)

    def add_group(self, cn: str, *uids: str) -> None:
        self.admin.add(self.group_dn(cn), ["groupOfNames"],
                       {"cn": cn, "member": [self.user_dn(u) for u in uids]})

    def set_disabled(self, uid: str, disabled: bool) -> None:
        self.admin.modify(self.user_dn(uid), {
            "guardianAccountDisabled": [(MODIFY_REPLACE, ["TRUE" if disabled else "FALSE"])]})

    def add_member(self, cn: str, uid: str) -> None:
        self.admin.modify(self.group_dn(cn), {"member": [(MODIFY_ADD, [self.user_dn(uid)])]})

    def remove_member(self, cn: str, uid: str) -> None:
        self.admin.modify(self.group_dn(cn), {"member": [(MODIFY_DELETE, [self.user_dn(uid)])]})

    def delete_user(self, uid: str) -> None:
        self.admin.delete(self.user_dn(uid))

    def settings(self, tmp_path: Path, **overrides: object) -> Settings:
        values: dict[str, object] = {
            "directory": "ldap", "ldap_url": self.url, "ldap_base_dn": self.base,
            "ldap_bind_dn": os.environ["GUARDIAN_TEST_LDAP_BIND_DN"],
            "ldap_bind_password": os.environ["GUARDIAN_TEST_LDAP_BIND_PASSWORD"],
            "ldap_users_dn": self.people, "ldap_groups_dn": self.groups,
            "ldap_timeout_s": 2,
        }
        values.update(overrides)
        return real_settings(tmp_path, **values)

    def remove(self) -> None:
        """Delete the whole subtree, leaves first."""
        self.admin.search(self.root, "(objectClass=*)", SUBTREE, attributes=[])
        for dn in sorted((e.entry_dn for e in self.admin.entries), key=lambda d: -d.count(",")):
            self.admin.delete(dn)
        self.admin.unbind()


def demo_ldap_settings(url: str, tmp_path: Path, **overrides: object) -> Settings:
    """Settings on the demo organisation in slapd (read only)."""
    values: dict[str, object] = {
        "directory": "ldap", "ldap_url": url,
        "ldap_base_dn": os.environ["GUARDIAN_TEST_LDAP_BASE_DN"],
        "ldap_bind_dn": os.environ["GUARDIAN_TEST_LDAP_BIND_DN"],
        "ldap_bind_password": os.environ["GUARDIAN_TEST_LDAP_BIND_PASSWORD"],
        "ldap_timeout_s": 2,
    }
    values.update(overrides)
    return real_settings(tmp_path, **values)


def ldif_entries(path: Path) -> list[dict[str, list[str]]]:
    """The entries of a plain LDIF file (no folded lines, no base64 values), ``dn`` included."""
    entries: list[dict[str, list[str]]] = []
    for block in path.read_text(encoding="utf-8").split("\n\n"):
        entry: dict[str, list[str]] = {}
        for line in block.splitlines():
            if line and not line.startswith("#"):
                key, _, value = line.partition(": ")
                entry.setdefault(key, []).append(value)
        if entry:
            entries.append(entry)
    return entries


def load_demo_ldif(box: LdapSandbox, path: Path) -> None:
    """The people and groups of ``path`` (policies/demo/demo.ldif) into the sandbox, their DNs
    and every DN they name (``member``, ``manager``) moved along: the file as it is now, read by
    the real slapd, whenever the shared directory was seeded."""
    base = os.environ["GUARDIAN_TEST_LDAP_BASE_DN"]

    def moved(value: str) -> str:
        return (value.replace(f",ou=people,{base}", f",{box.people}")
                .replace(f",ou=groups,{base}", f",{box.groups}"))

    for entry in ldif_entries(path):
        dn = entry.pop("dn")[0]
        if moved(dn) == dn:
            continue  # the base and its organisational units: the sandbox has its own
        attrs = {k: [moved(v) for v in vs] for k, vs in entry.items()}
        box.admin.add(moved(dn), attributes=attrs)


def add_writer(box: LdapSandbox, password: str) -> str:
    """The sandbox's own write account, ``cn=guardian-writer`` at its root: slapd's ACL
    (scripts/services.sh) lets it change the ``member`` of this sandbox's groups only."""
    dn = f"cn=guardian-writer,{box.root}"
    box.admin.add(dn, ["organizationalRole", "simpleSecurityObject"],
                  {"cn": "guardian-writer", "userPassword": password})
    return dn
