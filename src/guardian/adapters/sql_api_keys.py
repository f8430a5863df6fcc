"""Application API keys in the store, by SHA-256 only, served from a snapshot on the hot path.

Every decision request names its key, so keys are matched against an in-memory map of digests
refreshed after each change made here and at most ``refresh_s`` old otherwise: a key revoked on
another replica stops working within that period, one revoked here at once (the map drops it
before ``revoke_key`` returns, whether or not the store can be re-read). An unknown key triggers
at most one early refresh a second (a key just created elsewhere), so guessing keys cannot
hammer the database. If the store cannot be read, the last snapshot keeps serving.

The keys of the applications file (``file_keys``) open the API beside the store's, unless the
store records their revocation (``file_key_revocations``, by digest: the file is not rewritten).
"""

from __future__ import annotations

import threading
import time
from typing import Any

from sqlalchemy import Connection, Engine, insert, select, update
from sqlalchemy.exc import IntegrityError

from guardian.adapters.file_applications import FileApplications, FileKey
from guardian.adapters.sql_store import _translated, api_keys, file_key_revocations
from guardian.errors import StoreUnavailable
from guardian.governance.api_keys import key_digest
from guardian.governance.model import (
    DEFAULT_SCOPES,
    ApiKeyRecord,
    KeyHolder,
    KeySource,
    format_scopes,
    parse_scopes,
)
from guardian.logging import get_logger

log = get_logger("guardian.store")
_MISS_REFRESH_S = 1.0
_RECORD_COLUMNS = (api_keys.c.id, api_keys.c.name, api_keys.c.created_at,
                   api_keys.c.created_by, api_keys.c.revoked_at, api_keys.c.scopes)


class SqlApiKeys:
    """Implements ``ApplicationRegistry`` and ``ApiKeyRegistry`` (store keys and file keys)."""

    def __init__(
        self, engine: Engine, file_keys: FileApplications | None = None, *,
        refresh_s: float = 5.0,
    ) -> None:
        self.engine = engine
        self._file_keys = file_keys.keys() if file_keys is not None else []
        self._refresh_s = refresh_s
        self._by_digest: dict[str, KeyHolder] = {}
        self._loaded_at = float("-inf")
        self._lock = threading.Lock()

    def application_for(self, api_key: str) -> str | None:
        holder = self.holder_of(api_key)
        return None if holder is None else holder.application

    def holder_of(self, api_key: str) -> KeyHolder | None:
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
                revoked_at=record.revoked_at, scopes=format_scopes(record.scopes)))
        self._load()

    def list_keys(self) -> list[ApiKeyRecord]:
        query = select(*_RECORD_COLUMNS).order_by(api_keys.c.created_at, api_keys.c.id)
        with _translated(), self.engine.connect() as conn:
            stored = [_record(row) for row in conn.execute(query).mappings()]
            revoked = self._file_revocations(conn)
        from_file = [ApiKeyRecord(k.id, k.name, None, None, revoked.get(k.key_sha256),
                                  KeySource.FILE) for k in self._file_keys]
        return from_file + stored

    def revoke_key(self, key_id: str, at: float) -> ApiKeyRecord | None:
        file_key = next((k for k in self._file_keys if k.id == key_id), None)
        if file_key is not None:
            return self._revoke_file_key(file_key, at)
        change = (update(api_keys).where(api_keys.c.id == key_id, api_keys.c.revoked_at.is_(None))
                  .values(revoked_at=at).returning(*_RECORD_COLUMNS, api_keys.c.key_sha256))
        with _translated(), self.engine.begin() as conn:
            row = conn.execute(change).mappings().first()
        if row is None:
            return None
        self._forget(str(row["key_sha256"]))
        return _record(row)

    def _revoke_file_key(self, key: FileKey, at: float) -> ApiKeyRecord | None:
        with _translated(), self.engine.begin() as conn:
            try:
                with conn.begin_nested():
                    conn.execute(insert(file_key_revocations).values(
                        key_sha256=key.key_sha256, name=key.name, revoked_at=at))
            except IntegrityError:
                return None  # revoked before
        self._forget(key.key_sha256)
        return ApiKeyRecord(key.id, key.name, None, None, at, KeySource.FILE)

    def _forget(self, digest: str) -> None:
        # Under the lock, so a refresh that read the store before the revocation committed
        # cannot put the key back; a refresh after it reads the revocation.
        with self._lock:
            self._by_digest = {d: n for d, n in self._by_digest.items() if d != digest}

    def _refresh(self) -> None:
        try:
            self._load()
        except StoreUnavailable:
            if self._loaded_at == float("-inf"):
                raise
            self._loaded_at = time.monotonic()  # retry after a full period, not on every call
            log.warning("api keys not refreshed: store unavailable; serving the last snapshot")

    def _load(self) -> None:
        query = select(api_keys.c.key_sha256, api_keys.c.name, api_keys.c.id,
                       api_keys.c.scopes).where(api_keys.c.revoked_at.is_(None))
        with self._lock, _translated(), self.engine.connect() as conn:
            by_digest = {str(d): KeyHolder(str(n), str(i), parse_scopes(str(s)))
                         for d, n, i, s in conn.execute(query)}
            revoked = self._file_revocations(conn)
            by_digest.update({k.key_sha256: KeyHolder(k.name, k.id, DEFAULT_SCOPES)
                              for k in self._file_keys if k.key_sha256 not in revoked})
            self._by_digest = by_digest
            self._loaded_at = time.monotonic()

    @staticmethod
    def _file_revocations(conn: Connection) -> dict[str, float]:
        rows = conn.execute(select(file_key_revocations.c.key_sha256,
                                   file_key_revocations.c.revoked_at))
        return {str(d): float(at) for d, at in rows}


def _record(row: Any) -> ApiKeyRecord:
    return ApiKeyRecord(row["id"], row["name"], row["created_at"], row["created_by"],
                        row["revoked_at"], scopes=parse_scopes(str(row["scopes"])))
