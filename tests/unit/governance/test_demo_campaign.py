"""A fresh demo starts with an open crm-quarterly campaign in which nina has items with real
evidence from the demo history, its opening journalled and marked as demo data; the sign-in
page says how to sign in (demo mode only) and ``guardian demo totp`` prints the code."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from guardian.api import create_app
from guardian.bootstrap import Guardian, build
from guardian.cli.main import app
from guardian.identity.demo_codes import demo_seed
from guardian.identity.totp import matching_timestep
from support import demo_secret, demo_settings


@pytest.fixture(scope="module")
def fresh(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Guardian]:
    tmp = tmp_path_factory.mktemp("demo")
    guardian = build(demo_settings(tmp, demo_history=True, journal_fsync=False), prepare=True)
    yield guardian
    guardian.close()


def test_a_fresh_demo_has_an_open_crm_quarterly_with_items_for_nina(fresh: Guardian) -> None:
    assert fresh.reviews is not None
    open_ = fresh.reviews.service.campaigns("open")
    assert [c.definition for c, _ in open_] == ["crm-quarterly"]
    mine = fresh.reviews.service.inbox("nina")
    assert {i.subject.uid for i in mine} >= {"alice", "bob", "dave", "frank", "grace"}
    assert sum(i.usage.permits for i in mine) > 100  # evidence from the shipped history
    assert any(i.recommendation.decision.value == "revoke" for i in mine)


def test_its_opening_is_journalled_as_demo_data(fresh: Guardian) -> None:
    lines = fresh.settings.journal_file.read_text().splitlines()
    opened = [e for e in map(orjson.loads, lines) if not e.get("seal")
              and e["event"]["action"] == "review.campaign_opened"]
    assert len(opened) == 1
    assert opened[0]["guardian"]["demo_data"] is True
    assert opened[0]["guardian"]["review"]["definition"] == "crm-quarterly"


def test_a_second_start_opens_nothing_more(tmp_path: Path) -> None:
    settings = demo_settings(tmp_path, demo_history=True, journal_fsync=False)
    build(settings, prepare=True).close()
    again = build(settings, prepare=True)
    try:
        assert again.reviews is not None and len(again.reviews.service.campaigns()) == 1
    finally:
        again.close()


def test_the_sign_in_page_says_how_in_demo_mode_only(guardian: Guardian) -> None:
    with TestClient(create_app(guardian), base_url="http://127.0.0.1") as client:
        page = client.get("/console/sign-in").text
    assert "nina-demo-pass" in page and "guardian demo totp nina" in page
    guardian.settings.demo = False  # what a real deployment renders
    try:
        with TestClient(create_app(guardian), base_url="http://127.0.0.1") as client:
            assert "demo totp" not in client.get("/console/sign-in").text
    finally:
        guardian.settings.demo = True


def test_guardian_demo_totp_prints_the_code_sign_in_accepts() -> None:
    result = CliRunner().invoke(app, ["demo", "totp", "nina"])
    assert result.exit_code == 0, result.output
    code = result.stdout.strip().splitlines()[0]
    assert demo_seed("nina") == demo_secret("nina")
    assert matching_timestep(demo_secret("nina"), code, time.time()) is not None


def test_guardian_demo_totp_refuses_outside_demo_mode(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GUARDIAN_DEMO", "false")
    monkeypatch.setenv("GUARDIAN_SECRET_KEY", "x" * 40)
    result = CliRunner().invoke(app, ["demo", "totp", "nina"])
    assert result.exit_code == 2
    assert "demo mode only" in result.output
