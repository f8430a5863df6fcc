"""Security keys through the console's forms, with a software authenticator standing in for
the browser's (tests/e2e/test_console_webauthn.py drives real Chromium): a newcomer registers a
key from an invitation, signs in with password and key, steps up with it; a refused key or
password answers like any refused sign-in; a form without the key's answer says so; a page on
an address where browsers refuse keys links to the console's key origin instead."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from console_support import Console
from guardian.api import create_app
from guardian.bootstrap import Guardian, build
from guardian.clock import ManualClock
from guardian.console.auth_pages import FAILED
from guardian.console.key_pages import NO_ANSWER
from mfa_support import SoftAuthenticator, directory_with_newcomer
from support import demo_settings

OTTO = {"user": "otto", "password": "otto-demo-pass"}


@pytest.fixture
def guardian(tmp_path: Path, clock: ManualClock) -> Iterator[Guardian]:
    settings = demo_settings(tmp_path, directory_file=directory_with_newcomer(tmp_path))
    g = build(settings, clock=clock, prepare=True)
    yield g
    g.close()


@pytest.fixture
def console(guardian: Guardian, clock: ManualClock) -> Iterator[Console]:
    # On the relying party's own domain: browsers refuse keys on an IP address.
    with TestClient(create_app(guardian), base_url="http://localhost",
                    raise_server_exceptions=False) as client:
        yield Console(client, clock)


def _options(console: Console, path: str, **fields: str) -> dict[str, Any]:
    answer = console.client.post(path, data={**fields, "csrf": console.csrf("/console/sign-in")})
    assert answer.status_code == 200, answer.text
    options: dict[str, Any] = answer.json()["publicKey"]
    return options


def _enrol(console: Console, guardian: Guardian, key: SoftAuthenticator) -> None:
    code = guardian.mfa.invitations.invite("ivan", "otto").code
    opened = console.client.post("/console/enrol", follow_redirects=False, data={
        **OTTO, "invitation": code, "csrf": console.csrf("/console/enrol")})
    assert opened.status_code == 303
    page = console.client.get("/console/enrol/key")
    assert page.status_code == 200 and 'id="register-key"' in page.text
    options = _options(console, "/console/enrol/key/options")
    done = console.post("/console/enrol/key", {"credential": json.dumps(key.register(options))})
    assert done.status_code == 200 and 'id="key-added"' in done.text, done.text
    assert "guardian_console_session" not in console.client.cookies  # sign in anew


def _sign_in(console: Console, key: SoftAuthenticator, password: str = "otto-demo-pass"
             ) -> Any:
    options = _options(console, "/console/sign-in/key/options", user="otto")
    return console.client.post("/console/sign-in/key", follow_redirects=False, data={
        "user": "otto", "password": password, "next": "/console/",
        "credential": json.dumps(key.assertion(options)), "csrf": console.csrf()})


@pytest.fixture
def key(console: Console, guardian: Guardian) -> SoftAuthenticator:
    registered = SoftAuthenticator()
    _enrol(console, guardian, registered)
    return registered


def test_a_newcomer_registers_a_key_from_an_invitation_and_signs_in_with_it(
        console: Console, key: SoftAuthenticator) -> None:
    response = _sign_in(console, key)

    assert response.status_code == 303 and response.headers["location"] == "/console/"
    home = console.client.get("/console/")
    assert home.status_code == 200 and "Otto Newman" in home.text


def test_a_wrong_password_or_another_key_answers_like_any_refused_sign_in(
        console: Console, key: SoftAuthenticator) -> None:
    wrong_password = _sign_in(console, key, password="nope")
    other_key = _sign_in(console, SoftAuthenticator())

    for refused in (wrong_password, other_key):
        assert refused.status_code == 401 and FAILED in refused.text
        assert "guardian_console_session" not in console.client.cookies


def test_a_form_without_the_keys_answer_says_so(console: Console, key: SoftAuthenticator
                                                ) -> None:
    response = console.client.post("/console/sign-in/key", data={
        **OTTO, "credential": "", "csrf": console.csrf()})

    assert response.status_code == 401 and "answer did not arrive" in response.text
    assert NO_ANSWER.startswith("The security key")


def test_a_stale_key_session_steps_up_with_the_key(
        console: Console, key: SoftAuthenticator, clock: ManualClock, guardian: Guardian
        ) -> None:
    assert _sign_in(console, key).status_code == 303
    clock.advance(guardian.settings.admin_mfa_max_age_s + 60)
    asked = console.client.get("/console/enrol/key", follow_redirects=False)
    assert asked.status_code == 303 and asked.headers["location"].startswith("/console/step-up")
    step_up = console.client.get(asked.headers["location"])
    assert 'id="step-up-with-key"' in step_up.text
    options = _options(console, "/console/step-up/key/options")

    done = console.client.post("/console/step-up/key", follow_redirects=False, data={
        "next": "/console/enrol/key", "credential": json.dumps(key.assertion(options)),
        "csrf": console.csrf("/console/")})

    assert done.status_code == 303 and done.headers["location"] == "/console/enrol/key"
    assert 'id="register-key"' in console.client.get("/console/enrol/key").text


def test_a_step_up_with_another_key_is_refused(
        console: Console, key: SoftAuthenticator, clock: ManualClock) -> None:
    assert _sign_in(console, key).status_code == 303
    options = _options(console, "/console/step-up/key/options")
    refused = console.client.post("/console/step-up/key", data={
        "next": "/console/", "credential": json.dumps(SoftAuthenticator().assertion(options)),
        "csrf": console.csrf("/console/")})

    assert refused.status_code == 401 and "not accepted" in refused.text


def test_options_without_the_csrf_token_or_a_session_are_json_refusals(
        console: Console) -> None:
    no_token = console.client.post("/console/sign-in/key/options", data={"user": "otto"})
    no_session = console.client.post("/console/step-up/key/options",
                                     data={"csrf": console.csrf()})

    assert (no_token.status_code, no_token.json()["error"]["code"]) == (
        403, "csrf_token_invalid")
    assert (no_session.status_code, no_session.json()["error"]["code"]) == (
        401, "session_expired")


def test_on_an_ip_address_the_sign_in_links_to_the_key_origin(guardian: Guardian) -> None:
    with TestClient(create_app(guardian), base_url="http://127.0.0.1") as client:
        page = client.get("/console/sign-in").text
    assert 'id="sign-in-key"' not in page
    assert f'href="{guardian.settings.webauthn_origin}/console/sign-in"' in page
