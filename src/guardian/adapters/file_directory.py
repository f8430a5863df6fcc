"""The embedded directory: people, roles, status and credentials from a YAML file.

Passwords are stored as scrypt hashes, TOTP seeds sealed with AES-GCM under the configured
secret key (see ``policies/demo/directory.yaml`` and ``scripts/make_demo_directory.py``). The
whole file is held in memory, so look-ups on the decision path are a dictionary access.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from guardian.adapters.yaml_lines import load_plain
from guardian.errors import ConfigurationError
from guardian.identity.passwords import DUMMY_HASH, verify_password
from guardian.identity.principal import Principal
from guardian.identity.sealing import Sealer
from guardian.policy.vocabulary import EmployeeType


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
        self.reload()

    def reload(self) -> None:
        try:
            raw = load_plain(self.path)
        except OSError as exc:
            raise ConfigurationError(f"directory file {self.path}: {exc.strerror}") from exc
        users = raw.get("users") if isinstance(raw, dict) else None
        if not isinstance(users, list):
            raise ConfigurationError(f"directory file {self.path}: expected a `users:` list")
        entries: dict[str, _Entry] = {}
        for item in users:
            entry = _parse_entry(item, self.path)
            entries[entry.principal.uid] = entry
        self._entries = entries

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


def _parse_entry(item: Any, path: Path) -> _Entry:
    if not isinstance(item, dict) or not isinstance(item.get("uid"), str):
        raise ConfigurationError(f"directory file {path}: every user needs a `uid`")
    try:
        principal = Principal(
            uid=item["uid"],
            name=str(item.get("name", item["uid"])),
            roles=frozenset(str(r) for r in item.get("roles") or ()),
            employee_type=EmployeeType(item.get("type", "employee")),
            active=bool(item.get("active", True)),
            supplier=item.get("supplier"),
            contract_clause=bool(item.get("contract_clause", False)),
            manager=item.get("manager"),
        )
    except ValueError as exc:
        raise ConfigurationError(f"directory file {path}: user {item['uid']}: {exc}") from exc
    return _Entry(principal, item.get("password_hash"), item.get("totp_sealed"))
