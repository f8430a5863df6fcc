"""The directory snapshot file: atomic replacement, sealed with an HMAC, refused when edited."""

from __future__ import annotations

import os
from pathlib import Path

import orjson
import pytest

from guardian.adapters.files.snapshot import FileSnapshotStore, write_atomically
from guardian.errors import StoreUnavailable
from guardian.identity.directory_snapshot import DirectorySnapshot
from guardian.identity.principal import Principal

KEY = b"s" * 32
SNAP = DirectorySnapshot.of(
    [Principal("alice", "Alice Martin", frozenset({"customer-care"})),
     Principal("heidi", "Heidi", frozenset({"customer-care"}), active=False)],
    1_790_000_000.5, "ldap://127.0.0.1:3389")


def test_a_saved_snapshot_loads_back_equal(tmp_path: Path) -> None:
    store = FileSnapshotStore(tmp_path / "directory" / "snapshot.json", KEY)
    store.save(SNAP)
    assert FileSnapshotStore(store.path, KEY).load() == SNAP


def test_no_file_means_no_snapshot(tmp_path: Path) -> None:
    assert FileSnapshotStore(tmp_path / "none.json", KEY).load() is None


def test_saving_replaces_the_file_and_leaves_no_temporary_file(tmp_path: Path) -> None:
    store = FileSnapshotStore(tmp_path / "snapshot.json", KEY)
    store.save(SNAP)
    newer = DirectorySnapshot.of([], 1_790_000_100.0, "ldap://127.0.0.1:3389")
    store.save(newer)
    assert store.load() == newer
    assert sorted(p.name for p in tmp_path.iterdir()) == ["snapshot.json"]


def test_a_snapshot_edited_by_hand_is_refused(tmp_path: Path) -> None:
    store = FileSnapshotStore(tmp_path / "snapshot.json", KEY)
    store.save(SNAP)
    raw = orjson.loads(store.path.read_bytes())
    raw["snapshot"]["principals"][1]["active"] = True  # re-enable heidi
    store.path.write_bytes(orjson.dumps(raw))
    assert store.load() is None


def test_a_snapshot_sealed_under_another_secret_key_is_refused(tmp_path: Path) -> None:
    FileSnapshotStore(tmp_path / "snapshot.json", KEY).save(SNAP)
    assert FileSnapshotStore(tmp_path / "snapshot.json", b"t" * 32).load() is None


@pytest.mark.parametrize("content", [b"", b"{", b"[]", b'{"mac": "00", "snapshot": {}}'])
def test_a_corrupt_file_counts_as_no_snapshot(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "snapshot.json"
    path.write_bytes(content)
    assert FileSnapshotStore(path, KEY).load() is None


def test_an_unwritable_folder_is_a_store_error(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    with pytest.raises(StoreUnavailable):
        FileSnapshotStore(blocker / "snapshot.json", KEY).save(SNAP)


def test_a_failed_write_keeps_the_old_content(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                              ) -> None:
    path = tmp_path / "f.json"
    write_atomically(path, b"old")

    def no_fsync(fd: int) -> None:
        raise OSError(5, "I/O error")

    monkeypatch.setattr(os, "fsync", no_fsync)
    with pytest.raises(OSError):
        write_atomically(path, b"new")
    assert path.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["f.json"]
