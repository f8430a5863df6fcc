"""Explicit settings of a client: timeouts, connection pool and the retry policy.

Defaults suit an application asking Guardian on its request path: a decision is a few
milliseconds, so a second of connect or read time means Guardian is in trouble, and the
application's user should get a fast deny rather than a hanging page.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import httpx

DEFAULT_TIMEOUT = httpx.Timeout(connect=1.0, read=2.0, write=2.0, pool=1.0)
DEFAULT_LIMITS = httpx.Limits(max_connections=20, max_keepalive_connections=10,
                              keepalive_expiry=30.0)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Retry on connection errors, timeouts and 5xx only (never a 4xx), with capped back-off.

    Attempt ``n`` (from 1) that failed waits ``min(max_delay_s, base_delay_s * 2 ** (n - 1))``,
    scaled by a random factor in ``[1 - jitter, 1]`` so that many clients do not retry in step.
    """

    attempts: int = 3
    """Tries in all, the first included; 1 means no retry."""
    base_delay_s: float = 0.05
    max_delay_s: float = 1.0
    jitter: float = 0.5

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise ValueError("attempts must be at least 1")
        if self.base_delay_s < 0 or self.max_delay_s < 0 or not 0 <= self.jitter <= 1:
            raise ValueError("delays must be non-negative and jitter within [0, 1]")

    def delay_s(self, failed_attempt: int) -> float:
        """How long to wait after the ``failed_attempt``-th try (1-based) failed."""
        capped = min(self.max_delay_s, self.base_delay_s * 2 ** (failed_attempt - 1))
        # Jitter spreads retries; it is not security-relevant randomness.
        return float(capped * (1 - self.jitter * random.random()))  # noqa: S311


NO_RETRY = RetryPolicy(attempts=1)
