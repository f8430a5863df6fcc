"""The administrative gate: a fresh second factor first, then an active directory member who is
the session's user and holds one of the wanted roles."""

from __future__ import annotations

import pytest

from guardian.errors import FreshMfaRequired, RoleRequired
from guardian.identity.authorisation import authorise, mfa_is_fresh
from guardian.identity.principal import Principal
from guardian.identity.tokens import SessionClaims
from guardian.identity.vocabulary import AuthMethod

NOW = 10_000.0
IVAN = Principal("ivan", "Ivan", frozenset({"security_officer"}))


def _claims(sub: str = "ivan", age: float = 10, *amr: AuthMethod) -> SessionClaims:
    methods = amr or (AuthMethod.PASSWORD, AuthMethod.OTP)
    return SessionClaims(sub, "sid", NOW - age, methods, NOW - age, NOW + 600)


def test_a_fresh_factor_and_the_role_let_the_caller_in() -> None:
    caller = authorise(IVAN, _claims(), ["security_officer"], NOW, 300)

    assert (caller.uid, caller.roles) == ("ivan", IVAN.roles)


def test_a_password_only_or_stale_session_must_step_up() -> None:
    assert not mfa_is_fresh(_claims("ivan", 10, AuthMethod.PASSWORD), NOW, 300)
    assert mfa_is_fresh(_claims("ivan", 300), NOW, 300)
    with pytest.raises(FreshMfaRequired, match="300 s"):
        authorise(IVAN, _claims("ivan", 301), ["security_officer"], NOW, 300)


@pytest.mark.parametrize("principal", [
    None,
    Principal("ivan", "Ivan", frozenset({"security_officer"}), active=False),
    Principal("mallory", "Mallory", frozenset({"security_officer"})),
])
def test_someone_not_the_active_session_user_is_refused(principal: Principal | None) -> None:
    with pytest.raises(RoleRequired, match="not an active member"):
        authorise(principal, _claims(), ["security_officer"], NOW, 300)


def test_without_one_of_the_wanted_roles_the_refusal_names_them() -> None:
    with pytest.raises(RoleRequired, match="auditor, dpo"):
        authorise(IVAN, _claims(), ["dpo", "auditor"], NOW, 300)
