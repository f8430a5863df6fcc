"""The demo directory file is reloaded when it changes: a person disabled in it is denied within
a couple of seconds, and a broken file keeps the last good directory serving (health says so)."""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from guardian.adapters.files.directory import FileDirectory
from guardian.api import create_app
from guardian.bootstrap import Guardian, build, seed_sealer
from guardian.clock import ManualClock
from guardian.identity.vocabulary import AuthMethod
from support import API_KEY, ROOT, decision_body, demo_settings

DEMO = ROOT / "policies/demo/directory.yaml"
ALICE_ACTIVE = "- uid: alice\n  name: Alice Martin\n  roles:\n  - customer-care\n  type: employee\n  active: true\n"


def _rewrite(path: Path, old: str, new: str) -> None:
    text = path.read_text("utf-8")
    assert old in text
    # Written beside and renamed over, as a careful editor does (a new inode, same size).
    spare = path.with_suffix(".new")
    spare.write_text(text.replace(old, new), "utf-8")
    os.replace(spare, path)


@pytest.fixture
def copy(tmp_path: Path) -> Path:
    target = tmp_path / "directory.yaml"
    shutil.copy(DEMO, target)
    return target


def test_a_changed_file_is_reloaded_and_an_unchanged_one_is_not(tmp_path: Path, copy: Path) -> None:
    directory = FileDirectory(copy, seed_sealer(demo_settings(tmp_path)))
    assert directory.reload_if_changed() is False
    _rewrite(copy, ALICE_ACTIVE, ALICE_ACTIVE.replace("active: true", "active: false"))
    assert directory.reload_if_changed() is True
    alice = directory.get("alice")
    assert alice is not None and alice.active is False
    assert directory.reload_if_changed() is False


def test_a_broken_file_keeps_the_last_good_directory(tmp_path: Path, copy: Path) -> None:
    directory = FileDirectory(copy, seed_sealer(demo_settings(tmp_path)))
    copy.write_text("users: [ {uid: alice", "utf-8")
    assert directory.reload_if_changed() is False
    assert directory.get("bob") is not None
    assert directory.reload_error is not None and "directory file" in directory.reload_error
    copy.write_text("users: {}\n", "utf-8")
    assert directory.reload_if_changed() is False and "users" in str(directory.reload_error)
    shutil.copy(DEMO, copy)
    assert directory.reload_if_changed() is True and directory.reload_error is None


@pytest.fixture
def served(tmp_path: Path, copy: Path) -> Iterator[tuple[Guardian, TestClient, ManualClock]]:
    clock = ManualClock(start=float(int(time.time())))
    g = build(demo_settings(tmp_path, directory_file=copy, directory_reload_interval_s=0.1,
                            metrics_token="t" * 32), clock=clock, prepare=True)
    try:
        with TestClient(create_app(g), raise_server_exceptions=False) as c:  # starts the watcher
            yield g, c, clock
    finally:
        g.close()


def _decide(g: Guardian, c: TestClient, clock: ManualClock) -> list[str]:
    token, _ = g.signer.issue("alice", (AuthMethod.PASSWORD, AuthMethod.OTP), clock.now(),
                              clock.now(), 600)
    body = c.post("/v1/decisions", json=decision_body("alice", token),
                  headers={"X-API-Key": API_KEY}).json()
    return [r["code"] for r in body["reasons"]]


def test_a_person_disabled_in_the_file_is_denied_within_seconds_of_the_change(
    served: tuple[Guardian, TestClient, ManualClock], copy: Path
) -> None:
    g, c, clock = served
    assert _decide(g, c, clock) == ["permitted"]
    _rewrite(copy, ALICE_ACTIVE, ALICE_ACTIVE.replace("active: true", "active: false"))
    deadline = time.monotonic() + 2.0
    while _decide(g, c, clock) != ["account_disabled"]:
        assert time.monotonic() < deadline, "alice still decided on the old file"
        time.sleep(0.05)


def test_health_says_when_the_file_could_not_be_reloaded(
    served: tuple[Guardian, TestClient, ManualClock], copy: Path
) -> None:
    g, c, clock = served
    copy.write_text("not: [valid", "utf-8")
    deadline = time.monotonic() + 2.0
    while c.get("/v1/health").json()["status"] != "degraded":
        assert time.monotonic() < deadline, "health did not notice the broken file"
        time.sleep(0.05)
    details = c.get("/v1/health", headers={"Authorization": "Bearer " + "t" * 32}).json()
    assert details["directory"]["reload_error"]
    assert _decide(g, c, clock) == ["permitted"]  # the last good directory still serves
