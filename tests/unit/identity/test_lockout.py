"""The lockout policy as data: nothing locks below the limit, the lock doubles up to its cap,
``lock_steps`` is that doubling as a table, and the per-person counter only delays."""

from __future__ import annotations

from guardian.identity.lockout import LockoutPolicy, SignInLimits


def test_the_lock_starts_at_the_limit_and_doubles_up_to_its_cap() -> None:
    policy = LockoutPolicy(max_failures=3, base_lock_s=10, max_lock_s=70)

    assert [policy.locked_for(n) for n in range(1, 8)] == [0.0, 0.0, 10.0, 20.0, 40.0, 70.0,
                                                             70.0]


def test_lock_steps_are_the_periods_below_the_cap() -> None:
    policy = LockoutPolicy(max_failures=3, base_lock_s=10, max_lock_s=70)

    assert policy.lock_steps() == (10.0, 20.0, 40.0)
    assert LockoutPolicy(base_lock_s=3600, max_lock_s=3600).lock_steps() == ()


def test_a_counter_is_forgotten_no_sooner_than_its_longest_lock() -> None:
    assert LockoutPolicy(window_s=60, max_lock_s=600).forget_after_s == 600
    assert LockoutPolicy(window_s=7200, max_lock_s=600).forget_after_s == 7200


def test_the_per_user_counter_never_locks_and_its_delay_grows_to_a_cap() -> None:
    limits = SignInLimits(per_user_source=LockoutPolicy(max_failures=2), user_delay_base_s=0.5,
                          user_delay_max_s=3.0)

    assert limits.per_user.locked_for(10**6) == 0.0
    assert [limits.user_delay_s(n) for n in range(0, 7)] == [0.0, 0.0, 0.5, 1.0, 2.0, 3.0, 3.0]
    assert SignInLimits(user_delay_max_s=0).user_delay_s(100) == 0.0
