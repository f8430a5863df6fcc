"""Application API keys from a YAML file, stored as SHA-256 digests.

API keys are long random strings, so a fast hash is enough: there is nothing to brute-force
that a slow hash would protect. The clear key is never stored or logged. The file's keys hold
the ``decide`` scope only: a consent system's key is made with ``guardian keys create``. Each
key gets a stable id from its digest (``file-`` and 16 hex digits), so it can be listed and
revoked like the store's keys; the revocation is kept in the store (``sql_api_keys``), the file
never rewritten.
"""

from __future__ import annotations

from pathlib import Path

from guardian.adapters.files.yaml_lines import load_plain
from guardian.errors import ConfigurationError
from guardian.governance.api_keys import key_digest
from guardian.governance.model import DEFAULT_SCOPES, FileKey, KeyHolder

FILE_KEY_PREFIX = "file-"


def file_key_id(key_sha256: str) -> str:
    """A key's id in listings: the first 64 bits of its digest, which tell nothing of the key."""
    return FILE_KEY_PREFIX + key_sha256[:16]


class FileApplications:
    """Implements :class:`~guardian.ports.ApplicationRegistry` and ``FileKeys`` (its keys, for
    the store)."""

    def __init__(self, path: Path) -> None:
        try:
            raw = load_plain(path)
        except OSError as exc:
            raise ConfigurationError(f"applications file {path}: {exc.strerror}") from exc
        apps = raw.get("applications") if isinstance(raw, dict) else None
        if not isinstance(apps, list):
            raise ConfigurationError(f"applications file {path}: expected `applications:`")
        self._by_digest: dict[str, str] = {}
        for app in apps:
            if not isinstance(app, dict) or "name" not in app or "key_sha256" not in app:
                raise ConfigurationError(f"applications file {path}: need name and key_sha256")
            self._by_digest[str(app["key_sha256"]).lower()] = str(app["name"])

    def application_for(self, api_key: str) -> str | None:
        # The look-up is keyed by a digest of the key, so its timing tells nothing about the key.
        return self._by_digest.get(key_digest(api_key))

    def holder_of(self, api_key: str) -> KeyHolder | None:
        """The file's keys hold the ``decide`` scope only (the file has no scopes)."""
        return self.holder_by_digest(key_digest(api_key))

    def holder_by_digest(self, digest: str) -> KeyHolder | None:
        name = self._by_digest.get(digest)
        return None if name is None else KeyHolder(name, file_key_id(digest), DEFAULT_SCOPES)

    def keys(self) -> list[FileKey]:
        """Every key of the file, in the file's order."""
        return [FileKey(file_key_id(d), name, d) for d, name in self._by_digest.items()]
