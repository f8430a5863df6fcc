"""Who may call Guardian's administrative endpoints: directory roles and a fresh second factor.

Only the roles the directory gives count here, never a temporary grant, so a grant cannot be
used to hand out the power to grant. The second factor must be at most ``max_mfa_age_s`` old:
an officer's session left open all day does not change policy.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from guardian.errors import FreshMfaRequired, RoleRequired
from guardian.identity.principal import Principal
from guardian.identity.tokens import SessionClaims


@dataclass(frozen=True, slots=True)
class Caller:
    """A person calling an administrative endpoint, once their roles and session are checked."""

    uid: str
    roles: frozenset[str]
    claims: SessionClaims


def mfa_is_fresh(claims: SessionClaims, now: float, max_age_s: float) -> bool:
    return claims.multi_factor and now - claims.auth_time <= max_age_s


def authorise(
    principal: Principal | None, claims: SessionClaims, wanted: Iterable[str], now: float,
    max_mfa_age_s: float,
) -> Caller:
    """The caller if ``principal`` holds one of ``wanted`` with a fresh second factor."""
    wanted = frozenset(wanted)
    if not mfa_is_fresh(claims, now, max_mfa_age_s):
        raise FreshMfaRequired(
            f"this needs a second factor at most {int(max_mfa_age_s)} s old: step up first")
    if principal is None or not principal.active or principal.uid != claims.sub:
        raise RoleRequired("the session's user is not an active member of the directory")
    if not principal.roles & wanted:
        raise RoleRequired(f"this needs one of the roles {', '.join(sorted(wanted))}")
    return Caller(principal.uid, principal.roles, claims)
