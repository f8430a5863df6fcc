"""Application API keys from a YAML file, stored as SHA-256 digests.

API keys are long random strings, so a fast hash is enough: there is nothing to brute-force
that a slow hash would protect. The clear key is never stored or logged.
"""

from __future__ import annotations

from pathlib import Path

from guardian.adapters.yaml_lines import load_plain
from guardian.errors import ConfigurationError
from guardian.governance.api_keys import key_digest


class FileApplications:
    """Implements :class:`~guardian.ports.ApplicationRegistry`."""

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
