"""In-memory views of the grants and API keys that decisions read: dictionary look-ups only.

Like the directory snapshot and the consent view, each is loaded when Guardian starts, changed
at once by the service that changes the store here (after journalling and storing), re-read one
record at a time when the change feed says another process changed it, and re-read whole by a
periodic refresh, the safety net for a message missed. Readers never take a lock: each update
builds a new dictionary and swaps the reference. Writers take the view's lock around the read
from the store *and* the swap, so a reload that read the store before a revocation committed
cannot put the revoked grant or key back after the revocation removed it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable

from guardian.governance.api_keys import key_digest
from guardian.governance.model import KeyHolder, TemporaryGrant


class GrantView:
    """Implements :class:`~guardian.ports.GrantStore` from memory: temporary grants not revoked,
    by person."""

    def __init__(self, grants: Iterable[TemporaryGrant] = ()) -> None:
        self._by_uid: dict[str, tuple[TemporaryGrant, ...]] = {}
        self._lock = threading.Lock()
        self._swap(grants)

    def active_roles(self, uid: str, at: float) -> frozenset[str]:
        mine = self._by_uid.get(uid)
        if not mine:
            return frozenset()
        return frozenset(g.role for g in mine if g.gives_role_at(at))

    def reload(self, read: Callable[[], Iterable[TemporaryGrant]]) -> int:
        """Replace everything by what ``read`` (the store's grants not revoked) returns."""
        with self._lock:
            return self._swap(read())

    def refresh_one(self, grant_id: str, read: Callable[[], TemporaryGrant | None]) -> None:
        """Re-read one grant (``read``: the store's copy, or ``None``) and hold it if active."""
        with self._lock:
            found = read()
            self._put(grant_id, found if found is not None and not found.revoked else None)

    def add(self, grant: TemporaryGrant) -> None:
        with self._lock:
            self._put(grant.id, None if grant.revoked else grant)

    def remove(self, grant_id: str) -> None:
        with self._lock:
            self._put(grant_id, None)

    def __len__(self) -> int:
        return sum(len(gs) for gs in self._by_uid.values())

    def _put(self, grant_id: str, grant: TemporaryGrant | None) -> None:
        fresh = {uid: tuple(g for g in gs if g.id != grant_id) for uid, gs in self._by_uid.items()
                 if any(g.id == grant_id for g in gs)}
        if grant is not None:
            fresh[grant.uid] = (*fresh.get(grant.uid, self._by_uid.get(grant.uid, ())), grant)
        if fresh:
            self._by_uid = {**self._by_uid, **fresh}

    def _swap(self, grants: Iterable[TemporaryGrant]) -> int:
        by_uid: dict[str, list[TemporaryGrant]] = {}
        count = 0
        for grant in grants:
            if not grant.revoked:
                by_uid.setdefault(grant.uid, []).append(grant)
                count += 1
        self._by_uid = {uid: tuple(gs) for uid, gs in by_uid.items()}
        return count


class KeyView:
    """Implements :class:`~guardian.ports.ApplicationRegistry` from memory: the active keys by
    SHA-256 of the key."""

    def __init__(self, keys: Iterable[tuple[str, KeyHolder]] = ()) -> None:
        self._by_digest: dict[str, KeyHolder] = dict(keys)
        self._lock = threading.Lock()

    def application_for(self, api_key: str) -> str | None:
        holder = self.holder_of(api_key)
        return None if holder is None else holder.application

    def holder_of(self, api_key: str) -> KeyHolder | None:
        return self.holder_by_digest(key_digest(api_key))

    def holder_by_digest(self, digest: str) -> KeyHolder | None:
        """:meth:`holder_of` for a key whose digest the caller has already computed."""
        return self._by_digest.get(digest)

    def reload(self, read: Callable[[], Iterable[tuple[str, KeyHolder]]]) -> int:
        """Replace everything by what ``read`` (digest and holder of every active key) returns."""
        with self._lock:
            self._by_digest = dict(read())
            return len(self._by_digest)

    def add(self, digest: str, holder: KeyHolder) -> None:
        with self._lock:
            self._by_digest = {**self._by_digest, digest: holder}

    def forget(self, key_id: str) -> None:
        """Stop honouring the key with this id (from this call's return on)."""
        with self._lock:
            self._by_digest = {d: h for d, h in self._by_digest.items() if h.key_id != key_id}

    def __len__(self) -> int:
        return len(self._by_digest)
