"""Driving the console in Debian's headless Chromium through Selenium (the system chromedriver,
never a downloaded browser): demo people signing in with fresh TOTP codes, axe-core (vendored
in tests/vendor/) run on a page, the browser's console errors, and screenshots for the docs.
"""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path
from typing import Any

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait

from guardian.identity.totp import code_at
from support import ROOT, demo_secret

AXE = ROOT / "tests" / "vendor" / "axe.min.js"
SCREENSHOTS = ROOT / "docs" / "screenshots"
SERIOUS = {"serious", "critical"}


def browser_paths() -> tuple[str, str] | None:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    return (chromium, driver) if chromium and driver else None


def new_driver(downloads: Path) -> WebDriver:
    paths = browser_paths()
    if paths is None:
        if os.environ.get("GUARDIAN_REQUIRE_SERVICES") == "1":
            pytest.fail("chromium and chromium-driver are not installed "
                        "(scripts/services.sh start browser installs them)")
        pytest.skip("chromium and chromium-driver are not installed")
    options = webdriver.ChromeOptions()
    options.binary_location = paths[0]
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                "--window-size=1280,1000", "--disable-extensions", "--no-first-run",
                "--password-store=basic"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    options.add_experimental_option("prefs", {
        "download.default_directory": str(downloads), "download.prompt_for_download": False})
    driver = webdriver.Chrome(service=Service(paths[1]), options=options)
    driver.execute_cdp_cmd("Browser.setDownloadBehavior",
                           {"behavior": "allow", "downloadPath": str(downloads)})
    driver.set_page_load_timeout(30)
    return driver


class Codes:
    """A demo person's TOTP codes, each time step used once (Guardian claims it), one step of
    drift ahead allowed; waits for the next step when both are spent."""

    def __init__(self) -> None:
        self.used: set[tuple[str, int]] = set()

    def next(self, uid: str) -> str:
        while True:
            step = int(time.time() // 30)
            for candidate in (step, step + 1):
                if (uid, candidate) not in self.used:
                    self.used.add((uid, candidate))
                    return code_at(demo_secret(uid), candidate * 30 + 1)
            time.sleep(30 - time.time() % 30 + 0.2)


def wait_for(driver: WebDriver, css: str, timeout: float = 10) -> Any:
    return WebDriverWait(driver, timeout).until(
        ec.presence_of_element_located((By.CSS_SELECTOR, css)))


def sign_in(driver: WebDriver, url: str, uid: str, codes: Codes) -> None:
    driver.delete_all_cookies()
    driver.get(f"{url}/console/sign-in")
    driver.find_element(By.ID, "user").send_keys(uid)
    driver.find_element(By.ID, "password").send_keys(f"{uid}-demo-pass")
    otp = driver.find_element(By.ID, "otp")
    otp.send_keys(codes.next(uid))
    otp.submit()
    WebDriverWait(driver, 15).until(lambda d: "/console/sign-in" not in d.current_url)
    assert driver.title.startswith("Home"), driver.page_source[:2000]


def sign_out(driver: WebDriver) -> None:
    driver.find_element(By.CSS_SELECTOR, "form[action='/console/sign-out'] button").click()
    WebDriverWait(driver, 10).until(lambda d: "/console/sign-in" in d.current_url)


def console_errors(driver: WebDriver) -> list[str]:
    """Errors the page logged since the last call (CSP violations, script errors)."""
    logs: list[dict[str, str]] = driver.get_log("browser")  # type: ignore[attr-defined]
    return [e["message"] for e in logs if e.get("level") == "SEVERE"]


def axe_violations(driver: WebDriver) -> list[str]:
    """Serious and critical accessibility violations axe-core finds on the current page."""
    driver.execute_script(AXE.read_text(encoding="utf-8"))
    result = driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "axe.run(document, {resultTypes: ['violations']})"
        ".then(r => done(r.violations.map(v => [v.impact, v.id, v.help, v.nodes.length])))"
        ".catch(e => done([['critical', 'axe-error', String(e), 0]]));")
    return [f"{impact}: {rule} ({help_}, {nodes} nodes)" for impact, rule, help_, nodes in result
            if impact in SERIOUS]


def screenshot(driver: WebDriver, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    driver.save_screenshot(str(path))
    return path
