"""The console's defences: headers on every page, cookies, CSRF refusals, return paths."""

from __future__ import annotations

from fastapi.testclient import TestClient

from console_support import Console
from guardian.console.security import without_blanks
from guardian.console.session import safe_next


def test_every_console_answer_carries_csp_and_frame_denial(console: Console) -> None:
    console.sign_in("judy")
    for path in ("/console/sign-in", "/console/", "/console/trail", "/console/nowhere"):
        response = console.client.get(path)
        csp = response.headers["content-security-policy"]
        assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
        assert "unsafe-inline" not in csp
        assert response.headers["x-frame-options"] == "DENY"
        assert response.headers["cache-control"] == "no-store"


def test_api_answers_are_left_alone(console_client: TestClient) -> None:
    assert "content-security-policy" not in console_client.get("/v1/health").headers


def test_session_cookie_is_httponly_strict_and_not_secure_on_loopback(console: Console) -> None:
    token = console.csrf()
    response = console.client.post("/console/sign-in", follow_redirects=False, data={
        "user": "ivan", "password": "ivan-demo-pass", "otp": console.code("ivan"), "csrf": token})
    cookies = [c for c in response.headers.get_list("set-cookie")
               if c.startswith("guardian_console_session=")]
    assert cookies and "HttpOnly" in cookies[0] and "SameSite=strict" in cookies[0]
    assert "Path=/console" in cookies[0] and "Secure" not in cookies[0]


def test_cookies_are_secure_when_the_browser_is_not_on_loopback(console: Console) -> None:
    response = console.client.get("/console/sign-in", headers={"host": "guardian.example"})
    cookie = response.headers["set-cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie


def test_a_form_without_the_token_is_refused_with_a_code(console: Console) -> None:
    console.sign_in("ivan")
    response = console.client.post("/console/grants", data={
        "uid": "alice", "role": "billing", "duration": "1h", "justification": "INC-1"})
    assert response.status_code == 403
    assert "csrf_token_invalid" in response.text


def test_a_wrong_token_or_header_is_refused(console: Console) -> None:
    console.sign_in("ivan")
    console.csrf("/console/")
    bad = console.client.post("/console/invitations", data={"user": "alice", "csrf": "x" * 43})
    assert bad.status_code == 403 and "csrf_token_invalid" in bad.text
    token = console.client.cookies["guardian_console_csrf"]
    ok = console.client.post("/console/invitations", data={"user": "alice"},
                             headers={"X-CSRF-Token": token})
    # Past the CSRF check: refused only because alice already has a factor.
    assert ok.status_code == 422 and "already_enrolled" in ok.text


def test_signing_in_replaces_the_csrf_token(console: Console) -> None:
    before = console.csrf()
    console.sign_in("judy")
    assert console.client.cookies["guardian_console_csrf"] != before


def test_return_paths_stay_inside_the_console() -> None:
    assert safe_next("/console/trail?user=alice") == "/console/trail?user=alice"
    for evil in ("https://evil.example/", "//evil.example", "/console//evil.example",
                 "/v1/grants", "/console/\\evil", None, ""):
        assert safe_next(evil) == "/console/"


def test_blank_query_parameters_are_dropped() -> None:
    assert without_blanks(b"customer=&user=alice&to=") == b"user=alice"
    assert without_blanks(b"") == b""
