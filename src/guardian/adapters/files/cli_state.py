"""Files the command line reads to work as a client: the server's address and the session.

``guardian serve`` writes ``serve.json`` in its data folder while it runs (its address and
process id) and removes it when it stops; a file left by a server that died is recognised by
its process id and ignored. ``guardian login`` keeps the person's session in a file readable
by its owner only (0600, in a 0700 folder), written whole or not at all.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

import orjson

from guardian.ports import CliSession


def write_serve_state(path: Path, url: str) -> None:
    """Say where this process serves (removed with :func:`remove_serve_state`)."""
    _write_private(path, orjson.dumps({"url": url, "pid": os.getpid()}))


def remove_serve_state(path: Path) -> None:
    """Remove the file if this process wrote it (not a newer server's)."""
    with contextlib.suppress(OSError, ValueError, KeyError, TypeError):
        if int(orjson.loads(path.read_bytes())["pid"]) == os.getpid():
            path.unlink()


def read_serve_state(path: Path) -> str | None:
    """The address of the server running on this data folder, if one is."""
    try:
        state = orjson.loads(path.read_bytes())
        url, pid = str(state["url"]), int(state["pid"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return url if _alive(pid) else None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process: alive
    return True


class FileCliSessions:
    """``CliSessions`` in one JSON file, mode 0600."""

    def __init__(self, path: Path) -> None:
        self._path = path

    def load(self) -> CliSession | None:
        try:
            raw = orjson.loads(self._path.read_bytes())
            return CliSession(str(raw["url"]), str(raw["user"]), str(raw["token"]),
                              float(raw["expires_at"]))
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def save(self, session: CliSession) -> None:
        _write_private(self._path, orjson.dumps({
            "url": session.url, "user": session.user, "token": session.token,
            "expires_at": session.expires_at}))

    def clear(self) -> bool:
        try:
            self._path.unlink()
        except FileNotFoundError:
            return False
        return True


def _write_private(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` readable by its owner only, replacing it atomically."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)
