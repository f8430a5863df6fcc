"""Shared fixtures: a wired Guardian on a temporary data folder and a manual clock, and an
HTTP client on it. Helpers live in support.py."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from guardian.api import create_app
from guardian.bootstrap import Guardian, build
from guardian.clock import ManualClock
from support import Signer, demo_settings


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(start=float(int(time.time() // 30 * 30)))


@pytest.fixture
def guardian(tmp_path: Path, clock: ManualClock) -> Iterator[Guardian]:
    g = build(demo_settings(tmp_path), clock=clock)
    yield g
    g.close()


@pytest.fixture
def client(guardian: Guardian) -> Iterator[TestClient]:
    with TestClient(create_app(guardian), raise_server_exceptions=False) as c:
        yield c


@pytest.fixture
def signer(client: TestClient, clock: ManualClock) -> Signer:
    return Signer(client, clock)
