"""What changed, said between processes: the vocabulary of the change feed and its dispatch.

A process that changes something decisions read (a grant, a key, a consent, a revocation in an
access review, the directory snapshot) updates its own in-memory view at once, then publishes
``(kind, key)`` on the :class:`~guardian.ports.ChangeFeed`; every other worker and replica hears
it within a second and re-reads that one thing from the store, off the event loop. A message
says only *what* to re-read, never the data itself, so a message lost or repeated costs a
re-read at most, and the periodic refresh of every view catches what was missed.

Adding a kind is one line in :class:`ChangeKind` and one handler where the views are wired.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from guardian.logging import get_logger

log = get_logger("guardian.changes")


class ChangeKind(StrEnum):
    GRANT = "grant"
    """A temporary grant created or revoked; key: the grant id."""
    KEY = "key"
    """An API key created or revoked; key: the key id."""
    CONSENT = "consent"
    """A consent change stored; key: the customer id."""
    REVOCATION = "revocation"
    """Standing roles revoked, restored or verified gone in an access review; key: the
    campaign id (receivers re-read every active revocation: one message per close)."""
    DIRECTORY = "directory"
    """A new directory snapshot was saved; key: the source's name."""
    POLICY = "policy"
    """A new policy version was applied (``guardian policy apply``); key: its version."""
    RESYNC = "resync"
    """Not published: delivered locally when the feed (re)connects, since messages may have
    been missed meanwhile; every view re-reads everything."""


MAX_KEY = 200
"""Longest key carried (PostgreSQL caps a notification at 8000 bytes; ids are short)."""


@dataclass(frozen=True, slots=True)
class Change:
    kind: ChangeKind
    key: str


Handler = Callable[[Change], None]


class Subscribers:
    """The handlers of one feed; each change goes to every handler of its kind, in the feed's
    thread. A handler that raises is logged and the others still run."""

    def __init__(self) -> None:
        self._handlers: dict[ChangeKind, list[Handler]] = {}
        self._lock = threading.Lock()
        self.delivered = 0

    def subscribe(self, kind: ChangeKind, handler: Handler) -> None:
        with self._lock:
            self._handlers.setdefault(kind, []).append(handler)

    def deliver(self, change: Change) -> None:
        kinds = list(self._handlers) if change.kind is ChangeKind.RESYNC else [change.kind]
        for kind in kinds:
            for handler in list(self._handlers.get(kind, ())):
                try:
                    handler(change if kind is change.kind else Change(kind, ""))
                except Exception as exc:  # noqa: BLE001 - one view failing must not stop others
                    log.warning("change not applied; the periodic refresh will",
                                kind=kind.value, error=type(exc).__name__)
        self.delivered += 1


def parse(kind: str, key: str) -> Change | None:
    """A change read from the feed, or ``None`` for a kind this version does not know."""
    try:
        known = ChangeKind(kind)
    except ValueError:
        return None
    return None if known is ChangeKind.RESYNC else Change(known, key[:MAX_KEY])


class LocalChanges:
    """A feed for one process alone (tests, ``guardian check``): published changes go nowhere
    (the publisher's views are already current)."""

    def __init__(self) -> None:
        self.subscribers = Subscribers()
        self.published: list[Change] = []

    def publish(self, kind: ChangeKind, key: str) -> None:
        self.published.append(Change(kind, key[:MAX_KEY]))

    def subscribe(self, kind: ChangeKind, handler: Handler) -> None:
        self.subscribers.subscribe(kind, handler)

    def start(self) -> None:
        return None

    def stop(self) -> None:
        return None
