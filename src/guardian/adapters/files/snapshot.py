"""The directory snapshot on disk: one JSON file, replaced atomically, sealed with an HMAC.

Writing goes to a temporary file in the same folder, which is flushed and fsynced, renamed over
the old file, and the folder is fsynced: a crash leaves either the old snapshot or the new one,
never half of one. The file carries an HMAC-SHA256 of its content under a key derived from the
secret key, so a snapshot edited by hand (a role added, an account re-enabled) is refused at
start instead of being believed; a refused or unreadable snapshot counts as none (the directory
is then stale until the next sync succeeds, and decisions deny).
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import os
import tempfile
from pathlib import Path

import orjson

from guardian.errors import ConfigurationError, StoreUnavailable
from guardian.identity.directory_snapshot import DirectorySnapshot
from guardian.logging import get_logger

log = get_logger("guardian.directory")


class FileSnapshotStore:
    """Implements :class:`~guardian.ports.SnapshotStore`."""

    def __init__(self, path: Path, key: bytes) -> None:
        self.path = path
        self._key = key

    def load(self) -> DirectorySnapshot | None:
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            log.warning("directory snapshot unreadable", path=str(self.path), error=exc.strerror)
            return None
        try:
            return self._open(raw)
        except ConfigurationError as exc:
            log.warning("directory snapshot refused", path=str(self.path), error=exc.message)
            return None

    def save(self, snapshot: DirectorySnapshot) -> None:
        body = orjson.dumps(snapshot.as_dict())
        sealed = orjson.dumps({"mac": self._mac(body), "snapshot": orjson.Fragment(body)})
        try:
            write_atomically(self.path, sealed)
        except OSError as exc:
            raise StoreUnavailable(
                f"cannot write the directory snapshot {self.path}: {exc.strerror}") from exc

    def _open(self, raw: bytes) -> DirectorySnapshot:
        try:
            outer = orjson.loads(raw)
            mac = outer["mac"]
            body = orjson.dumps(outer["snapshot"])
        except (orjson.JSONDecodeError, KeyError, TypeError) as exc:
            raise ConfigurationError("not a sealed directory snapshot") from exc
        if not isinstance(mac, str) or not hmac.compare_digest(mac, self._mac(body)):
            raise ConfigurationError(
                "the directory snapshot's seal does not match (edited, or another secret key)")
        return DirectorySnapshot.from_dict(outer["snapshot"])

    def _mac(self, body: bytes) -> str:
        return hmac.new(self._key, body, hashlib.sha256).hexdigest()


def write_atomically(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` so that a crash leaves the old content or the new."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
