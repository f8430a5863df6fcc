"""Shared fixtures: a wired Guardian on a temporary data folder and a manual clock, and an
HTTP client on it. Helpers live in support.py."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from guardian.api import create_app
from guardian.bootstrap import Guardian, build
from guardian.clock import ManualClock
from support import Signer, demo_settings

# Tests start from an empty trail: the demo history of a fresh demo data folder is asked for by
# its own tests only (Settings(demo_history=True)). Set here, before any fixture or server
# subprocess reads the environment.
os.environ["GUARDIAN_DEMO_HISTORY"] = "0"


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(start=float(int(time.time() // 30 * 30)))


@pytest.fixture
def guardian(tmp_path: Path, clock: ManualClock) -> Iterator[Guardian]:
    g = build(demo_settings(tmp_path), clock=clock, prepare=True)
    yield g
    g.close()


@pytest.fixture
def client(guardian: Guardian) -> Iterator[TestClient]:
    with TestClient(create_app(guardian), raise_server_exceptions=False) as c:
        yield c


@pytest.fixture
def signer(client: TestClient, clock: ManualClock) -> Signer:
    return Signer(client, clock)
