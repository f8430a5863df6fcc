"""`/v1/health` names the directory source; a file directory is never stale."""

from __future__ import annotations

from fastapi.testclient import TestClient

from guardian.bootstrap import Guardian


def test_health_shows_the_file_directory_with_its_user_count(client: TestClient) -> None:
    body = client.get("/v1/health").json()
    assert body["status"] == "ok"
    assert body["directory"] == {"source": "file", "users": 11, "age_s": None, "stale": False}


def test_a_file_directory_starts_no_background_work(guardian: Guardian) -> None:
    # The audit shipper and the daily retention job are the only background work left
    # without a directory to sync.
    from guardian.adapters.periodic_sync import PeriodicSync
    from guardian.adapters.retention_schedule import RetentionSchedule

    assert guardian.directory_sync is None
    assert guardian.background[0] is guardian.audit.shipper
    assert [type(t) for t in guardian.background[1:]] == [RetentionSchedule]
    assert not any(isinstance(t, PeriodicSync) for t in guardian.background)
