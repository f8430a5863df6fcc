"""The LDAP boundary: a read failure is ``DirectoryUnavailable`` naming what Guardian was doing
and ldap3's kind of error (and its result code name), a refused removal is
``DirectoryWriteFailed`` naming the person, group and kind; neither carries the DN, the
server's message or a credential that ldap3 put into its exception."""

from __future__ import annotations

from ldap3.core.exceptions import (
    LDAPBindError,
    LDAPInsufficientAccessRightsResult,
    LDAPSocketOpenError,
    LDAPStartTLSError,
)

from guardian.adapters.ldap.errors import unavailable, write_failed
from guardian.errors import DirectoryUnavailable, DirectoryWriteFailed

BIND_DN = "cn=guardian-svc,ou=services,dc=example,dc=org"


def test_a_socket_failure_names_the_step_and_the_kind() -> None:
    error = unavailable(LDAPSocketOpenError("unable to open socket"), "reading the directory")

    assert isinstance(error, DirectoryUnavailable)
    assert error.code == "directory_unavailable"
    assert error.message == "LDAP unavailable while reading the directory: SocketOpenError"


def test_a_result_error_gives_its_code_name_not_its_dn_or_server_message() -> None:
    refused = LDAPInsufficientAccessRightsResult(
        result=50, description="insufficientAccessRights", dn=BIND_DN,
        message="no write access to userPassword=hunter2", response_type="modifyResponse")

    error = unavailable(refused, "connecting as the service account")

    assert error.message == ("LDAP unavailable while connecting as the service account: "
                             "InsufficientAccessRightsResult (insufficientAccessRights)")
    assert BIND_DN not in error.message and "hunter2" not in error.message


def test_a_bind_error_message_is_not_repeated() -> None:
    error = unavailable(LDAPBindError(f"automatic bind not successful - {BIND_DN} hunter2"),
                        "connecting as the user")

    assert error.message == "LDAP unavailable while connecting as the user: BindError"


def test_a_starttls_failure_says_so_without_ldap3_s_prefix() -> None:
    error = unavailable(LDAPStartTLSError("startTLS failed - certificate verify failed"),
                        "reading the directory")

    assert error.message == ("LDAP unavailable while reading the directory: StartTLS refused "
                             "or failed (certificate verify failed)")


def test_a_refused_removal_names_person_group_and_kind_only() -> None:
    refused = LDAPInsufficientAccessRightsResult(
        result=50, description="insufficientAccessRights", dn=BIND_DN,
        message="password hunter2 lacks write", response_type="modifyResponse")

    error = write_failed(refused, "alice", "cn=analysts,ou=groups,dc=example,dc=org")

    assert isinstance(error, DirectoryWriteFailed)
    assert error.code == "directory_write_failed"
    assert error.message == ("the directory refused to remove alice from "
                             "cn=analysts,ou=groups,dc=example,dc=org: "
                             "LDAPInsufficientAccessRightsResult")
    assert "hunter2" not in error.message and BIND_DN not in error.message
