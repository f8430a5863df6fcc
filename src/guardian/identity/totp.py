"""TOTP codes (RFC 6238, via pyotp): which time step a code belongs to, compared in constant time.

Replay protection is not here but in :class:`guardian.ports.OtpLedger`: the session service
claims the returned time step, and a second use of the same step is refused.
"""

from __future__ import annotations

import hmac

import pyotp

STEP_S = 30
DRIFT_STEPS = 1
"""Codes from one step before or after now are accepted (clock drift)."""


def matching_timestep(secret: str, code: str, at: float) -> int | None:
    """The time step whose code equals ``code``, or ``None``; every candidate is compared."""
    if len(code) != 6 or not code.isascii() or not code.isdigit():
        return None
    now_step = int(at // STEP_S)
    found: int | None = None
    try:
        totp = pyotp.TOTP(secret)
        for step in range(now_step - DRIFT_STEPS, now_step + DRIFT_STEPS + 1):
            if hmac.compare_digest(totp.at(step * STEP_S), code):
                found = step if found is None else found
    except (ValueError, TypeError):
        return None  # a malformed seed matches nothing; enrolment must fix it
    return found


def code_at(secret: str, at: float) -> str:
    """The code an authenticator shows at ``at`` (used by tests and the demo)."""
    return str(pyotp.TOTP(secret).at(at))
