"""The client's exceptions, all in one tree.

Decisions never raise: a failure to get one is a deny (see :class:`~guardian_client.ClientReason`).
Signing in and stepping up are not decisions, so their failures are exceptions::

    GuardianClientError            anything the client could not do
    ├── GuardianUnavailable        no answer: connection, timeout, 5xx after every retry
    ├── InvalidResponse            an answer that is not the contract's
    ├── RequestRefused             a 4xx; ``status`` and Guardian's ``code`` say which
    │   ├── AuthenticationFailed   401: wrong password, code or token (never says which)
    │   └── AccountLocked          429: too many failures; try again later
    └── ObligationError            an obligation the application cannot fulfil on this value
"""

from __future__ import annotations


class GuardianClientError(Exception):
    """Root of every exception the client raises."""


class GuardianUnavailable(GuardianClientError):
    """Guardian could not be reached, timed out or kept failing (5xx) through every retry."""


class InvalidResponse(GuardianClientError):
    """Guardian answered something that is not the HTTP contract."""


class RequestRefused(GuardianClientError):
    """Guardian refused the request with a 4xx and ``{"error": {"code", "message"}}``."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message


class AuthenticationFailed(RequestRefused):
    """401: the password, the one-time code or the session token was not accepted."""


class AccountLocked(RequestRefused):
    """429: the account is locked after repeated failures."""


class ObligationError(GuardianClientError):
    """An obligation of a permit cannot be applied (unknown type, or a value it cannot mask)."""
