"""What the composition root hands to the API and the command line: :class:`Guardian`.

Every field is typed by a port (``guardian.ports``) or by a service of a domain package, never
by a concrete adapter class, so an entry point cannot reach past a service into a database and
a test may wire the same record from in-memory adapters (:func:`guardian.bootstrap.wire`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from guardian.adapters.prometheus.metrics import GuardianMetrics
from guardian.audit.checkpoints import CheckpointSigner
from guardian.audit.retention import RetentionJob
from guardian.audit.trail_reads import TrailReads
from guardian.config import Settings
from guardian.governance.api_keys import ApiKeyService
from guardian.governance.consent import ConsentService
from guardian.governance.followers import DecisionViews
from guardian.governance.grants import GrantService
from guardian.governance.review_clock import ReviewClock
from guardian.governance.review_closing import ReviewClosing
from guardian.governance.review_reminders import ReviewReminders
from guardian.governance.review_revocations import RevocationView
from guardian.governance.reviews import ReviewService
from guardian.identity.directory_sync import SyncedDirectory
from guardian.identity.enrolment import MfaEnrolment
from guardian.identity.invitations import InvitationService
from guardian.identity.sessions import SessionService
from guardian.identity.sign_in import SignInService
from guardian.identity.tokens import TokenSigner
from guardian.journal.shipper import Shipper
from guardian.journal.witness import WitnessSender
from guardian.policy.apply import PolicyService
from guardian.policy.pipeline import CompiledPolicy, DecisionPipeline
from guardian.ports import (
    ApplicationRegistry,
    AuditIndex,
    AuditJournal,
    AuditRetention,
    ChangeFeed,
    Clock,
    CoreStore,
    Directory,
    FactorStore,
    LeaderLock,
    MfaSecrets,
    WebAuthnCeremonies,
)
from guardian.reports.customer_reports import CustomerReports
from guardian.reports.periodic_service import PeriodicReports
from guardian.reports.review_evidence import CampaignEvidence


class Background(Protocol):
    """Work that runs beside the API while it serves (started and stopped by its lifespan)."""

    def start(self) -> None: ...

    def stop(self) -> None: ...


@dataclass
class AuditTrail:
    """The audit index, the shipper from the journal into it, the checkpoint signer."""

    index: AuditIndex
    shipper: Shipper
    signer: CheckpointSigner
    witness: WitnessSender | None = None
    """Delivers every checkpoint to the webhook witness (``GUARDIAN_AUDIT_WITNESS_URL``)."""
    retention: AuditRetention | None = None
    """The index as the retention job sees it (``None``: a test's index without one)."""

    def close_witness(self) -> None:
        if self.witness is not None:
            self.witness.stop()


@dataclass
class Mfa:
    """Second factors: seeds and keys in the store, enrolment, the WebAuthn relying party."""

    store: FactorStore
    secrets: MfaSecrets
    """Store-enrolled seeds first, then the directory's (the demo organisation's)."""
    webauthn: WebAuthnCeremonies
    enrolment: MfaEnrolment
    recovery_key: bytes
    invitations: InvitationService
    qr_svg: Callable[[str], str]
    """Draws a provisioning URI as an SVG data URI (segno)."""


@dataclass
class Reviews:
    """Access reviews: the use cases and the in-memory view of what they revoked."""

    service: ReviewService
    closing: ReviewClosing
    revocations: RevocationView
    evidence: CampaignEvidence
    clock: ReviewClock | None = None
    """What time asks for (recurrence, reminders, deadlines, remediation retries)."""
    reminders: ReviewReminders | None = None
    """An officer's reminder, now, to the reviewers with pending items."""
    demo: ReviewService | None = None
    """Demo mode: the review service whose events are marked as demo data."""


@dataclass
class Guardian:
    """Everything the API and the CLI use, wired together."""

    settings: Settings
    clock: Clock
    policy: CompiledPolicy
    directory: Directory
    store: CoreStore
    journal: AuditJournal
    applications: ApplicationRegistry
    sessions: SessionService
    pipeline: DecisionPipeline
    signer: TokenSigner
    mfa: Mfa
    api_keys: ApiKeyService
    grants: GrantService
    audit: AuditTrail
    """The audit index, the shipper feeding it and the checkpoint signer."""
    reports: PeriodicReports
    """Periodic audit reports: produced, signed, archived."""
    consent: ConsentService
    """Customers' consent: recorded by the consent system, read by decisions from memory."""
    sign_in: SignInService
    """Sign-in and step-up as use cases: every attempt journalled."""
    trail: TrailReads
    """The auditors' search of the trail, journalled before it is answered."""
    customer_reports: CustomerReports
    """Customer access reports (GDPR right of access), journalled before they are produced."""
    retention: RetentionJob | None = None
    """Deletes the trail past retention where the index does not (no ISM)."""
    directory_sync: SyncedDirectory | None = None
    """The synced LDAP directory (``None`` with the file directory)."""
    background: list[Background] = field(default_factory=list)
    metrics: GuardianMetrics = field(default_factory=GuardianMetrics)
    """Prometheus metrics, in a registry of this Guardian's own."""
    closed: bool = False
    leader: LeaderLock | None = None
    """Who leads the scheduled jobs (PostgreSQL advisory lock, or this process)."""
    views: DecisionViews | None = None
    """The in-memory views decisions read (grants, keys, consent) and how they follow."""
    changes: ChangeFeed | None = None
    """Tells other workers and replicas what changed here, and this process what they did."""
    reviews: Reviews | None = None
    """Access reviews: campaigns, the reviewers' inboxes, revocations (in memory)."""
    policies: PolicyService | None = None
    """The policy in force: applied (``guardian policy apply``), stored, swapped everywhere."""
    release: Callable[[], None] = lambda: None
    """Releases what the adapters hold beyond the journal and index (the store's engine)."""

    def start_background(self) -> None:
        for task in self.background:
            task.start()

    def stop_background(self) -> None:
        for task in reversed(self.background):
            task.stop()

    def close(self) -> None:
        """Stop background work, sign the journal's tail, release files and connections.
        Safe to call twice (the server's shutdown and its caller may both call it)."""
        if self.closed:
            return
        self.closed = True
        self.stop_background()
        if self.directory_sync is not None:
            self.directory_sync.close()
        self.audit.shipper.stop()  # idempotent; also when it was only used to drain
        self.journal.close()
        self.audit.close_witness()  # after the journal: its closing checkpoint goes too
        self.audit.index.close()
        self.release()
