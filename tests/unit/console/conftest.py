"""A console client on the loopback address (the console's cookies are Secure anywhere else)
and its driver (tests/console_support.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from console_support import Console
from guardian.api import create_app
from guardian.bootstrap import Guardian
from guardian.clock import ManualClock


@pytest.fixture
def console_client(guardian: Guardian) -> Iterator[TestClient]:
    with TestClient(create_app(guardian), base_url="http://127.0.0.1",
                    raise_server_exceptions=False) as c:
        yield c


@pytest.fixture
def console(console_client: TestClient, clock: ManualClock) -> Console:
    return Console(console_client, clock)
