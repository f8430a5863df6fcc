"""Customers' consent, recorded by the consent system and read by every marketing decision.

One use case, :meth:`ConsentService.record`, for every entry point (``PUT /v1/customers/{id}/
consents/{purpose}``, ``guardian consent import``, the demo seed): validate (the customer id
canonical, the purpose declared and needing consent, a source, a time not in the future),
journal (``consent.granted`` / ``consent.withdrawn``), then store the change in the history and
apply it to this process's :class:`~guardian.governance.consent_view.ConsentView`, so the next
decision here counts it, and publish it on the change feed: other workers and replicas read it
within a second.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass

from guardian.audit.events import consent_event
from guardian.changes import ChangeKind, LocalChanges
from guardian.errors import ConsentNotNeeded, InvalidConsent, UnknownPurpose
from guardian.governance.consent_records import ConsentChange, CustomerConsents
from guardian.governance.consent_view import ConsentView
from guardian.governance.customer_ids import DEFAULT_CUSTOMER_ID_PATTERN, canonical_customer_id
from guardian.policy.definition import PolicyDefinition
from guardian.ports import AuditJournal, ChangeFeed, Clock, ConsentStore

MAX_SOURCE = 256
_PRINTABLE = re.compile(r"^[^\x00-\x1f\x7f-\x9f]+$")
_CLOCK_SKEW_S = 300.0
"""A consent system's clock may run this far ahead of Guardian's; further is refused."""


@dataclass(frozen=True, slots=True)
class ConsentCaller:
    """Who records a change: an application by its key, or a person running an import."""

    actor: str
    application: str | None = None
    key_id: str | None = None


class ConsentService:
    def __init__(
        self, store: ConsentStore, view: ConsentView, journal: AuditJournal, clock: Clock,
        policy: Callable[[], PolicyDefinition], *,
        customer_id_pattern: re.Pattern[str] = DEFAULT_CUSTOMER_ID_PATTERN,
        changes: ChangeFeed | None = None,
    ) -> None:
        self._store = store
        self._changes: ChangeFeed = changes if changes is not None else LocalChanges()
        self._view = view
        self._journal = journal
        self._clock = clock
        self._policy = policy
        self._pattern = customer_id_pattern

    def record(
        self, customer_id: str, purpose: str, granted: bool, source: str, caller: ConsentCaller,
        *, at: float | None = None,
    ) -> ConsentChange:
        """Record that the customer gave (``granted``) or withdrew consent to ``purpose``, at
        ``at`` (default: now). Blocking: call it off the event loop."""
        now = self._clock.now()
        change = ConsentChange(
            customer_id=canonical_customer_id(customer_id, self._pattern),
            purpose=self.consent_purpose(purpose), granted=granted,
            at=self._when(at, now), source=_source(source), actor=caller.actor,
            key_id=caller.key_id, recorded_at=now)
        self._journal.append(consent_event(
            caller.actor, caller.application, caller.key_id, now,
            customer_id=change.customer_id, purpose=change.purpose, granted=granted,
            source=change.source, given_at=change.at))
        stored = self._store.record_change(change)
        self._view.apply(stored.state)
        self._changes.publish(ChangeKind.CONSENT, stored.customer_id)
        return stored

    def consents_of(self, customer_id: str) -> CustomerConsents:
        """The customer's state per purpose needing consent, and their whole history."""
        customer = canonical_customer_id(customer_id, self._pattern)
        history = tuple(self._store.history(customer))
        needing = [p.name for p in self._policy().purposes.values() if p.needs_consent]
        extra = [c.purpose for c in history if c.purpose not in needing]
        return CustomerConsents(customer, tuple(dict.fromkeys(needing + extra)), history)

    def consent_purpose(self, purpose: str) -> str:
        """``purpose`` if ``guardian.yaml`` declares it and it needs consent; 422 otherwise."""
        declared = self._policy().purposes.get(purpose)
        if declared is None:
            raise UnknownPurpose(f"purpose {purpose[:64]!r} is not declared in guardian.yaml")
        if not declared.needs_consent:
            raise ConsentNotNeeded(f"purpose {purpose} does not need consent: nothing to record")
        return purpose

    @staticmethod
    def _when(at: float | None, now: float) -> float:
        if at is None:
            return now
        if not math.isfinite(at) or at < 0:
            raise InvalidConsent("the time of the consent is not a valid instant")
        if at > now + _CLOCK_SKEW_S:
            raise InvalidConsent("the time of the consent is in the future")
        # Never later than now: a change dated ahead would outrank a withdrawal made meanwhile.
        return min(at, now)


def _source(source: str) -> str:
    text = source.strip()
    if not text or len(text) > MAX_SOURCE or _PRINTABLE.fullmatch(text) is None:
        raise InvalidConsent(f"source must be 1 to {MAX_SOURCE} printable characters")
    return text
