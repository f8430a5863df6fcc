"""Application API keys in the store, by SHA-256 only, served from a snapshot on the hot path.

Every decision request names its key, so keys are matched against an in-memory map of digests
refreshed after each change made here and at most ``refresh_s`` old otherwise: a key revoked on
another replica stops working within that period. An unknown key triggers at most one early
refresh a second (a key just created elsewhere), so guessing keys cannot hammer the database.
If the store cannot be read, the last snapshot keeps serving. The keys of the applications file
(``fallback``) keep working beside the store's.
"""

from __future__ import annotations

import threading
import time

from sqlalchemy import Engine, insert, select, update

from guardian.adapters.sql_store import _translated, api_keys
from guardian.errors import StoreUnavailable
from guardian.governance.api_keys import key_digest
from guardian.governance.model import ApiKeyRecord
from guardian.logging import get_logger
from guardian.ports import ApplicationRegistry

log = get_logger("guardian.store")
_MISS_REFRESH_S = 1.0


class SqlApiKeys:
    """Implements ``ApplicationRegistry`` (store keys, then ``fallback``) and ``ApiKeyRegistry``."""

    def __init__(
        self, engine: Engine, fallback: ApplicationRegistry | None = None, *,
        refresh_s: float = 5.0,
    ) -> None:
        self.engine = engine
        self._fallback = fallback
        self._refresh_s = refresh_s
        self._by_digest: dict[str, str] = {}
        self._loaded_at = float("-inf")
        self._lock = threading.Lock()

    def application_for(self, api_key: str) -> str | None:
        if self._fallback is not None:
            name = self._fallback.application_for(api_key)
            if name is not None:
                return name
        age = time.monotonic() - self._loaded_at
        digest = key_digest(api_key)
        if age > self._refresh_s or (digest not in self._by_digest and age > _MISS_REFRESH_S):
            self._refresh()
        return self._by_digest.get(digest)

    def add_key(self, record: ApiKeyRecord, key_sha256: str) -> None:
        with _translated(), self.engine.begin() as conn:
            conn.execute(insert(api_keys).values(
                id=record.id, name=record.name, key_sha256=key_sha256,
                created_at=record.created_at, created_by=record.created_by,
                revoked_at=record.revoked_at))
        self._load()

    def list_keys(self) -> list[ApiKeyRecord]:
        query = select(api_keys.c.id, api_keys.c.name, api_keys.c.created_at,
                       api_keys.c.created_by, api_keys.c.revoked_at).order_by(
            api_keys.c.created_at, api_keys.c.id)
        with _translated(), self.engine.connect() as conn:
            return [ApiKeyRecord(**row) for row in conn.execute(query).mappings()]

    def revoke_key(self, key_id: str, at: float) -> ApiKeyRecord | None:
        with _translated(), self.engine.begin() as conn:
            done = conn.execute(update(api_keys).where(
                api_keys.c.id == key_id, api_keys.c.revoked_at.is_(None)).values(revoked_at=at))
        self._load()
        if done.rowcount != 1:
            return None
        return next((k for k in self.list_keys() if k.id == key_id), None)

    def _refresh(self) -> None:
        try:
            self._load()
        except StoreUnavailable:
            if self._loaded_at == float("-inf"):
                raise
            self._loaded_at = time.monotonic()  # retry after a full period, not on every call
            log.warning("api keys not refreshed: store unavailable; serving the last snapshot")

    def _load(self) -> None:
        query = select(api_keys.c.key_sha256, api_keys.c.name).where(
            api_keys.c.revoked_at.is_(None))
        with self._lock, _translated(), self.engine.connect() as conn:
            self._by_digest = {str(d): str(n) for d, n in conn.execute(query)}
            self._loaded_at = time.monotonic()
