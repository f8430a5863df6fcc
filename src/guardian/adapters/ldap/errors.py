"""The LDAP adapters' one translation of ldap3's errors into Guardian's typed errors.

Reading fails as ``DirectoryUnavailable`` (:func:`unavailable`), removing a membership as
``DirectoryWriteFailed`` (:func:`write_failed`); neither message carries a credential or a
bind DN's password, only what failed and ldap3's kind of error.
"""

from __future__ import annotations

from ldap3.core.exceptions import LDAPException, LDAPStartTLSError

from guardian.errors import DirectoryUnavailable, DirectoryWriteFailed


def unavailable(exc: LDAPException, doing: str) -> DirectoryUnavailable:
    """A typed error that names the failure without leaking credentials."""
    if isinstance(exc, LDAPStartTLSError):
        return DirectoryUnavailable(f"LDAP unavailable while {doing}: StartTLS refused or "
                                    f"failed ({str(exc).removeprefix('startTLS failed - ')})")
    kind = type(exc).__name__.removeprefix("LDAP")
    detail = getattr(exc, "description", None) or ""
    return DirectoryUnavailable(f"LDAP unavailable while {doing}: {kind}"
                                + (f" ({detail})" if detail else ""))


def write_failed(exc: LDAPException, uid: str, group: str) -> DirectoryWriteFailed:
    return DirectoryWriteFailed(f"the directory refused to remove {uid} from {group}: "
                                f"{type(exc).__name__}")
