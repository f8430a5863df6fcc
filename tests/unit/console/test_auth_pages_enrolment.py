"""A first factor enrolled through the console: an officer's invitation (code shown once),
the newcomer's password and that code opening an enrolment-only session, the secret and
recovery codes shown once, the first code activating it, and a normal sign-in after."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pyotp
import pytest

from console_support import Console
from guardian.bootstrap import Guardian, build
from guardian.clock import ManualClock
from mfa_support import directory_with_newcomer
from support import demo_settings


@pytest.fixture
def guardian(tmp_path: Path, clock: ManualClock) -> Iterator[Guardian]:
    settings = demo_settings(tmp_path, directory_file=directory_with_newcomer(tmp_path))
    g = build(settings, clock=clock, prepare=True)
    yield g
    g.close()


def test_a_newcomer_enrols_from_an_invitation_then_signs_in(
        console: Console, clock: ManualClock) -> None:
    console.sign_in("ivan")
    invited = console.post("/console/invitations", {"user": "olga"}).text
    code = re.search(r'id="code" class="secret" readonly value="([^"]+)"', invited)
    assert code is not None
    console.client.cookies.clear()
    wrong = console.client.post("/console/enrol", data={
        "user": "olga", "password": "olga-demo-pass", "invitation": "abcd-efgh-jkmn-pqrs-tuvw",
        "csrf": console.csrf("/console/enrol")})
    assert wrong.status_code == 401 and "did not work" in wrong.text
    opened = console.client.post("/console/enrol", follow_redirects=False, data={
        "user": "olga", "password": "olga-demo-pass", "invitation": code[1],
        "csrf": console.csrf("/console/enrol")})
    assert opened.status_code == 303 and opened.headers["location"] == "/console/enrol/totp"
    # The enrolment-only session opens no administrative page.
    assert console.client.get("/console/grants", follow_redirects=False).status_code == 303
    shown = console.post("/console/enrol/totp", {}).text
    uri = re.search(r'<code class="secret">(otpauth://[^<]+)</code>', shown)
    assert uri is not None and 'src="data:image/svg+xml' in shown
    secret = parse_qs(urlparse(uri[1].replace("&amp;", "&")).query)["secret"][0]
    clock.advance(30)
    done = console.post("/console/enrol/activate",
                        {"otp": pyotp.TOTP(secret).at(clock.now())})
    assert done.status_code == 200 and "active" in done.text
    clock.advance(30)
    signed = console.client.post("/console/sign-in", follow_redirects=False, data={
        "user": "olga", "password": "olga-demo-pass", "otp": pyotp.TOTP(secret).at(clock.now()),
        "csrf": console.csrf()})
    assert signed.status_code == 303
    assert console.client.get("/console/grants").status_code == 200
