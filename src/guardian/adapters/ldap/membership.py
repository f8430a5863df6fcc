"""Removing a revoked membership in LDAP with the write account (``GUARDIAN_LDAP_WRITE_BIND_DN``,
``…_PASSWORD``): implements :class:`~guardian.ports.MembershipWriter` with an ldap3 modify that
deletes the person's DN from the ``member`` values of the role's group.

The group is found the way the directory reads it (the explicit group → role mapping, else
``cn=<role>,<groups_dn>``), the person's DN by an escaped search on their uid. A membership
already gone (no such value, no such person) is not an error; anything else the directory
refuses — no rights, the last member of a ``groupOfNames``, the server unreachable — is
``DirectoryWriteFailed``, which the review marks ``failed`` and the clock retries.
"""

from __future__ import annotations

from ldap3 import MODIFY_DELETE, SUBTREE, Connection
from ldap3.core.exceptions import LDAPException, LDAPNoSuchAttributeResult
from ldap3.utils.conv import escape_filter_chars
from ldap3.utils.dn import escape_rdn

from guardian.adapters.ldap.connection import LdapConnections
from guardian.adapters.ldap.directory import LdapLayout
from guardian.adapters.ldap.errors import write_failed
from guardian.errors import DirectoryUnavailable, DirectoryWriteFailed


class LdapMembershipWriter:
    def __init__(self, connections: LdapConnections, layout: LdapLayout) -> None:
        self._connections = connections
        self._layout = layout

    def close(self) -> None:
        self._connections.close()

    def group_dn(self, role: str) -> str:
        mapping = self._layout.group_roles
        if mapping is not None:
            for dn, mapped in mapping.items():
                if mapped == role:
                    return dn
            raise DirectoryWriteFailed(f"no directory group is mapped to role {role!r}")
        name = self._layout.attributes.group_name
        return f"{name}={escape_rdn(role)},{self._layout.groups_dn}"

    def remove_member(self, uid: str, role: str) -> None:
        group = self.group_dn(role)

        def remove(conn: Connection) -> None:
            user = self._user_dn(conn, uid)
            if user is None:
                return  # the person is gone from the directory: so is the membership
            try:
                conn.modify(group, {self._layout.attributes.member: [(MODIFY_DELETE, [user])]})
            except LDAPNoSuchAttributeResult:
                return  # not (or no longer) a member
            except LDAPException as exc:
                raise write_failed(exc, uid, group) from exc

        try:
            self._connections.run(remove)
        except DirectoryUnavailable as exc:
            raise DirectoryWriteFailed(f"removing {uid} from {group}: {exc.message}") from exc

    def _user_dn(self, conn: Connection, uid: str) -> str | None:
        a = self._layout.attributes
        search_filter = (f"(&(objectClass={escape_filter_chars(a.user_object_class)})"
                         f"({escape_filter_chars(a.uid)}={escape_filter_chars(uid)}))")
        conn.search(self._layout.users_dn, search_filter, SUBTREE, attributes=[a.uid],
                    size_limit=2)
        entries = [e for e in conn.response or () if e.get("type") == "searchResEntry"]
        if len(entries) != 1:
            if entries:
                raise DirectoryWriteFailed(f"several directory entries have uid {uid!r}")
            return None
        return str(entries[0]["dn"])
