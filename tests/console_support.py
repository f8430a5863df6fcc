"""Driving the console through a TestClient: its CSRF token, demo people signing in through
its own form (moving the manual clock so no TOTP code is reused), and posting forms."""

from __future__ import annotations

import re
from typing import Any

from fastapi.testclient import TestClient

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

    def post(self, path: str, data: dict[str, str], **kw: Any) -> Any:
        return self.client.post(path, data={**data, "csrf": self.csrf("/console/")}, **kw)
