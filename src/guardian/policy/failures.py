"""Fail-closed denies, told to operators: which dependency failed, logged once per failure.

A decision that cannot be evaluated or recorded is a deny, never a permit; the requester sees
a reason code naming the dependency that failed (``directory_unavailable``,
``store_unavailable``, ``audit_unavailable``, else ``internal_error``), and the operator a
log line with the exception. A failing dependency fails every decision, thousands a second, so
each distinct failure (code, exception type, message) is logged when first seen and then at
most once per ``every_s``, with how many were not logged meanwhile.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from guardian.errors import (
    AuditError,
    DirectoryUnavailable,
    GuardianError,
    StoreUnavailable,
)
from guardian.logging import get_logger
from guardian.policy.vocabulary import ReasonCode

log = get_logger("guardian.policy")
_MAX_KINDS = 256
"""Distinct failures remembered at most (a message with ids in it cannot grow this forever)."""


def reason_for(exc: BaseException) -> ReasonCode:
    """The reason code of a deny caused by ``exc``: the dependency that failed, if known."""
    if isinstance(exc, DirectoryUnavailable):
        return ReasonCode.DIRECTORY_UNAVAILABLE
    if isinstance(exc, StoreUnavailable):
        return ReasonCode.STORE_UNAVAILABLE
    if isinstance(exc, AuditError):
        return ReasonCode.AUDIT_UNAVAILABLE
    return ReasonCode.INTERNAL_ERROR


class FailureLog:
    """Logs fail-closed denies, rate-limited per distinct failure."""

    def __init__(self, every_s: float = 60.0,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self.every_s = every_s
        self._monotonic = monotonic
        self._seen: dict[tuple[str, str, str], tuple[float, int]] = {}
        self._lock = threading.Lock()
        self.logged = 0

    def failed(self, code: ReasonCode, exc: BaseException, where: str) -> None:
        """A deny with ``code`` because ``exc`` was raised while ``where`` (evaluate, journal)."""
        message = exc.message if isinstance(exc, GuardianError) else str(exc)
        key = (code.value, type(exc).__name__, message[:200])
        now = self._monotonic()
        with self._lock:
            last, suppressed = self._seen.get(key, (None, 0))
            if last is not None and now - last < self.every_s:
                self._seen[key] = (last, suppressed + 1)
                return
            if last is None and len(self._seen) >= _MAX_KINDS:
                self._seen.pop(next(iter(self._seen)))
            self._seen[key] = (now, 0)
            self.logged += 1
        log.error("decision denied: a dependency failed", reason=code.value, step=where,
                  error=type(exc).__name__, detail=message[:200], not_logged_since=suppressed,
                  exc_info=exc)
