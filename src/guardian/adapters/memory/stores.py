"""In-memory stores behind the ports the SQL adapters implement, for tests and the embedded
composition (``guardian.bootstrap.embedded``): grants and sign-in counters, API keys, second
factors, policy versions, the report archive, and a change feed within one process.

Each keeps the contract of its SQL twin (one lock where the database would run one statement)
but nothing survives the process; secrets are held as given (no sealing: nothing is written).
"""

from __future__ import annotations

import dataclasses
import threading
from collections import defaultdict
from collections.abc import Sequence

from guardian.adapters.memory.ports import MemoryInvitations, MemoryLedger
from guardian.changes import Change, ChangeKind, Handler
from guardian.governance.model import (
    DEFAULT_SCOPES,
    ApiKeyRecord,
    FileKey,
    KeyHolder,
    KeySource,
    TemporaryGrant,
)
from guardian.identity.security_keys import WebAuthnCredential
from guardian.policy.versions import PolicyVersion
from guardian.ports import FileKeys
from guardian.reports.archive import ArchivedReport, DeliveryRecord


class MemoryStore(MemoryLedger):
    """``CoreStore``: the one-time code ledger and the temporary grants."""

    def __init__(self) -> None:
        super().__init__()
        self.grants: dict[str, TemporaryGrant] = {}

    def add_grant(self, grant: TemporaryGrant) -> None:
        with self._lock:
            self.grants[grant.id] = grant

    def active_grants(self) -> list[TemporaryGrant]:
        with self._lock:
            return [g for g in self.grants.values() if g.revoked_at is None]

    def list_grants(self, uid: str | None = None) -> list[TemporaryGrant]:
        with self._lock:
            found = [g for g in self.grants.values() if uid is None or g.uid == uid]
        return sorted(found, key=lambda g: (g.starts_at, g.id))

    def get_grant(self, grant_id: str) -> TemporaryGrant | None:
        return self.grants.get(grant_id)

    def revoke_grant(self, grant_id: str, at: float, by: str, reason: str
                     ) -> TemporaryGrant | None:
        with self._lock:
            grant = self.grants.get(grant_id)
            if grant is None or grant.revoked_at is not None:
                return None
            grant = dataclasses.replace(grant, revoked_at=at, revoked_by=by,
                                        revoke_reason=reason)
            self.grants[grant_id] = grant
            return grant


class MemoryApiKeys:
    """``ApiKeyRegistry``: the store's keys and the file's (revoked by digest, as in SQL)."""

    def __init__(self, file_keys: FileKeys | None = None) -> None:
        self._file_keys: list[FileKey] = file_keys.keys() if file_keys is not None else []
        self._keys: dict[str, tuple[ApiKeyRecord, str]] = {}
        self._file_revoked: dict[str, float] = {}
        self._lock = threading.Lock()

    def add_key(self, record: ApiKeyRecord, key_sha256: str) -> None:
        with self._lock:
            self._keys[record.id] = (record, key_sha256)

    def list_keys(self) -> list[ApiKeyRecord]:
        from_file = [ApiKeyRecord(k.id, k.name, None, None, self._file_revoked.get(k.key_sha256),
                                  KeySource.FILE) for k in self._file_keys]
        return from_file + [record for record, _ in self._keys.values()]

    def revoke_key(self, key_id: str, at: float) -> ApiKeyRecord | None:
        with self._lock:
            file_key = next((k for k in self._file_keys if k.id == key_id), None)
            if file_key is not None:
                if file_key.key_sha256 in self._file_revoked:
                    return None
                self._file_revoked[file_key.key_sha256] = at
                return ApiKeyRecord(file_key.id, file_key.name, None, None, at, KeySource.FILE)
            found = self._keys.get(key_id)
            if found is None or found[0].revoked_at is not None:
                return None
            record = dataclasses.replace(found[0], revoked_at=at)
            self._keys[key_id] = (record, found[1])
            return record

    def active_keys(self) -> list[tuple[str, KeyHolder]]:
        return [(k.key_sha256, KeyHolder(k.name, k.id, DEFAULT_SCOPES))
                for k in self._file_keys if k.key_sha256 not in self._file_revoked] + [
            (digest, KeyHolder(record.name, record.id, record.scopes))
            for record, digest in self._keys.values() if record.revoked_at is None]


