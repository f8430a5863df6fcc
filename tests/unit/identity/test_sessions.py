"""Signing in with password and TOTP, replay refusal, lockout, and step-up."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from guardian.clock import ManualClock
from guardian.errors import AccountLocked, InvalidCredentials, InvalidToken
from guardian.identity.principal import Principal
from guardian.identity.sessions import LockoutPolicy, SessionService, SignInLimits
from guardian.identity.tokens import TokenSigner
from identity_support import SECRETS, FakeDirectory, FakeLedger, FakePasswords, FakeSecrets

PASSWORD = "alice-demo-pass"
Code = Callable[..., str]


def _wrong_code(code_for: Code) -> str:
    valid = {code_for("alice", offset) for offset in (-30, 0, 30)}
    return next(c for c in (f"{n:06d}" for n in range(1_000_000)) if c not in valid)


def _fail(service: SessionService, times: int, otp: str) -> None:
    for _ in range(times):
        with pytest.raises(InvalidCredentials):
            service.sign_in("alice", "not-the-password", otp)


def test_sign_in_with_password_and_code_issues_a_two_factor_session(
    service: SessionService, clock: ManualClock, code_for: Code
) -> None:
    issued = service.sign_in("alice", PASSWORD, code_for("alice"))

    claims = issued.claims
    assert claims.sub == "alice"
    assert claims.amr == ("pwd", "otp")
    assert claims.multi_factor
    assert claims.auth_time == claims.iat == clock.now()
    assert claims.exp == clock.now() + 8 * 3600
    assert service.verify(issued.token) == claims


def test_every_kind_of_failed_sign_in_gives_the_same_answer(
    service: SessionService, code_for: Code
) -> None:
    code = code_for("alice")
    attempts = [("alice", "wrong-password", code), ("alice", PASSWORD, _wrong_code(code_for)),
                ("nobody", PASSWORD, code), ("alice", PASSWORD, "12ab56")]
    messages = []
    for uid, password, otp in attempts:
        with pytest.raises(InvalidCredentials) as caught:
            service.sign_in(uid, password, otp)
        assert type(caught.value) is InvalidCredentials
        messages.append(caught.value.message)

    assert len(set(messages)) == 1


def test_a_disabled_account_is_refused_even_with_both_factors_right(
    service: SessionService, code_for: Code
) -> None:
    with pytest.raises(InvalidCredentials):
        service.sign_in("heidi", "heidi-demo-pass", code_for("heidi"))


def test_a_code_is_accepted_only_once(service: SessionService, code_for: Code) -> None:
    code = code_for("alice")
    service.sign_in("alice", PASSWORD, code)

    with pytest.raises(InvalidCredentials):
        service.sign_in("alice", PASSWORD, code)


def test_a_mistyped_password_does_not_use_up_the_code(
    service: SessionService, code_for: Code
) -> None:
    code = code_for("alice")
    _fail(service, 1, code)

    assert service.sign_in("alice", PASSWORD, code).claims.sub == "alice"


def test_five_failures_lock_the_account_even_for_the_right_factors(
    service: SessionService, code_for: Code
) -> None:
    _fail(service, 5, code_for("alice"))

    with pytest.raises(AccountLocked):
        service.sign_in("alice", PASSWORD, code_for("alice"))


def test_a_successful_sign_in_resets_the_failure_count(
    service: SessionService, clock: ManualClock, code_for: Code
) -> None:
    _fail(service, 4, code_for("alice"))
    service.sign_in("alice", PASSWORD, code_for("alice"))
    _fail(service, 4, code_for("alice"))
    clock.advance(30)

    assert service.sign_in("alice", PASSWORD, code_for("alice")).claims.sub == "alice"


def test_the_lock_expires_with_the_clock_and_doubles_with_each_further_failure(
    service: SessionService, clock: ManualClock, code_for: Code
) -> None:
    _fail(service, 5, code_for("alice"))

    clock.advance(59)
    with pytest.raises(AccountLocked):
        service.sign_in("alice", PASSWORD, code_for("alice"))
    clock.advance(1)
    _fail(service, 1, code_for("alice"))  # the sixth failure: locked for 120 s

    clock.advance(119)
    with pytest.raises(AccountLocked):
        service.sign_in("alice", PASSWORD, code_for("alice"))
    clock.advance(1)
    assert service.sign_in("alice", PASSWORD, code_for("alice")).claims.sub == "alice"


def test_the_lock_period_doubles_up_to_its_ceiling() -> None:
    policy = LockoutPolicy(max_failures=5, base_lock_s=60, max_lock_s=3600)

    assert [policy.locked_for(n) for n in (0, 4, 5, 6, 7, 11, 12, 40)] == [
        0, 0, 60, 120, 240, 3600, 3600, 3600]


def test_step_up_issues_a_token_with_a_fresh_auth_time_and_the_same_expiry(
    service: SessionService, clock: ManualClock, code_for: Code
) -> None:
    signed_in = service.sign_in("alice", PASSWORD, code_for("alice"))
    clock.advance(600)

    stepped = service.step_up(signed_in.token, code_for("alice"))

    assert stepped.claims.sub == "alice"
    assert stepped.claims.auth_time == clock.now()
    assert stepped.claims.auth_time > signed_in.claims.auth_time
    assert stepped.claims.exp == signed_in.claims.exp
    assert stepped.claims.amr == ("pwd", "otp")
    assert stepped.token != signed_in.token
    assert service.verify(stepped.token) == stepped.claims


def test_step_up_refuses_a_code_already_used(
    service: SessionService, clock: ManualClock, code_for: Code
) -> None:
    signed_in = service.sign_in("alice", PASSWORD, code_for("alice"))
    with pytest.raises(InvalidCredentials):
        service.step_up(signed_in.token, code_for("alice"))  # the sign-in code

    clock.advance(30)
    fresh = code_for("alice")
    service.step_up(signed_in.token, fresh)
    with pytest.raises(InvalidCredentials):
        service.step_up(signed_in.token, fresh)


def test_step_up_refuses_a_wrong_code_and_counts_it_as_a_failure(
    service: SessionService, code_for: Code
) -> None:
    token = service.sign_in("alice", PASSWORD, code_for("alice")).token
    wrong = _wrong_code(code_for)
    for _ in range(5):
        with pytest.raises(InvalidCredentials):
            service.step_up(token, wrong)

    with pytest.raises(AccountLocked):
        service.step_up(token, code_for("alice", 30))


def test_step_up_refuses_an_expired_session(
    service: SessionService, clock: ManualClock, code_for: Code
) -> None:
    token = service.sign_in("alice", PASSWORD, code_for("alice")).token
    clock.advance(8 * 3600)

    with pytest.raises(InvalidToken):
        service.step_up(token, code_for("alice"))


def test_an_unknown_user_locks_like_a_real_one_so_lockout_reveals_nothing(
    service: SessionService,
) -> None:
    for uid in ("alice", "nobody"):
        for _ in range(5):
            with pytest.raises(InvalidCredentials):
                service.sign_in(uid, "wrong", "000000")
        with pytest.raises(AccountLocked):
            service.sign_in(uid, "wrong", "000000")


def test_a_malformed_totp_seed_refuses_the_code_instead_of_crashing() -> None:
    from guardian.identity.totp import matching_timestep

    assert matching_timestep("not base32 at all!", "123456", 1_790_000_000.0) is None


def test_step_up_is_refused_once_the_account_is_disabled(
    service: SessionService, clock: ManualClock, code_for: Code
) -> None:
    from guardian.identity.tokens import TokenSigner
    from guardian.identity.vocabulary import AuthMethod

    token, _ = TokenSigner(b"k" * 32).issue(
        "heidi", (AuthMethod.PASSWORD, AuthMethod.OTP), clock.now(), clock.now(), 3600)
    with pytest.raises(InvalidCredentials):
        service.step_up(token, code_for("heidi"))


def test_an_attacker_failing_100_times_from_one_source_does_not_lock_out_another(
    service: SessionService, code_for: Code
) -> None:
    # Finding 6: anyone could lock any account (the security officer's too) for up to an hour.
    outcomes = set()
    for _ in range(100):
        try:
            service.sign_in("alice", "guess", "000000", source="203.0.113.66")
        except (InvalidCredentials, AccountLocked) as exc:
            outcomes.add(exc.code)

    assert outcomes == {"invalid_credentials", "account_locked"}
    issued = service.sign_in("alice", PASSWORD, code_for("alice"), source="198.51.100.7")
    assert issued.claims.sub == "alice"
    with pytest.raises(AccountLocked):  # the attacker's own address stays locked
        service.sign_in("alice", PASSWORD, code_for("alice", 30), source="203.0.113.66")


def test_failures_from_many_sources_only_delay_and_a_success_clears_the_delay(
    service: SessionService, code_for: Code
) -> None:
    for n in range(12):
        with pytest.raises(InvalidCredentials):
            service.sign_in("alice", "guess", "000000", source=f"203.0.113.{n}")

    assert 0 < service.delay_s("alice") <= 2.0
    assert service.delay_s("heidi") == 0
    service.sign_in("alice", PASSWORD, code_for("alice"), source="198.51.100.7")
    assert service.delay_s("alice") == 0


def test_one_source_trying_many_users_is_locked_for_all_of_them(
    clock: ManualClock, ledger: FakeLedger, signer: TokenSigner, code_for: Code
) -> None:
    directory = FakeDirectory([Principal("alice", "Alice", frozenset({"customer-care"}))])
    service = SessionService(
        directory, FakePasswords({"alice": PASSWORD}), FakeSecrets(SECRETS), ledger, signer,
        clock, lockout=SignInLimits(per_source=LockoutPolicy(max_failures=10)))
    for n in range(10):
        with pytest.raises(InvalidCredentials):
            service.sign_in(f"user-{n}", "guess", "000000", source="203.0.113.9")

    with pytest.raises(AccountLocked) as stuffed:
        service.sign_in("alice", PASSWORD, code_for("alice"), source="203.0.113.9")
    assert stuffed.value.message == "too many failed attempts; try again later"
    assert service.sign_in("alice", PASSWORD, code_for("alice"), source="10.0.0.1").claims


def test_unknown_user_ids_are_kept_only_as_keyed_digests_and_forgotten(
    service: SessionService, ledger: FakeLedger, clock: ManualClock
) -> None:
    # Finding 15: every unknown id tried stayed for good, in clear (a password typed as user).
    typed = "Tr0ub4dor&3-in-the-user-field"
    with pytest.raises(InvalidCredentials):
        service.sign_in(typed, "guess", "000000", source="203.0.113.5")

    subject = service.subject(typed)
    assert subject.startswith("unknown:") and len(subject) == len("unknown:") + 16
    assert subject == service.subject(typed) != service.subject(typed + "x")
    assert service.subject("alice") == "alice"
    assert not any(typed in key for key in ledger.counters)
    assert any(subject in key for key in ledger.counters)
    clock.advance(3601)
    with pytest.raises(InvalidCredentials):
        service.sign_in("alice", "guess", "000000", source="203.0.113.5")
    assert not any(subject in key for key in ledger.counters)
