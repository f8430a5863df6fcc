"""Application API keys in the store, by SHA-256 only. Every call blocks on the database.

Every decision request names its key, so keys are matched against a ``KeyView``
(``guardian.governance.views``) loaded from :meth:`SqlApiKeys.active_keys`, changed at once by
the key service and kept current by the change feed; nothing here is on the request path.

The keys of the applications file (``file_keys``) open the API beside the store's, unless the
store records their revocation (``file_key_revocations``, by digest: the file is not rewritten).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Engine, insert, select, update
from sqlalchemy.exc import IntegrityError

from guardian.adapters.sql.errors import translated
from guardian.adapters.sql.store import api_keys, file_key_revocations
from guardian.governance.model import (
    DEFAULT_SCOPES,
    ApiKeyRecord,
    FileKey,
    KeyHolder,
    KeySource,
    format_scopes,
    parse_scopes,
)
from guardian.ports import FileKeys

_RECORD_COLUMNS = (api_keys.c.id, api_keys.c.name, api_keys.c.created_at,
                   api_keys.c.created_by, api_keys.c.revoked_at, api_keys.c.scopes)


class SqlApiKeys:
    """Implements ``ApiKeyRegistry`` (store keys and file keys)."""

    def __init__(self, engine: Engine, file_keys: FileKeys | None = None) -> None:
        self.engine = engine
        self._file_keys = file_keys.keys() if file_keys is not None else []

    def add_key(self, record: ApiKeyRecord, key_sha256: str) -> None:
        with translated(), self.engine.begin() as conn:
            conn.execute(insert(api_keys).values(
                id=record.id, name=record.name, key_sha256=key_sha256,
                created_at=record.created_at, created_by=record.created_by,
                revoked_at=record.revoked_at, scopes=format_scopes(record.scopes)))

    def list_keys(self) -> list[ApiKeyRecord]:
        query = select(*_RECORD_COLUMNS).order_by(api_keys.c.created_at, api_keys.c.id)
        with translated(), self.engine.connect() as conn:
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
        with translated(), self.engine.begin() as conn:
            row = conn.execute(change).mappings().first()
        return None if row is None else _record(row)

    def _revoke_file_key(self, key: FileKey, at: float) -> ApiKeyRecord | None:
        with translated(), self.engine.begin() as conn:
            try:
                with conn.begin_nested():
                    conn.execute(insert(file_key_revocations).values(
                        key_sha256=key.key_sha256, name=key.name, revoked_at=at))
            except IntegrityError:
                return None  # revoked before
        return ApiKeyRecord(key.id, key.name, None, None, at, KeySource.FILE)

    def active_keys(self) -> list[tuple[str, KeyHolder]]:
        query = select(api_keys.c.key_sha256, api_keys.c.name, api_keys.c.id,
                       api_keys.c.scopes).where(api_keys.c.revoked_at.is_(None))
        with translated(), self.engine.connect() as conn:
            found = [(str(d), KeyHolder(str(n), str(i), parse_scopes(str(s))))
                     for d, n, i, s in conn.execute(query)]
            revoked = self._file_revocations(conn)
        return [(k.key_sha256, KeyHolder(k.name, k.id, DEFAULT_SCOPES))
                for k in self._file_keys if k.key_sha256 not in revoked] + found

    @staticmethod
    def _file_revocations(conn: Connection) -> dict[str, float]:
        rows = conn.execute(select(file_key_revocations.c.key_sha256,
                                   file_key_revocations.c.revoked_at))
        return {str(d): float(at) for d, at in rows}


def _record(row: Any) -> ApiKeyRecord:
    return ApiKeyRecord(row["id"], row["name"], row["created_at"], row["created_by"],
                        row["revoked_at"], scopes=parse_scopes(str(row["scopes"])))
