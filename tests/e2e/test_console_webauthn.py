"""Security keys in the console, in real headless Chromium with a virtual authenticator (CTAP2
over USB, Selenium 4), against ``guardian serve`` reached at ``http://localhost:PORT``: browsers
refuse WebAuthn on an IP address, so the relying party is ``localhost`` and the origin that
name and port. ivan invites olga (a new security officer); olga registers a key from the
invitation, signs in with password and key, steps up with the key when her factor is stale,
and, signed in, registers a second key; a key the server does not know, a wrong password and
a browser without WebAuthn are each refused with a message on the page and no session.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.virtual_authenticator import (
    Protocol,
    Transport,
    VirtualAuthenticatorOptions,
)
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import WebDriverWait

from browser_support import (
    Codes,
    axe_violations,
    console_errors,
    new_driver,
    screenshot,
    sign_in,
    sign_out,
    wait_for,
)
from guardian.console.auth_pages import FAILED
from mfa_support import directory_with_newcomer
from serve_support import Served, free_port, start

pytestmark = pytest.mark.e2e
MAX_AGE_S = 45
"""The second factor's freshness for administrative pages (and the invitation session's
lifetime): short, so that the step-up is reached by waiting."""


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    folder = tmp_path_factory.mktemp("webauthn")
    port = free_port()
    server = start(folder / "var", timeout_s=120, port=port, GUARDIAN_LOG_LEVEL="warning",
                   GUARDIAN_DIRECTORY_FILE=str(directory_with_newcomer(folder)),
                   GUARDIAN_WEBAUTHN_RP_ID="localhost",
                   GUARDIAN_WEBAUTHN_ORIGIN=f"http://localhost:{port}",
                   GUARDIAN_ADMIN_MFA_MAX_AGE_S=str(MAX_AGE_S))
    server.url = f"http://localhost:{port}"
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def driver(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebDriver]:
    browser = new_driver(tmp_path_factory.mktemp("downloads"))
    try:
        yield browser
    finally:
        browser.quit()


def _new_key(driver: WebDriver) -> None:
    """Plug in a fresh key (and pull out the one before, if any)."""
    if driver.virtual_authenticator_id is not None:
        driver.remove_virtual_authenticator()
    driver.add_virtual_authenticator(VirtualAuthenticatorOptions(
        protocol=Protocol.CTAP2, transport=Transport.USB, has_resident_key=False,
        has_user_verification=True, is_user_consenting=True, is_user_verified=True))


def _session(driver: WebDriver) -> bool:
    return any(c["name"] == "guardian_console_session" for c in driver.get_cookies())


def _page_errors(driver: WebDriver) -> list[str]:
    """The page's errors, less the browser's own favicon request (the console has none)."""
    return [e for e in console_errors(driver) if "/favicon.ico" not in e]


def _key_error(driver: WebDriver) -> str:
    box = driver.find_element(By.ID, "key-error")
    WebDriverWait(driver, 15).until(lambda d: box.is_displayed() and box.text)
    return str(box.text)


def _invite_olga(driver: WebDriver, url: str) -> str:
    sign_in(driver, url, "ivan", Codes())
    driver.get(f"{url}/console/invitations")
    driver.find_element(By.ID, "user").send_keys("olga")
    driver.find_element(By.CSS_SELECTOR, "main form button[type='submit']").click()
    code = str(wait_for(driver, "#code").get_attribute("value"))
    sign_out(driver)
    return code


def _type_sign_in(driver: WebDriver, url: str, password: str = "olga-demo-pass") -> None:
    driver.delete_all_cookies()
    driver.get(f"{url}/console/sign-in")
    driver.find_element(By.ID, "user").send_keys("olga")
    driver.find_element(By.ID, "password").send_keys(password)


def test_olga_registers_a_key_from_her_invitation(served: Served, driver: WebDriver) -> None:
    code = _invite_olga(driver, served.url)
    _new_key(driver)
    driver.get(f"{served.url}/console/enrol")
    driver.find_element(By.ID, "user").send_keys("olga")
    driver.find_element(By.ID, "password").send_keys("olga-demo-pass")
    driver.find_element(By.ID, "invitation").send_keys(code)
    driver.find_element(By.CSS_SELECTOR, "main form button[type='submit']").click()
    wait_for(driver, "#use-key").click()
    assert driver.title.startswith("Add a security key")
    assert axe_violations(driver) == []
    driver.find_element(By.ID, "register-key").click()

    assert "registered" in wait_for(driver, "#key-added", timeout=20).text
    assert not _session(driver)  # the invitation's session is spent
    assert _page_errors(driver) == []


def test_olga_signs_in_with_password_and_key(served: Served, driver: WebDriver) -> None:
    _type_sign_in(driver, served.url)
    assert axe_violations(driver) == []
    screenshot(driver, "sign-in-key")
    driver.find_element(By.ID, "sign-in-key").click()

    WebDriverWait(driver, 20).until(lambda d: d.title.startswith("Home"))
    assert "Olga Fresh" in driver.page_source and _session(driver)
    assert _page_errors(driver) == []


def test_a_stale_factor_steps_up_with_the_key(served: Served, driver: WebDriver) -> None:
    driver.get(f"{served.url}/console/grants")
    assert driver.title.startswith("Grants")
    time.sleep(MAX_AGE_S + 2)
    driver.get(f"{served.url}/console/grants")
    assert "/console/step-up" in driver.current_url
    assert axe_violations(driver) == []
    screenshot(driver, "step-up-key")
    driver.find_element(By.ID, "step-up-with-key").click()

    WebDriverWait(driver, 20).until(lambda d: d.title.startswith("Grants"))
    assert _page_errors(driver) == []


def test_signed_in_she_adds_a_second_key_and_signs_in_with_it(
        served: Served, driver: WebDriver) -> None:
    driver.get(f"{served.url}/console/")
    driver.find_element(By.ID, "add-key").click()
    if "/console/step-up" in driver.current_url:  # a slow machine took the factor past fresh
        driver.find_element(By.ID, "step-up-with-key").click()
    wait_for(driver, "#register-key")
    _new_key(driver)
    driver.find_element(By.ID, "register-key").click()
    assert "registered" in wait_for(driver, "#key-added", timeout=20).text
    assert _session(driver)  # still signed in

    _type_sign_in(driver, served.url)
    driver.find_element(By.ID, "sign-in-key").click()
    WebDriverWait(driver, 20).until(lambda d: d.title.startswith("Home"))


def test_a_wrong_password_with_her_key_answers_like_any_refusal(
        served: Served, driver: WebDriver) -> None:
    # Her second key is still plugged in: the browser signs, the server refuses.
    _type_sign_in(driver, served.url, password="not-her-password")
    driver.find_element(By.ID, "sign-in-key").click()

    assert wait_for(driver, "#sign-in-error", timeout=20).text == FAILED
    assert not _session(driver)
    console_errors(driver)  # the 401 page load is logged as a failed load, not a page error


def test_a_key_the_server_does_not_know_is_refused_in_the_page(
        served: Served, driver: WebDriver) -> None:
    _new_key(driver)  # her keys are pulled out; this one was never registered
    _type_sign_in(driver, served.url)
    driver.find_element(By.ID, "sign-in-key").click()

    assert "did not answer, or it was refused" in _key_error(driver)
    assert "/console/sign-in" in driver.current_url and not _session(driver)
    assert _page_errors(driver) == []


def test_a_browser_without_webauthn_is_told_so(served: Served, driver: WebDriver) -> None:
    _type_sign_in(driver, served.url)
    driver.execute_script("delete window.PublicKeyCredential;")
    driver.find_element(By.ID, "sign-in-key").click()

    assert "cannot use security keys" in _key_error(driver)
    assert not _session(driver)


def test_refused_sign_ins_show_the_one_message(served: Served, driver: WebDriver) -> None:
    _type_sign_in(driver, served.url, password="wrong")
    driver.find_element(By.ID, "otp").send_keys("000000")
    driver.find_element(By.ID, "sign-in-code").click()
    assert wait_for(driver, "#sign-in-error").text == FAILED
    assert not _session(driver)
    console_errors(driver)

