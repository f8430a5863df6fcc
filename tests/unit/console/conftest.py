"""A console client on the loopback address (the console's cookies are Secure anywhere else)
and a helper signing demo people in through the console's own form."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from guardian.api import create_app
from guardian.bootstrap import Guardian
from guardian.clock import ManualClock
from guardian.identity.totp import code_at
from support import demo_secret


class Console:
    def __init__(self, client: TestClient, clock: ManualClock) -> None:
        self.client = client
        self.clock = clock

    def csrf(self, path: str = "/console/sign-in") -> str:
        found = re.search(r'name="csrf" value="([^"]+)"', self.client.get(path).text)
        assert found is not None
        return found.group(1)

    def code(self, uid: str) -> str:
        self.clock.advance(30)
        return code_at(demo_secret(uid), self.clock.now())

    def sign_in(self, uid: str) -> None:
        token = self.csrf()
        response = self.client.post("/console/sign-in", follow_redirects=False, data={
            "user": uid, "password": f"{uid}-demo-pass", "otp": self.code(uid), "csrf": token})
        assert response.status_code == 303, response.text
        assert "guardian_console_session" in self.client.cookies

    def post(self, path: str, data: dict[str, str], **kw: object):  # type: ignore[no-untyped-def]
        return self.client.post(path, data={**data, "csrf": self.csrf("/console/")}, **kw)


@pytest.fixture
def console_client(guardian: Guardian) -> Iterator[TestClient]:
    with TestClient(create_app(guardian), base_url="http://127.0.0.1",
                    raise_server_exceptions=False) as c:
        yield c


@pytest.fixture
def console(console_client: TestClient, clock: ManualClock) -> Console:
    return Console(console_client, clock)
