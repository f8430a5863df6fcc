"""Two processes on the embedded SQLite store (two workers of one machine): a grant created, a
key revoked and a consent withdrawn by one are honoured by a real ``guardian serve`` beside it
within a second, through the ``changes`` table it polls — with its periodic refreshes set far
beyond that, so only the feed can deliver them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from change_feed_support import LIMIT_S, changes_reach_instance_two
from guardian.bootstrap import Guardian, build
from serve_support import start
from support import demo_settings

pytestmark = pytest.mark.e2e


@pytest.fixture
def one(tmp_path: Path) -> Iterator[Guardian]:
    guardian = build(demo_settings(tmp_path / "one"), prepare=True)
    yield guardian
    guardian.close()


@pytest.fixture
def two(tmp_path: Path, one: Guardian) -> Iterator[str]:
    served = start(tmp_path / "two", timeout_s=180,  # a loaded machine starts slowly
                   GUARDIAN_DATABASE_URL=one.settings.store_url,
                   GUARDIAN_CONSENT_REFRESH_INTERVAL_S="60",
                   GUARDIAN_VIEWS_REFRESH_INTERVAL_S="3600", GUARDIAN_LOG_LEVEL="warning")
    try:
        yield served.url
    finally:
        served.stop()


def test_changes_made_by_one_process_are_honoured_by_the_other_within_a_second(
        one: Guardian, two: str) -> None:
    with httpx.Client(base_url=two, timeout=10) as http:
        def post(path: str, headers: dict[str, str], body: dict[str, Any]
                 ) -> tuple[int, Any]:
            response = http.post(path, headers=headers, json=body)
            return response.status_code, response.json()

        waited = changes_reach_instance_two(one, post)
    print("seconds until instance 2 honoured it:", waited)
    assert all(s <= LIMIT_S for s in waited.values()), waited
