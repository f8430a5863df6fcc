"""People and roles from an LDAP directory (ldap3): the source of a synced directory, and
password sign-in by binding as the user.

Users are entries of ``user_object_class`` under ``users_dn``; their roles come from the groups
(``groupOfNames``) under ``groups_dn`` that list them as ``member``, through a mapping group DN →
role. Without a configured mapping, every group ``cn=X,<groups_dn>`` whose X is a role declared
in the policy maps to role X. Attribute names are configurable (:class:`LdapAttributes`); the
defaults are the Guardian schema's (``scripts/ldap/guardian.schema``).

Every filter is built with ``escape_filter_chars``; a user id never reaches LDAP unescaped, and
sign-in checks that the entry found carries exactly the uid asked for (LDAP matching ignores
case and extra spaces). Anything doubtful fails closed: an unknown employee type is read as a
contractor (who then needs the supplier clause), an unreadable disabled flag as disabled, two
entries with the same uid as neither, and a search the server answered only in part (a size
or time limit, a referral — ldap3 does not raise for these) fails the whole sync rather than
dropping everyone it did not send. Searches are paged (``paged_size`` entries per page) and
converted page by page, so a sync of 100 000 users does not hold 100 000 ldap3 responses.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, fields
from typing import Any

from ldap3 import SUBTREE, Connection
from ldap3.core.exceptions import LDAPException
from ldap3.utils.conv import escape_filter_chars
from ldap3.utils.dn import parse_dn

from guardian.adapters.ldap.connection import LdapConnections
from guardian.errors import ConfigurationError, DirectoryUnavailable
from guardian.identity.passwords import DUMMY_HASH
from guardian.identity.passwords import verify_password as verify_local
from guardian.identity.principal import Principal
from guardian.identity.vocabulary import EmployeeType
from guardian.logging import get_logger

log = get_logger("guardian.directory")

PAGED_RESULTS = "1.2.840.113556.1.4.319"
MAX_UID_LENGTH = 128


@dataclass(frozen=True, slots=True)
class LdapAttributes:
    """Names of the LDAP attributes and object classes Guardian reads."""

    uid: str = "uid"
    name: str = "cn"
    disabled: str = "guardianAccountDisabled"
    employee_type: str = "guardianEmployeeType"
    supplier: str = "guardianSupplier"
    contract_clause: str = "guardianContractClause"
    manager: str = "manager"
    member: str = "member"
    group_name: str = "cn"
    user_object_class: str = "inetOrgPerson"
    group_object_class: str = "groupOfNames"

    @classmethod
    def of(cls, overrides: Mapping[str, str] | None) -> LdapAttributes:
        known = {f.name for f in fields(cls)}
        unknown = set(overrides or {}) - known
        if unknown:
            raise ConfigurationError(
                f"unknown LDAP attribute setting(s) {sorted(unknown)}; known: {sorted(known)}")
        return cls(**dict(overrides or {}))


@dataclass(frozen=True, slots=True)
class LdapLayout:
    """Where people and groups are, and how groups become roles."""

    users_dn: str
    groups_dn: str
    roles: frozenset[str]
    """Roles declared in the policy: the default mapping and the check of an explicit one."""
    group_roles: Mapping[str, str] | None = None
    """Group DN → role; ``None``: ``cn=<role>,<groups_dn>`` for every declared role."""
    attributes: LdapAttributes = field(default_factory=LdapAttributes)
    paged_size: int = 1000


class LdapDirectory:
    """Implements :class:`~guardian.ports.DirectorySource` and ``PasswordVerifier``."""

    def __init__(self, connections: LdapConnections, layout: LdapLayout) -> None:
        self._connections = connections
        self.layout = layout
        self._a = layout.attributes
        self._users_dn = normalise_dn(layout.users_dn)
        self._role_of_group = _explicit_mapping(layout)
        self._roles_by_lower = {r.lower(): r for r in layout.roles}
        self._groups_parent = normalise_dn(layout.groups_dn)
        self.warnings: list[str] = []
        """What the last fetch skipped or read in the strict way, for operators."""

    @property
    def name(self) -> str:
        return self._connections.name

    def close(self) -> None:
        self._connections.close()

    # -- the sync source -----------------------------------------------------------------------
    def fetch(self) -> list[Principal]:
        with _gc_paused():
            principals, warnings = self._connections.run(self._read_everything)
        self.warnings = warnings
        for warning in warnings[:20]:
            log.warning("directory entry", detail=warning)
        return principals

    def _read_everything(self, conn: Connection) -> tuple[list[Principal], list[str]]:
        a = self._a
        roles_of_member: dict[str, set[str]] = {}
        group_filter = f"(objectClass={escape_filter_chars(a.group_object_class)})"
        for dn, attrs in self._paged(conn, self.layout.groups_dn, group_filter,
                                     [a.group_name, a.member]):
            role = self._role_for_group(dn)
            if role is None:
                continue
            for member in attrs.get(a.member.lower(), ()):
                roles_of_member.setdefault(_norm_read(member), set()).add(role)
        reader = _UserReader(a, roles_of_member)
        user_attrs = [a.uid, a.name, a.disabled, a.employee_type, a.supplier,
                      a.contract_clause, a.manager]
        for dn, attrs in self._paged(conn, self.layout.users_dn, self._users_filter(),
                                     user_attrs):
            reader.add(dn, attrs)
        return reader.principals(), reader.warnings

    def _role_for_group(self, dn: str) -> str | None:
        key = _norm_read(dn)
        if self._role_of_group is not None:
            return self._role_of_group.get(key)
        rdn, _, parent = key.partition(",")
        attr, _, value = rdn.partition("=")
        if parent != self._groups_parent or attr != self._a.group_name.lower():
            return None
        return self._roles_by_lower.get(value)

    def _users_filter(self) -> str:
        return f"(objectClass={escape_filter_chars(self._a.user_object_class)})"

    def _paged(
        self, conn: Connection, base: str, search_filter: str, attributes: list[str]
    ) -> Iterator[tuple[str, dict[str, list[str]]]]:
        cookie: bytes | None = None
        while True:
            conn.search(base, search_filter, SUBTREE, attributes=attributes,
                        paged_size=self.layout.paged_size, paged_cookie=cookie)
            _require_complete(conn.result, base)
            for item in conn.response or ():
                if item.get("type") == "searchResEntry":
                    yield item["dn"], {k.lower(): v for k, v in item["attributes"].items()}
            control = (conn.result.get("controls") or {}).get(PAGED_RESULTS)
            cookie = control["value"]["cookie"] if control else None
            if not cookie:
                return

    # -- password sign-in ----------------------------------------------------------------------
    def verify_password(self, uid: str, password: str) -> bool:
        """Bind as the user: find their entry with an escaped search, refuse a disabled one,
        then bind with a fresh connection. An empty password is refused before any bind."""
        # Sign-in spends one scrypt on a uid the snapshot does not know; spend the same here,
        # so that a known uid (a few ms of LDAP) does not answer forty times faster.
        verify_local(password, DUMMY_HASH)
        if not password or "\x00" in password or not plausible_uid(uid):
            return False
        entry = self._connections.run(lambda conn: self._find_user(conn, uid))
        if entry is None:
            return False
        dn, attrs = entry
        if _strict_bool(attrs.get(self._a.disabled.lower()), missing=False) is not False:
            return False
        return self._connections.check_password(dn, password)

    def _find_user(self, conn: Connection, uid: str) -> tuple[str, dict[str, list[str]]] | None:
        a = self._a
        search_filter = (f"(&(objectClass={escape_filter_chars(a.user_object_class)})"
                         f"({escape_filter_chars(a.uid)}={escape_filter_chars(uid)}))")
        conn.search(self.layout.users_dn, search_filter, SUBTREE,
                    attributes=[a.uid, a.disabled], size_limit=2)
        entries = [e for e in conn.response or () if e.get("type") == "searchResEntry"]
        if conn.result.get("result") != 0 or len(entries) != 1:
            if len(entries) > 1:
                log.warning("sign-in refused: several directory entries match one uid")
            return None
        attrs = {k.lower(): v for k, v in entries[0]["attributes"].items()}
        # LDAP matched case- and space-insensitively: the entry must carry this exact uid.
        if uid not in attrs.get(a.uid.lower(), ()):
            return None
        return entries[0]["dn"], attrs


class _UserReader:
    """Turns user entries into principals, page after page, noting what it had to skip."""

    def __init__(self, attributes: LdapAttributes, roles_of_member: dict[str, set[str]]) -> None:
        self._a = attributes
        self._roles_of_member = roles_of_member
        self._rows: dict[str, tuple[Principal, str | None]] = {}
        self._uid_of_dn: dict[str, str] = {}
        self._duplicates: set[str] = set()
        self.warnings: list[str] = []

    def add(self, dn: str, attrs: dict[str, list[str]]) -> None:
        a = self._a
        key = _norm_read(dn)
        uid = _uid_of(dn, attrs.get(a.uid.lower(), ()), a.uid)
        if uid is None:
            self.warnings.append(f"{dn}: no usable {a.uid} (missing, several or invalid); skipped")
            return
        if uid in self._rows or uid in self._duplicates:
            self.warnings.append(f"{dn}: {a.uid} {uid!r} is used by another entry; both skipped")
            self._rows.pop(uid, None)
            self._duplicates.add(uid)
            return
        disabled = _strict_bool(attrs.get(a.disabled.lower()), missing=False)
        if disabled is None:
            self.warnings.append(f"{dn}: {a.disabled} is not TRUE or FALSE; read as disabled")
        kind_raw = _first(attrs.get(a.employee_type.lower())) or EmployeeType.EMPLOYEE.value
        try:
            kind = EmployeeType(kind_raw.strip().lower())
        except ValueError:
            self.warnings.append(
                f"{dn}: {a.employee_type} {kind_raw!r} unknown; read as contractor")
            kind = EmployeeType.CONTRACTOR
        principal = Principal(
            uid=uid,
            name=_first(attrs.get(a.name.lower())) or uid,
            roles=frozenset(self._roles_of_member.get(key, ())),
            employee_type=kind,
            active=disabled is False,
            supplier=_first(attrs.get(a.supplier.lower())),
            contract_clause=_strict_bool(attrs.get(a.contract_clause.lower()), missing=False)
            is True,
        )
        manager = _first(attrs.get(a.manager.lower()))
        self._rows[uid] = (principal, _norm_read(manager) if manager else None)
        self._uid_of_dn[key] = uid

    def principals(self) -> list[Principal]:
        out = []
        for principal, manager_dn in self._rows.values():
            if manager_dn is not None:
                manager = self._uid_of_dn.get(manager_dn) or _uid_from_rdn(manager_dn, self._a.uid)
                principal = _with_manager(principal, manager)
            out.append(principal)
        return out


def normalise_dn(dn: str) -> str:
    """A DN in one spelling (lower case, no spaces around separators) to compare DNs."""
    if not any(c in dn for c in '\\"+#;<> '):
        return dn.lower()  # the common case, and the hot one in a sync: nothing to unfold
    if not any(c in dn for c in '\\"+#;<>'):
        return ",".join(_norm_rdn(part) for part in dn.split(",") if part.strip())
    try:
        parts = parse_dn(dn, escape=False, strip=True)
    except LDAPException as exc:
        raise ConfigurationError(f"not a valid DN: {dn!r}") from exc
    out: list[str] = []
    for attr, value, separator in parts:
        out.append(f"{attr.strip().lower()}={value.strip().lower()}")
        out.append("+" if separator == "+" else ",")
    return "".join(out[:-1])


@contextlib.contextmanager
def _gc_paused() -> Iterator[None]:
    """Decoding 100 000 entries allocates millions of objects, which sets off a full cyclic
    collection every few hundred thousand (a third of the sync's time, measured). Reference
    counting still frees everything meanwhile; the cyclic collector resumes afterwards."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _require_complete(result: dict[str, Any], base: str) -> None:
    """ldap3 does not raise for a size or time limit, or a referral: the server then sent part
    of the people, or none. Applying that would drop everyone else: refuse it."""
    if result.get("result") != 0:
        raise DirectoryUnavailable(
            f"the directory answered the search of {base} only in part "
            f"({result.get('description')}): the sync is refused; lift the service "
            "account's size and time limits")


def _norm_read(dn: str) -> str:
    """:func:`normalise_dn` for a DN read from the server: one that does not parse matches
    nothing rather than stopping the sync."""
    try:
        return normalise_dn(dn)
    except ConfigurationError:
        return "\x00invalid:" + dn


def plausible_uid(uid: str) -> bool:
    return 0 < len(uid) <= MAX_UID_LENGTH and uid.isprintable() and uid == uid.strip()


def _norm_rdn(rdn: str) -> str:
    attr, _, value = rdn.partition("=")
    return f"{attr.strip().lower()}={value.strip().lower()}"


def _explicit_mapping(layout: LdapLayout) -> dict[str, str] | None:
    if layout.group_roles is None:
        return None
    undeclared = sorted(set(layout.group_roles.values()) - layout.roles)
    if undeclared:
        raise ConfigurationError(f"LDAP group mapping names undeclared role(s) {undeclared}")
    return {normalise_dn(dn): role for dn, role in layout.group_roles.items()}


def _uid_of(dn: str, values: Any, uid_attr: str) -> str | None:
    """The entry's uid: its only value, or the one its RDN names."""
    candidates = [v for v in values if isinstance(v, str) and plausible_uid(v)]
    if len(candidates) == 1 and len(values) == 1:
        return candidates[0]
    from_rdn = _uid_from_rdn(dn, uid_attr, lower=False)
    return from_rdn if from_rdn in candidates else None


def _uid_from_rdn(dn: str, uid_attr: str, *, lower: bool = True) -> str | None:
    rdn = dn.split(",", 1)[0]
    attr, _, value = rdn.partition("=")
    if attr.strip().lower() != uid_attr.lower() or "+" in rdn or "\\" in rdn:
        return None
    value = value.strip()
    return (value.lower() if lower else value) or None


def _first(values: Any) -> str | None:
    if not values:
        return None
    value = values[0] if isinstance(values, list) else values
    return str(value) if value is not None else None


def _strict_bool(values: Any, *, missing: bool) -> bool | None:
    """An LDAP BOOLEAN: ``missing`` when absent, ``None`` when it is neither TRUE nor FALSE."""
    value = _first(values)
    if value is None:
        return missing
    return {"TRUE": True, "FALSE": False}.get(value.strip().upper())


def _with_manager(principal: Principal, manager: str | None) -> Principal:
    if manager is None:
        return principal
    return Principal(principal.uid, principal.name, principal.roles, principal.employee_type,
                     principal.active, principal.supplier, principal.contract_clause, manager)
