"""The command line's state files: the session kept by ``guardian login`` (0600, whole or not
at all) and ``serve.json``, by which the CLI finds the server running on its data folder."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import orjson

from guardian.adapters.files.cli_state import (
    FileCliSessions,
    read_serve_state,
    remove_serve_state,
    write_serve_state,
)
from guardian.ports import CliSession

SESSION = CliSession("http://127.0.0.1:8000", "ivan", "token-value", 1_790_000_000.0)


def test_a_session_is_kept_readable_by_its_owner_only_and_forgotten(tmp_path: Path) -> None:
    sessions = FileCliSessions(tmp_path / "guardian" / "session.json")

    sessions.save(SESSION)

    path = tmp_path / "guardian" / "session.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert sessions.load() == SESSION
    assert sessions.clear() and not path.exists()
    assert not sessions.clear() and sessions.load() is None


def test_a_damaged_session_file_is_no_session(tmp_path: Path) -> None:
    path = tmp_path / "session.json"
    path.write_bytes(b'{"url": "http://x", "user": "ivan"')

    assert FileCliSessions(path).load() is None


def test_the_server_is_found_while_it_runs_and_not_once_it_is_gone(tmp_path: Path) -> None:
    path = tmp_path / "serve.json"
    write_serve_state(path, "http://127.0.0.1:8123")
    assert read_serve_state(path) == "http://127.0.0.1:8123"

    remove_serve_state(path)
    assert not path.exists() and read_serve_state(path) is None


def test_a_file_left_by_a_server_that_died_is_ignored_and_not_removed_by_another(
    tmp_path: Path
) -> None:
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    path = tmp_path / "serve.json"
    path.write_bytes(orjson.dumps({"url": "http://127.0.0.1:8123", "pid": gone.pid}))

    assert read_serve_state(path) is None
    remove_serve_state(path)  # not this process's file
    assert path.exists()
    assert gone.pid != os.getpid()
