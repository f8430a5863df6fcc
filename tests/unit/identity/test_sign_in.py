"""Sign-in and step-up as use cases: every attempt journalled, a refusal with its reason and
no session, an accepted one before its token is handed out, and none without its record."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from guardian.adapters.memory.ports import MemoryJournal
from guardian.clock import ManualClock
from guardian.errors import AuditUnavailable, InvalidCredentials
from guardian.identity.sessions import SessionService
from guardian.identity.sign_in import SignInService

PASSWORD = "alice-demo-pass"
Code = Callable[..., str]


@pytest.fixture
def journal() -> MemoryJournal:
    return MemoryJournal()


@pytest.fixture
def sign_in(service: SessionService, journal: MemoryJournal, clock: ManualClock) -> SignInService:
    return SignInService(service, journal, clock)


def _actions(journal: MemoryJournal) -> list[str]:
    return [e["event"]["action"] for e in journal.events]


def test_a_sign_in_is_journalled_with_its_session_and_factors(
    sign_in: SignInService, journal: MemoryJournal, code_for: Code
) -> None:
    issued = sign_in.sign_in("alice", PASSWORD, code_for("alice"), source="10.0.0.1")

    [event] = journal.events
    assert event["event"]["action"] == "session.created"
    assert event["user"]["id"] == "alice"
    assert event["guardian"]["session_id"] == issued.claims.sid
    assert event["guardian"]["amr"] == ["pwd", "otp"]


def test_a_refused_sign_in_is_journalled_with_its_reason_and_an_unknown_id_as_a_digest(
    sign_in: SignInService, journal: MemoryJournal, code_for: Code
) -> None:
    with pytest.raises(InvalidCredentials):
        sign_in.sign_in("alice", "wrong", code_for("alice"))
    with pytest.raises(InvalidCredentials):
        sign_in.sign_in("typed-my-password", PASSWORD, code_for("alice"))

    assert _actions(journal) == ["session.failed", "session.failed"]
    assert journal.events[0]["guardian"]["reason"] == "invalid_credentials"
    assert journal.events[0]["user"]["id"] == "alice"
    assert "typed-my-password" not in str(journal.events[1])


def test_no_session_is_handed_out_when_the_journal_cannot_record_it(
    sign_in: SignInService, journal: MemoryJournal, code_for: Code
) -> None:
    journal.fail = True

    with pytest.raises(AuditUnavailable):
        sign_in.sign_in("alice", PASSWORD, code_for("alice"))


def test_a_step_up_is_journalled_and_a_refused_one_with_its_reason(
    sign_in: SignInService, journal: MemoryJournal, clock: ManualClock, code_for: Code
) -> None:
    issued = sign_in.sign_in("alice", PASSWORD, code_for("alice"))
    clock.advance(60)

    valid = {code_for("alice", offset) for offset in (-30, 0, 30)}
    wrong = next(c for c in ("000000", "111111", "222222", "333333") if c not in valid)
    with pytest.raises(InvalidCredentials):
        sign_in.step_up(issued.token, wrong)
    stepped = sign_in.step_up(issued.token, code_for("alice"))

    assert _actions(journal) == ["session.created", "session.failed", "session.stepped_up"]
    assert journal.events[1]["guardian"]["reason"] == "invalid_credentials"
    assert journal.events[1]["guardian"]["step_up"] is True
    assert journal.events[2]["guardian"]["session_id"] == stepped.claims.sid


def test_a_security_key_sign_in_without_keys_is_refused_and_journalled_as_such(
    sign_in: SignInService, journal: MemoryJournal
) -> None:
    with pytest.raises(InvalidCredentials):
        sign_in.sign_in_webauthn("alice", PASSWORD, {"id": "x"})

    [event] = journal.events
    assert (event["guardian"]["reason"], event["guardian"]["factor"]) == (
        "invalid_credentials", "webauthn")
