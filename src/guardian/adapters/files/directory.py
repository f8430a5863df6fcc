"""The embedded directory: people, roles, status and credentials from a YAML file.

Passwords are stored as scrypt hashes, TOTP seeds sealed with AES-GCM under the configured
secret key (see ``policies/demo/directory.yaml`` and ``scripts/make_demo_directory.py``). The
whole file is held in memory, so look-ups on the decision path are a dictionary access.

While the server runs, :class:`DirectoryFileWatcher` polls the file's identity (modification
time, inode, size) every interval and, when it changed, parses it whole and swaps the new
entries in with one assignment: a decision sees the old directory or the new one, never half
of each. A file that does not parse keeps the last good directory in service; the error is
logged and shown by ``/v1/health`` until a good file replaces it.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from guardian.adapters.files.yaml_lines import load_streamed
from guardian.adapters.threads.background import Every
from guardian.errors import ConfigurationError
from guardian.identity.passwords import DUMMY_HASH, verify_password
from guardian.identity.principal import Principal
from guardian.identity.sealing import Sealer
from guardian.identity.vocabulary import EmployeeType
from guardian.logging import get_logger

log = get_logger("guardian.directory")
_FileIdentity = tuple[int, int, int] | None


@dataclass(frozen=True, slots=True)
class _Entry:
    principal: Principal
    password_hash: str | None
    sealed_totp: str | None


class FileDirectory:
    """Implements :class:`~guardian.ports.Directory`, ``PasswordVerifier`` and ``MfaSecrets``."""

    def __init__(self, path: Path, sealer: Sealer) -> None:
        self.path = path
        self._sealer = sealer
        self._entries: dict[str, _Entry] = {}
        self._seen: _FileIdentity = None
        self.reload_error: str | None = None
        """Why the file's last change could not be loaded (the previous one still serves)."""
        self.reloads = 0
        self.reload()

    def reload(self) -> None:
        identity = self._identity()
        try:
            raw = load_streamed(self.path)
        except OSError as exc:
            raise ConfigurationError(f"directory file {self.path}: {exc.strerror}") from exc
        users = raw.get("users") if isinstance(raw, dict) else None
        if not isinstance(users, list):
            raise ConfigurationError(f"directory file {self.path}: expected a `users:` list")
        entries: dict[str, _Entry] = {}
        role_sets: dict[frozenset[str], frozenset[str]] = {}
        for item in users:
            entry = _parse_entry(item, self.path, role_sets)
            entries[entry.principal.uid] = entry
        self._entries = entries  # one assignment: readers see the old or the new directory
        self._seen = identity
        self.reload_error = None

    def reload_if_changed(self) -> bool:
        """Reload when the file's identity changed since it was last read; ``True`` if the
        directory in service changed. A file that cannot be read or parsed is reported once
        (``reload_error``) and the last good directory goes on serving."""
        identity = self._identity()
        if identity == self._seen:
            return False
        try:
            self.reload()
        except Exception as exc:  # noqa: BLE001 - a broken file must never stop the service
            self._seen = identity  # not retried until the file changes again
            message = exc.message if isinstance(exc, ConfigurationError) else (
                f"directory file {self.path}: {type(exc).__name__}: {exc}")
            self.reload_error = message[:500]
            log.warning("directory file not reloaded; the previous one stays in service",
                        error=self.reload_error)
            return False
        self.reloads += 1
        log.info("directory file reloaded", users=len(self._entries))
        return True

    def _identity(self) -> _FileIdentity:
        try:
            st = os.stat(self.path)
        except OSError:
            return None
        return (st.st_mtime_ns, st.st_ino, st.st_size)

    def get(self, uid: str) -> Principal | None:
        entry = self._entries.get(uid)
        return None if entry is None else entry.principal

    def principals(self) -> Iterable[Principal]:
        return [e.principal for e in self._entries.values()]

    def verify_password(self, uid: str, password: str) -> bool:
        entry = self._entries.get(uid)
        if entry is None or entry.password_hash is None:
            verify_password(password, DUMMY_HASH)
            return False
        return verify_password(password, entry.password_hash)

    def totp_secret(self, uid: str) -> str | None:
        entry = self._entries.get(uid)
        if entry is None or entry.sealed_totp is None:
            return None
        return self._sealer.open(entry.sealed_totp, context=f"totp:{uid}")


def _shared(known: dict[frozenset[str], frozenset[str]],
            roles: frozenset[str]) -> frozenset[str]:
    return known.setdefault(roles, roles)


class DirectoryFileWatcher:
    """Background work of ``guardian serve``: one daemon thread polling the directory file."""

    def __init__(self, directory: FileDirectory, interval_s: float) -> None:
        self.directory = directory
        self.interval_s = interval_s
        self._loop = Every("guardian-directory-file", interval_s, self._poll, at_start=False)

    def start(self) -> None:
        self._loop.start()

    def stop(self, timeout_s: float = 5.0) -> None:
        self._loop.stop(timeout_s)

    def _poll(self) -> None:
        self.directory.reload_if_changed()


def _parse_entry(item: Any, path: Path,
                 role_sets: dict[frozenset[str], frozenset[str]]) -> _Entry:
    """One person of the file. ``role_sets`` keeps one frozenset per distinct set of roles
    (many people hold the same ones) and the names are interned, so 100 000 people do not
    carry 200 000 copies of their role names."""
    if not isinstance(item, dict) or not isinstance(item.get("uid"), str):
        raise ConfigurationError(f"directory file {path}: every user needs a `uid`")
    uid = sys.intern(item["uid"])
    name = str(item.get("name", uid))
    try:
        principal = Principal(
            uid=uid,
            name=uid if name == uid else name,
            roles=_shared(role_sets, frozenset(sys.intern(str(r))
                                               for r in item.get("roles") or ())),
            employee_type=EmployeeType(item.get("type", "employee")),
            active=bool(item.get("active", True)),
            supplier=item.get("supplier"),
            contract_clause=bool(item.get("contract_clause", False)),
            manager=item.get("manager"),
        )
    except ValueError as exc:
        raise ConfigurationError(f"directory file {path}: user {item['uid']}: {exc}") from exc
    return _Entry(principal, item.get("password_hash"), item.get("totp_sealed"))
