"""`/v1/health` names the directory source; a file directory is never stale."""

from __future__ import annotations

from fastapi.testclient import TestClient

from guardian.bootstrap import Guardian


def test_health_shows_the_file_directory_with_its_user_count(client: TestClient) -> None:
    body = client.get("/v1/health").json()
    assert body["status"] == "ok"
    assert body["directory"] == {"source": "file", "users": 11, "age_s": None, "stale": False}


def test_a_file_directory_starts_no_background_work(guardian: Guardian) -> None:
    # Following the consent changes of other processes and the audit shipper are the only
    # background work left without a directory to sync.
    assert guardian.directory_sync is None
    assert [type(t).__name__ for t in guardian.background] == ["ConsentFollower", "Shipper"]