class MemoryFactors(MemoryInvitations):
    """``FactorStore``: TOTP seeds (pending, then active), recovery codes, invitations,
    WebAuthn keys and challenges."""

    def __init__(self) -> None:
        super().__init__()
        self._active: dict[str, str] = {}
        self._pending: dict[str, tuple[str, list[str]]] = {}
        self._codes: dict[str, set[str]] = {}
        self._challenges: dict[tuple[str, str], tuple[str, float]] = {}
        self._keys: dict[str, WebAuthnCredential] = {}
        self._lock = threading.Lock()

    def totp_secret(self, uid: str) -> str | None:
        return self._active.get(uid)

    def begin_totp(self, uid: str, secret: str, recovery_digests: Sequence[str],
                   at: float) -> None:
        self._pending[uid] = (secret, list(recovery_digests))

    def pending_totp(self, uid: str) -> str | None:
        found = self._pending.get(uid)
        return None if found is None else found[0]

    def activate_totp(self, uid: str, at: float) -> bool:
        with self._lock:
            found = self._pending.pop(uid, None)
            if found is None:
                return False
            self._active[uid], codes = found
            self._codes[uid] = set(codes)
            return True

    def use_recovery_code(self, uid: str, digest: str, at: float) -> bool:
        with self._lock:
            codes = self._codes.get(uid, set())
            if digest not in codes:
                return False
            codes.discard(digest)
            return True

    def put_challenge(self, uid: str, purpose: str, challenge: str, expires_at: float) -> None:
        self._challenges[(uid, purpose)] = (challenge, expires_at)

    def take_challenge(self, uid: str, purpose: str, at: float) -> str | None:
        with self._lock:
            found = self._challenges.pop((uid, purpose), None)
        return None if found is None or found[1] <= at else found[0]

    def add_credential(self, credential: WebAuthnCredential) -> bool:
        with self._lock:
            if credential.credential_id in self._keys:
                return False
            self._keys[credential.credential_id] = credential
            return True

    def credentials(self, uid: str) -> list[WebAuthnCredential]:
        return sorted((c for c in self._keys.values() if c.uid == uid),
                      key=lambda c: c.created_at)

    def credential(self, credential_id: str) -> WebAuthnCredential | None:
        return self._keys.get(credential_id)

    def advance_sign_count(self, credential_id: str, seen: int, new: int, at: float) -> bool:
        with self._lock:
            found = self._keys.get(credential_id)
            if found is None or found.sign_count != seen:
                return False
            self._keys[credential_id] = dataclasses.replace(found, sign_count=new,
                                                            last_used_at=at)
            return True


class MemoryPolicyVersions:
    """``PolicyVersions`` in a list, newest last."""

    def __init__(self) -> None:
        self.versions: list[PolicyVersion] = []

    def latest_policy(self) -> PolicyVersion | None:
        return self.versions[-1] if self.versions else None

    def add_policy(self, version: PolicyVersion) -> None:
        self.versions.append(version)


class MemoryReportArchive:
    """``ReportStore``: archived reports by id, and their deliveries."""

    def __init__(self) -> None:
        self.reports: dict[str, ArchivedReport] = {}
        self._deliveries: dict[str, list[DeliveryRecord]] = defaultdict(list)

    def add_report(self, report: ArchivedReport) -> None:
        self.reports[report.id] = report

    def get_report(self, report_id: str) -> ArchivedReport | None:
        return self.reports.get(report_id)

    def list_reports(self, after_id: str | None, limit: int) -> list[ArchivedReport]:
        ordered = sorted(self.reports.values(), key=lambda r: r.id, reverse=True)
        if after_id is not None:
            ordered = [r for r in ordered if r.id < after_id]
        return ordered[:limit]

    def add_delivery(self, delivery: DeliveryRecord) -> None:
        self._deliveries[delivery.report_id].append(delivery)

    def deliveries(self, report_id: str) -> list[DeliveryRecord]:
        return list(self._deliveries.get(report_id, []))


class MemoryChangeFeed:
    """``ChangeFeed`` within one process: nobody else to tell, so publishing tells no one
    (this process has already applied its own change)."""

    def __init__(self) -> None:
        self.published: list[tuple[ChangeKind, str]] = []
        self._handlers: dict[ChangeKind, list[Handler]] = defaultdict(list)

    def publish(self, kind: ChangeKind, key: str) -> None:
        self.published.append((kind, key))

    def subscribe(self, kind: ChangeKind, handler: Handler) -> None:
        self._handlers[kind].append(handler)

    def deliver(self, change: Change) -> None:
        """What another process would have sent (for tests of the followers)."""
        for handler in self._handlers[change.kind]:
            handler(change)

    def start(self) -> None:
        return None

    def stop(self) -> None:
        return None
