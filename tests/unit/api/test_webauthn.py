"""Security keys over HTTP, end to end with a software authenticator: registration, sign-in
with password and key checked together (amr hwk), options that tell nothing about the user,
single-use challenges, origin binding, cloned-key counters."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from guardian.bootstrap import Guardian, build
from guardian.clock import ManualClock, iso_utc
from mfa_support import SoftAuthenticator, directory_with_newcomer
from support import API_KEY, Signer, decision_body, demo_settings

PASSWORD = {"user": "otto", "password": "otto-demo-pass"}


@pytest.fixture
def guardian(tmp_path: Path, clock: ManualClock) -> Iterator[Guardian]:
    settings = demo_settings(tmp_path, directory_file=directory_with_newcomer(tmp_path))
    g = build(settings, clock=clock, prepare=True)
    yield g
    g.close()


@pytest.fixture
def key() -> SoftAuthenticator:
    return SoftAuthenticator()


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _register(client: TestClient, token: str, key: SoftAuthenticator) -> None:
    options = client.post("/v1/mfa/webauthn/register/options", headers=_bearer(token))
    assert options.status_code == 200, options.text
    done = client.post("/v1/mfa/webauthn/register", headers=_bearer(token),
                       json={"credential": key.register(options.json()["publicKey"])})
    assert done.status_code == 201, done.text


def _options(client: TestClient, uid: str = "otto") -> dict[str, Any]:
    response = client.post("/v1/sessions/webauthn/options", json={"user": uid})
    assert response.status_code == 200, response.text
    options: dict[str, Any] = response.json()["publicKey"]
    return options


def _invited_session(client: TestClient, guardian: Guardian) -> str:
    code = guardian.mfa.invitations.invite("ivan", "otto").code
    response = client.post("/v1/sessions", json={**PASSWORD, "invitation": code})
    assert response.status_code == 201, response.text
    token: str = response.json()["token"]
    return token


@pytest.fixture
def registered(client: TestClient, key: SoftAuthenticator, guardian: Guardian
               ) -> SoftAuthenticator:
    token = _invited_session(client, guardian)
    _register(client, token, key)
    return key


def test_a_registered_key_signs_in_with_the_password_and_decisions_accept_it(
    client: TestClient, registered: SoftAuthenticator
) -> None:
    options = _options(client)
    assert options["rpId"] == "localhost"
    assert len(options["allowCredentials"]) == 1

    response = client.post("/v1/sessions/webauthn", json={
        **PASSWORD, "credential": registered.assertion(options)})

    assert response.status_code == 201, response.text
    assert response.json()["amr"] == ["pwd", "hwk"]
    decision = client.post("/v1/decisions", headers={"X-API-Key": API_KEY},
                           json=decision_body("otto", response.json()["token"])).json()
    assert decision["decision"] == "permit"


def test_with_a_key_registered_the_password_alone_no_longer_signs_in(
    client: TestClient, registered: SoftAuthenticator
) -> None:
    assert client.post("/v1/sessions", json=PASSWORD).status_code == 401


def test_a_challenge_answers_once(client: TestClient, registered: SoftAuthenticator) -> None:
    assertion = registered.assertion(_options(client))
    first = client.post("/v1/sessions/webauthn", json={**PASSWORD, "credential": assertion})

    replayed = client.post("/v1/sessions/webauthn",
                           json={**PASSWORD, "credential": assertion})

    assert first.status_code == 201
    assert (replayed.status_code, replayed.json()["error"]["code"]) == (401, "invalid_credentials")


def test_an_assertion_made_on_another_origin_is_refused(
    client: TestClient, registered: SoftAuthenticator
) -> None:
    phished = registered.assertion(_options(client), origin="https://guardian.example.evil")

    response = client.post("/v1/sessions/webauthn", json={**PASSWORD, "credential": phished})

    assert response.status_code == 401


def test_a_signature_counter_going_backwards_is_refused_as_a_cloned_key(
    client: TestClient, registered: SoftAuthenticator
) -> None:
    ok = client.post("/v1/sessions/webauthn", json={
        **PASSWORD, "credential": registered.assertion(_options(client), sign_count=7)})
    clone = client.post("/v1/sessions/webauthn", json={
        **PASSWORD, "credential": registered.assertion(_options(client), sign_count=7)})

    assert (ok.status_code, clone.status_code) == (201, 401)


def _shape(options: dict[str, Any]) -> tuple[object, ...]:
    return (sorted(options), options["rpId"], options["userVerification"],
            [(sorted(c), c["type"], len(c["id"])) for c in options["allowCredentials"]],
            len(options["challenge"]))


def test_options_look_the_same_whoever_asks_and_whatever_the_password(
    client: TestClient, registered: SoftAuthenticator
) -> None:
    # Finding 9: the options answered a right password with 200 and a wrong one with 401.
    real = _options(client, "otto")
    with_password = client.post("/v1/sessions/webauthn/options", json={
        "user": "otto", "password": "wrong"})
    no_key, unknown = _options(client, "alice"), _options(client, "no-such-user")

    assert with_password.status_code == 200
    assert _shape(real) == _shape(with_password.json()["publicKey"]) == _shape(no_key) \
        == _shape(unknown)
    assert no_key["allowCredentials"] == _options(client, "alice")["allowCredentials"]
    assert no_key["allowCredentials"] != unknown["allowCredentials"]
    assert no_key["challenge"] != _options(client, "alice")["challenge"]


def test_the_password_is_checked_with_the_assertion_and_wrong_ones_lock(
    client: TestClient, registered: SoftAuthenticator
) -> None:
    wrong = [client.post("/v1/sessions/webauthn", json={
        "user": "otto", "password": "nope", "credential": registered.assertion(_options(client))})
        for _ in range(5)]
    locked = client.post("/v1/sessions/webauthn", json={
        **PASSWORD, "credential": registered.assertion(_options(client))})

    assert [r.status_code for r in wrong] == [401] * 5
    assert wrong[0].json()["error"]["code"] == "invalid_credentials"
    assert (locked.status_code, locked.json()["error"]["code"]) == (429, "account_locked")


def test_a_key_answering_for_someone_else_is_refused(
    client: TestClient, registered: SoftAuthenticator, signer: Signer
) -> None:
    signer.token("alice")  # alice exists, with TOTP, but no key
    options = _options(client)
    response = client.post("/v1/sessions/webauthn", json={
        "user": "alice", "password": "alice-demo-pass",
        "credential": registered.assertion(options)})

    assert response.status_code == 401


def test_a_registration_from_another_origin_or_without_options_is_refused(
    client: TestClient, key: SoftAuthenticator, guardian: Guardian
) -> None:
    token = _invited_session(client, guardian)
    unasked = client.post("/v1/mfa/webauthn/register", headers=_bearer(token),
                          json={"credential": {"id": "x"}})
    options = client.post("/v1/mfa/webauthn/register/options", headers=_bearer(token)).json()
    phished = client.post("/v1/mfa/webauthn/register", headers=_bearer(token), json={
        "credential": key.register(options["publicKey"], origin="https://evil.example")})

    assert (unasked.status_code, unasked.json()["error"]["code"]) == (422, "webauthn_invalid")
    assert (phished.status_code, phished.json()["error"]["code"]) == (422, "webauthn_invalid")


def test_a_malformed_credential_is_a_refusal_not_a_crash(
    client: TestClient, registered: SoftAuthenticator
) -> None:
    _options(client)
    response = client.post("/v1/sessions/webauthn", json={
        **PASSWORD, "credential": {"id": "AAAA", "response": {"signature": 12}}})

    assert response.status_code == 401


def test_adding_a_key_to_someone_with_totp_needs_a_fresh_second_factor(
    client: TestClient, signer: Signer, clock: ManualClock, key: SoftAuthenticator
) -> None:
    token = signer.token("bob")
    clock.advance(901)
    stale = client.post("/v1/mfa/webauthn/register/options", headers=_bearer(token))
    fresh = client.post("/v1/sessions/step-up", headers=_bearer(token),
                        json={"otp": signer.code("bob")}).json()["token"]

    assert (stale.status_code, stale.json()["error"]["code"]) == (403, "fresh_mfa_required")
    _register(client, fresh, key)


def test_registration_and_key_sign_in_are_audited(
    client: TestClient, registered: SoftAuthenticator, guardian: Guardian
) -> None:
    client.post("/v1/sessions/webauthn", json={
        **PASSWORD, "credential": registered.assertion(_options(client))})

    journal = guardian.settings.journal_file.read_text()
    assert '"mfa.webauthn_registered"' in journal
    assert '"hwk"' in journal


def _key_session(client: TestClient, key: SoftAuthenticator) -> str:
    response = client.post("/v1/sessions/webauthn", json={
        **PASSWORD, "credential": key.assertion(_options(client))})
    assert response.status_code == 201, response.text
    token: str = response.json()["token"]
    return token


def test_stepping_up_with_the_key_gives_a_fresh_token(
    client: TestClient, registered: SoftAuthenticator, clock: ManualClock
) -> None:
    token = _key_session(client, registered)
    clock.advance(3600)
    options = client.post("/v1/sessions/step-up/webauthn/options", headers=_bearer(token))
    assert options.status_code == 200, options.text

    response = client.post("/v1/sessions/step-up/webauthn", headers=_bearer(token), json={
        "credential": registered.assertion(options.json()["publicKey"])})

    assert response.status_code == 201, response.text
    assert response.json()["amr"] == ["pwd", "hwk"]
    assert response.json()["token"] != token
    assert response.json()["auth_time"] == iso_utc(clock.now())


def test_stepping_up_with_another_key_or_a_replayed_answer_is_refused(
    client: TestClient, registered: SoftAuthenticator
) -> None:
    token = _key_session(client, registered)
    options = client.post("/v1/sessions/step-up/webauthn/options",
                          headers=_bearer(token)).json()["publicKey"]
    stranger = client.post("/v1/sessions/step-up/webauthn", headers=_bearer(token), json={
        "credential": SoftAuthenticator().assertion(options)})
    options = client.post("/v1/sessions/step-up/webauthn/options",
                          headers=_bearer(token)).json()["publicKey"]
    answer = registered.assertion(options)
    first = client.post("/v1/sessions/step-up/webauthn", headers=_bearer(token),
                        json={"credential": answer})
    replayed = client.post("/v1/sessions/step-up/webauthn", headers=_bearer(token),
                           json={"credential": answer})

    assert (stranger.status_code, stranger.json()["error"]["code"]) == (
        401, "invalid_credentials")
    assert (first.status_code, replayed.status_code) == (201, 401)


def test_stepping_up_with_a_key_needs_a_session(client: TestClient) -> None:
    assert client.post("/v1/sessions/step-up/webauthn/options").status_code == 401
