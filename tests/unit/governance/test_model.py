"""Governance records: a grant gives its role only inside its window and never once revoked;
scopes parse without ever widening; a key record shows everything but the key."""

from __future__ import annotations

from guardian.governance.model import (
    ApiKeyRecord,
    KeySource,
    Scope,
    TemporaryGrant,
    format_scopes,
    parse_scopes,
)


def _grant(**changes: object) -> TemporaryGrant:
    values: dict[str, object] = {"id": "g1", "uid": "alice", "role": "support", "starts_at": 100.0,
                                 "expires_at": 200.0, "reason": "ticket 1", "granted_by": "ivan"}
    values.update(changes)
    return TemporaryGrant(**values)  # type: ignore[arg-type]


def test_a_grant_gives_its_role_from_its_start_until_just_before_its_expiry() -> None:
    grant = _grant()

    assert [grant.gives_role_at(t) for t in (99.9, 100.0, 199.9, 200.0)] == [
        False, True, True, False]
    assert not grant.revoked


def test_a_revoked_grant_gives_nothing_whatever_its_window() -> None:
    grant = _grant(revoked_at=150.0, revoked_by="ivan", revoke_reason="done")

    assert grant.revoked
    assert not grant.gives_role_at(120.0)
    shown = grant.as_dict()
    assert (shown["revoked_at"], shown["justification"]) == ("1970-01-01T00:02:30Z",
                                                             "ticket 1")


def test_scopes_parse_back_and_an_unknown_name_is_left_out() -> None:
    both = frozenset({Scope.DECIDE, Scope.CONSENT})

    assert parse_scopes(format_scopes(both)) == both
    assert format_scopes(both) == "consent,decide"
    assert parse_scopes("decide,admin,,everything") == frozenset({Scope.DECIDE})
    assert parse_scopes("") == frozenset()


def test_a_key_record_is_shown_without_the_key_and_active_until_revoked() -> None:
    record = ApiKeyRecord("k1", "crm", None, None, source=KeySource.FILE)

    assert record.active
    assert record.as_dict() == {"id": "k1", "name": "crm", "source": "file", "created_at": None,
                                "created_by": None, "revoked_at": None, "active": True,
                                "scopes": ["decide"]}
    assert not ApiKeyRecord("k1", "crm", 1.0, "ivan", revoked_at=2.0).active
