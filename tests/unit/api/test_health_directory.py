"""`/v1/health` names the directory source; a file directory is never stale, and is watched."""

from __future__ import annotations

from fastapi.testclient import TestClient

from guardian.adapters.files.directory import DirectoryFileWatcher
from guardian.bootstrap import Guardian
from guardian.clock import ManualClock
from guardian.identity.vocabulary import AuthMethod


def test_health_shows_the_file_directory_with_its_user_count(
    client: TestClient, guardian: Guardian, clock: ManualClock
) -> None:
    token, _ = guardian.signer.issue("ivan", (AuthMethod.PASSWORD, AuthMethod.OTP),
                                     clock.now(), clock.now(), 600)
    body = client.get("/v1/health", headers={"Authorization": f"Bearer {token}"}).json()
    assert body["status"] == "ok"
    directory = body["directory"]
    assert {k: directory[k] for k in ("source", "users", "age_s", "stale")} == {
        "source": "file", "users": 14, "age_s": None, "stale": False}
    assert directory["reload_error"] is None


def test_a_file_directory_runs_its_watcher_and_the_retention_job_beside_the_shipper(
        guardian: Guardian) -> None:
    from guardian.adapters.threads.background import Every
    from guardian.adapters.threads.periodic_sync import PeriodicSync
    from guardian.adapters.threads.retention_schedule import RetentionSchedule

    names = [type(t).__name__ for t in guardian.background]
    assert guardian.directory_sync is None
    assert guardian.audit.shipper in guardian.background
    assert any(isinstance(task, DirectoryFileWatcher) for task in guardian.background)
    assert any(isinstance(task, RetentionSchedule) for task in guardian.background)
    assert {"SqliteChangeFeed", "Every"} <= set(names)
    assert {t.name for t in guardian.background if isinstance(t, Every)} == {
        "guardian-consent", "guardian-views", "review-revocations"}
    assert not any(isinstance(t, PeriodicSync) for t in guardian.background)
