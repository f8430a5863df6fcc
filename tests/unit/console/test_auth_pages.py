"""What a refused console sign-in tells: the same page and status for an unknown person, a
wrong password, a wrong code and a lockout (even with everything right); and a session that
ended is said so on the sign-in page, while a first visit and a sign-out are not."""

from __future__ import annotations

import re

from console_support import Console
from guardian.clock import ManualClock
from guardian.console.auth_pages import EXPIRED, FAILED


def _attempt(console: Console, user: str, password: str, otp: str) -> tuple[int, str]:
    response = console.client.post("/console/sign-in", data={
        "user": user, "password": password, "otp": otp, "csrf": console.csrf()})
    # The form echoes the user name typed and carries the CSRF token: nothing else may differ.
    page = re.sub(r'name="csrf" value="[^"]+"', "", response.text)
    page = re.sub(r'id="user" name="user" value="[^"]*"', "", page)
    page = re.sub(r'"X-CSRF-Token": "[^"]+"', "", page)
    return response.status_code, page


def test_unknown_person_wrong_password_wrong_code_and_lockout_answer_alike(
        console: Console) -> None:
    unknown = _attempt(console, "nobody-here", "judy-demo-pass", console.code("judy"))
    password = _attempt(console, "judy", "wrong", console.code("judy"))
    code = _attempt(console, "judy", "judy-demo-pass", "000000")
    for _ in range(5):
        _attempt(console, "judy", "wrong", "000000")
    locked = _attempt(console, "judy", "judy-demo-pass", console.code("judy"))

    assert unknown[0] == 401 and FAILED in unknown[1]
    assert unknown == password == code == locked
    assert "guardian_console_session" not in console.client.cookies


def test_a_session_that_ended_is_said_so(console: Console, clock: ManualClock) -> None:
    first_visit = console.client.get("/console/grants")
    assert EXPIRED not in first_visit.text
    console.sign_in("ivan")
    clock.advance(9 * 3600)  # past the 8 h session

    ended = console.client.get("/console/grants", follow_redirects=False)
    shown = console.client.get(ended.headers["location"])

    assert ended.status_code == 303 and "expired=1" in ended.headers["location"]
    assert EXPIRED in shown.text


def test_a_sign_out_is_not_shown_as_an_ended_session(console: Console) -> None:
    console.sign_in("ivan")
    out = console.post("/console/sign-out", {})
    assert out.status_code == 200 and "You are signed out" in out.text
    again = console.client.get("/console/grants")
    assert EXPIRED not in again.text and "Sign in" in again.text
