"""How many failed attempts a counter allows, how long it then locks, and when it forgets.

A pure value object shared by the session service and the store: the store applies it in one
atomic statement (an attempt is reserved, or refused as locked, before any password is
checked), so it has to be expressible as data — :meth:`LockoutPolicy.lock_steps` gives the
doubling lock as a short table instead of an exponent a database may not compute.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class LockoutPolicy:
    max_failures: int = 5
    """Attempts without success allowed before the counter locks."""
    base_lock_s: float = 60.0
    max_lock_s: float = 3600.0
    window_s: float = 3600.0
    """A counter quiet this long starts again from zero (never less than ``max_lock_s``)."""

    def locked_for(self, failures: int) -> float:
        if failures < self.max_failures:
            return 0.0
        return float(min(self.max_lock_s, self.base_lock_s * 2 ** (failures - self.max_failures)))

    @property
    def forget_after_s(self) -> float:
        return max(self.window_s, self.max_lock_s)

    def lock_steps(self) -> tuple[float, ...]:
        """Lock periods for ``max_failures``, ``max_failures + 1``… up to (not including) the
        first that reaches ``max_lock_s``; every later count locks for ``max_lock_s``."""
        steps: list[float] = []
        while len(steps) < 64:
            period = self.locked_for(self.max_failures + len(steps))
            if period >= self.max_lock_s:
                break
            steps.append(period)
        return tuple(steps)


@dataclass(frozen=True, slots=True)
class SignInLimits:
    """The three counters behind sign-in (see :mod:`guardian.identity.attempts`)."""

    per_user_source: LockoutPolicy = LockoutPolicy()
    """One person from one address: the hard lock a guesser meets."""
    per_source: LockoutPolicy = LockoutPolicy(max_failures=50)
    """One address, every user: credential stuffing."""
    user_delay_base_s: float = 0.25
    user_delay_max_s: float = 2.0
    """One person from every address: only a growing delay, never a refusal."""

    @property
    def per_user(self) -> LockoutPolicy:
        """Counted like the others but never locking (the delay is read from it)."""
        base = self.per_user_source
        return LockoutPolicy(max_failures=2**31 - 1, base_lock_s=base.base_lock_s,
                             max_lock_s=base.max_lock_s, window_s=base.forget_after_s)

    def user_delay_s(self, failures: int) -> float:
        """Seconds to wait before checking a sign-in of someone ``failures`` attempts behind."""
        over = failures - self.per_user_source.max_failures
        if over < 0 or self.user_delay_max_s <= 0:
            return 0.0
        return float(min(self.user_delay_max_s, self.user_delay_base_s * 2 ** min(over, 32)))
