"""The ports: what the domain needs from the outside world, as ``typing.Protocol``s.

Every port has an in-memory or file-backed implementation used by unit tests and the embedded
default; real services (LDAP, PostgreSQL, OpenSearch) implement the same protocols in
``guardian.adapters``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from guardian.audit.aggregations import AggregateQuery, Bucket, Span
from guardian.audit.queries import AuditPage, AuditQuery
from guardian.audit.records import (
    AuditReceipt,
    IndexStatus,
    ItemOutcome,
    JournalRecord,
    Removal,
    SetupReport,
    StoredEvent,
)
from guardian.changes import ChangeKind, Handler
from guardian.governance.consent_records import ConsentChange, ConsentState
from guardian.governance.model import ApiKeyRecord, FileKey, KeyHolder, TemporaryGrant
from guardian.governance.review_model import Campaign, Counts, ReviewItem, Revocation
from guardian.identity.directory_snapshot import DirectorySnapshot
from guardian.identity.lockout import LockoutPolicy
from guardian.identity.principal import Principal
from guardian.identity.security_keys import WebAuthnCredential
from guardian.reports.archive import ArchivedReport, DeliveryRecord

# The policy's own record, for type checking only: the audit trail uses these ports, and never
# imports the policy.
if TYPE_CHECKING:
    from guardian.policy.versions import PolicyVersion


class Clock(Protocol):
    def now(self) -> float:
        """Seconds since the epoch."""
        ...


class Directory(Protocol):
    """Who exists, their roles, status and contract; never called on a network round trip
    from the decision path (real directories serve a local snapshot)."""

    def get(self, uid: str) -> Principal | None: ...

    def principals(self) -> Iterable[Principal]: ...


class DirectoryFreshness(Protocol):
    """How old the directory data behind decisions is."""

    def age_s(self, now: float) -> float | None:
        """Seconds since the data was read from its source (``math.inf`` if it never was);
        ``None`` for a directory that cannot go stale (a static file)."""
        ...


class DirectorySource(Protocol):
    """Where a synced directory reads people from (LDAP): a network round trip, never on
    the decision path."""

    @property
    def name(self) -> str:
        """Where it reads from, for operators (a URL without credentials)."""
        ...

    def fetch(self) -> list[Principal]:
        """Every principal, now; raises ``DirectoryUnavailable``."""
        ...

    @property
    def warnings(self) -> Sequence[str]:
        """What the last fetch skipped or read the strict way (for operators)."""
        ...

    def close(self) -> None: ...


class SnapshotStore(Protocol):
    """Keeps the last directory snapshot across restarts."""

    def load(self) -> DirectorySnapshot | None: ...

    def save(self, snapshot: DirectorySnapshot) -> None: ...


class PasswordVerifier(Protocol):
    def verify_password(self, uid: str, password: str) -> bool:
        """Whether ``password`` is ``uid``'s. For an unknown ``uid`` it returns False after the
        same work as for a known one, so timing does not reveal which accounts exist."""
        ...


class MfaSecrets(Protocol):
    def totp_secret(self, uid: str) -> str | None:
        """The user's base32 TOTP seed, decrypted, or ``None`` when not enrolled."""
        ...


class OtpLedger(Protocol):
    """Shared memory of used one-time codes and of sign-in attempts (replay and lockout).

    Attempts are counted under opaque keys (one person from one address, one address, one
    person: :mod:`guardian.identity.attempts`), before the password is checked, in one atomic
    step, so concurrent attempts on any worker or replica are all counted.
    """

    def claim(self, uid: str, timestep: int, at: float) -> bool:
        """Record that ``uid`` used the code of ``timestep``; ``False`` if it was used before."""
        ...

    def reserve_attempt(self, key: str, at: float, policy: LockoutPolicy) -> int | None:
        """Count one attempt on ``key`` unless ``policy`` locks it now: the count including
        this attempt, or ``None`` (locked; nothing counted). A key quiet for
        ``policy.forget_after_s`` starts again from zero."""
        ...

    def attempts(self, key: str, at: float, policy: LockoutPolicy) -> int:
        """Attempts counted on ``key`` and not yet forgotten."""
        ...

    def release_attempts(self, key: str) -> None:
        """Forget every attempt on ``key`` (a success)."""
        ...

    def refund_attempt(self, key: str) -> None:
        """Take back one reserved attempt on ``key`` (it succeeded)."""
        ...

    def purge_attempts(self, before: float) -> int:
        """Delete counters whose last attempt is older than ``before``; how many went."""
        ...


class MfaInvitations(Protocol):
    """Invitations to enrol a first second factor, kept as keyed digests, each used once."""

    def add_invitation(self, uid: str, digest: str, created_by: str, at: float,
                       expires_at: float) -> None:
        """Keep a new invitation for ``uid``, replacing any unused one."""
        ...

    def use_invitation(self, uid: str, digest: str, at: float) -> bool:
        """Spend ``uid``'s unexpired, unused invitation with this digest; ``False`` if none."""
        ...


class TotpFactors(Protocol):
    """TOTP enrolments: a seed is pending until its first valid code, then active."""

    def begin_totp(self, uid: str, secret: str, recovery_digests: Sequence[str],
                   at: float) -> None:
        """Keep ``secret`` (sealed) as ``uid``'s pending seed, with its recovery codes."""
        ...

    def pending_totp(self, uid: str) -> str | None: ...

    def activate_totp(self, uid: str, at: float) -> bool:
        """Make the pending seed (and its recovery codes) the active one, replacing any other;
        ``False`` when nothing is pending."""
        ...


class RecoveryCodes(Protocol):
    def use_recovery_code(self, uid: str, digest: str, at: float) -> bool:
        """Spend the unused recovery code with this keyed digest; ``False`` if there is none."""
        ...


class WebAuthnCeremonies(Protocol):
    """Security keys (WebAuthn): challenges kept server-side and used once."""

    def registration_options(self, uid: str, display_name: str, at: float) -> dict[str, Any]:
        ...

    def register(self, uid: str, credential: Mapping[str, Any], at: float) -> str:
        """Verify a registration response; return the new credential's id (base64url)."""
        ...

    def authentication_options(self, subject: str, decoys: Sequence[bytes],
                               at: float) -> dict[str, Any]:
        """Options for an assertion by ``subject``'s security keys; for someone without any
        (or unknown), the same shape with ``decoys`` as credential ids. A challenge is kept
        for ``subject`` either way, so both cost the same."""
        ...

    def authenticate(self, uid: str, credential: Mapping[str, Any], at: float) -> bool: ...

    def has_credentials(self, uid: str) -> bool: ...


class SecurityKeyStore(Protocol):
    """Where the WebAuthn relying party keeps registered keys and outstanding challenges.
    Every call blocks on the store; each "once only" step is one conditional write."""

    def put_challenge(self, uid: str, purpose: str, challenge: str, expires_at: float) -> None:
        """Keep the one outstanding challenge of ``uid`` for ``purpose`` (replacing any)."""

    def take_challenge(self, uid: str, purpose: str, at: float) -> str | None:
        """The outstanding challenge, removed so that it serves once (``None``: none/expired)."""

    def add_credential(self, credential: WebAuthnCredential) -> bool:
        """Store a new key; ``False`` if a key with that id is already registered."""

    def credentials(self, uid: str) -> list[WebAuthnCredential]: ...

    def credential(self, credential_id: str) -> WebAuthnCredential | None: ...

    def advance_sign_count(self, credential_id: str, seen: int, new: int, at: float) -> bool:
        """Move the counter from ``seen`` to ``new`` unless another worker moved it first."""


class ConsentRegistry(Protocol):
    def without_consent(self, customer_ids: Sequence[str], purpose: str) -> tuple[str, ...]:
        """The customers among ``customer_ids`` who have not consented to ``purpose``."""
        ...


class ConsentStore(Protocol):
    """Consent changes and the state they leave, in the store. Every call blocks on a database
    round trip: never called on the event loop (decisions read a ``ConsentView``)."""

    def record_change(self, change: ConsentChange) -> ConsentChange:
        """Keep ``change`` in the history and make it the state of its customer and purpose
        unless a later one (by ``at``, then id) is there; the change with its ``change_id``."""
        ...

    def history(self, customer_id: str) -> list[ConsentChange]:
        """Every change of the customer, in the order stored."""
        ...

    def consent_states(self) -> list[ConsentState]:
        """The state of every customer and purpose ever recorded."""
        ...

    def last_change_id(self) -> int:
        """The highest ``change_id`` stored (0 when there is none)."""
        ...

    def changes_after(self, after_id: int, also: Sequence[int], limit: int
                      ) -> list[ConsentChange]:
        """Changes with an id above ``after_id`` or in ``also``, by id, at most ``limit``."""
        ...


class GrantStore(Protocol):
    """The temporary grants decisions read: served from memory, never blocks (a
    ``GrantView``)."""

    def active_roles(self, uid: str, at: float) -> frozenset[str]:
        """Roles granted temporarily to ``uid`` and valid at ``at``."""
        ...


class RevokedAccess(Protocol):
    """Standing roles revoked in access reviews, served from memory (on the decision path)."""

    def revoked_roles(self, uid: str) -> Mapping[str, str]:
        """``uid``'s revoked roles, each with the campaign that revoked it (empty: none)."""
        ...


class GrantRegistry(Protocol):
    """Temporary grants in the store. Every call blocks on a database round trip: never called
    on the event loop (decisions read a ``GrantStore``)."""

    def add_grant(self, grant: TemporaryGrant) -> None: ...

    def active_grants(self) -> list[TemporaryGrant]:
        """Every grant not revoked (expired ones included: a view judges them by time)."""
        ...

    def list_grants(self, uid: str | None = None) -> list[TemporaryGrant]: ...

    def get_grant(self, grant_id: str) -> TemporaryGrant | None: ...

    def revoke_grant(self, grant_id: str, at: float, by: str, reason: str
                     ) -> TemporaryGrant | None:
        """Revoke and return the grant, or ``None`` if there is no such grant not yet revoked
        (the service then removes it from the view)."""
        ...


class ApplicationRegistry(Protocol):
    """Which application holds a presented API key: served from memory, never blocks (a
    ``KeyView``; it is on the path of every request of an application)."""

    def application_for(self, api_key: str) -> str | None:
        """The name of the application holding ``api_key``, or ``None``."""
        ...

    def holder_of(self, api_key: str) -> KeyHolder | None:
        """The application holding ``api_key``, the key's id and scopes, or ``None``; served
        from memory (it is on the decision path)."""
        ...

    def holder_by_digest(self, digest: str) -> KeyHolder | None:
        """:meth:`holder_of` for the key whose SHA-256 hex digest is ``digest``."""
        ...


class FileKeys(Protocol):
    """The API keys an operator lists in a file beside the store's (read once, never written)."""

    def keys(self) -> list[FileKey]:
        """Every key of the file, in the file's order."""


class ApiKeyRegistry(Protocol):
    """Application API keys kept by Guardian (the clear key is shown once, never stored).
    Every call blocks on the store: never called on the event loop."""

    def add_key(self, record: ApiKeyRecord, key_sha256: str) -> None: ...

    def active_keys(self) -> list[tuple[str, KeyHolder]]:
        """The SHA-256 and holder of every key that opens the API (store and file keys)."""
        ...

    def list_keys(self) -> list[ApiKeyRecord]:
        """The store's keys and the applications file's (``source``), revoked ones included."""
        ...

    def revoke_key(self, key_id: str, at: float) -> ApiKeyRecord | None:
        """Revoke and return the key (of the store or of the applications file), or ``None`` if
        there is no such active key (the service then removes it from the view)."""
        ...


class PolicyVersions(Protocol):
    """The policy versions applied (``guardian policy apply``), in the store. Every call blocks
    on the database: never on the event loop (decisions read the compiled policy in memory)."""

    def latest_policy(self) -> PolicyVersion | None:
        """The version applied last, or ``None`` if none ever was (the files are in force)."""
        ...

    def add_policy(self, version: PolicyVersion) -> None:
        """Store ``version`` as the one in force; raise :class:`~guardian.errors.PolicyConflict`
        if the latest stored is not ``version.previous`` (another was applied meanwhile)."""
        ...


class ChangeFeed(Protocol):
    """Tells every other worker and replica that something decisions read has changed, and
    this process what they changed (:mod:`guardian.changes`).

    ``publish`` is called by services after storing a change (off the event loop); it may
    block briefly on the store but never raises: a change it could not publish reaches the
    others by their periodic refresh. Handlers run in the feed's own thread, never on the
    event loop; a process does not hear its own changes (its views are already current).
    """

    def publish(self, kind: ChangeKind, key: str) -> None: ...

    def subscribe(self, kind: ChangeKind, handler: Handler) -> None: ...

    def start(self) -> None: ...

    def stop(self) -> None: ...


class AuditJournal(Protocol):
    """Durable, hash-chained, append-only record of audit events."""

    def append(self, event: Mapping[str, Any]) -> AuditReceipt: ...

    def append_many(self, events: Sequence[Mapping[str, Any]]) -> list[AuditReceipt]: ...

    async def append_many_async(
        self, events: Sequence[Mapping[str, Any]]
    ) -> list[AuditReceipt]:
        """Like ``append_many`` for callers on an event loop: awaits durability."""
        ...

    def close(self) -> None: ...


class ShippableJournal(Protocol):
    """What the shipper needs of the journal: read what is durable, trim what was shipped."""

    @property
    def last_seq(self) -> int: ...

    @property
    def durable_offset(self) -> int:
        """Bytes of the journal file that are durable (whole events only)."""
        ...

    def read_records(self, offset: int, max_events: int) -> list[JournalRecord]:
        """Up to ``max_events`` durable events from byte ``offset`` on, in order."""
        ...

    def offset_of(self, seq: int) -> int | None:
        """Byte offset of event ``seq``'s line; the end of the journal for the event after the
        last; ``None`` if it is not in the journal (trimmed, or never written)."""
        ...

    def trim_before(self, offset: int) -> int:
        """Drop the journal's bytes before ``offset`` (the start of a checkpoint's line), so it
        starts at that signed checkpoint; return how many bytes went."""
        ...

    def checkpoint_if_due(self) -> bool:
        """Append a signed checkpoint if one is due by time; ``True`` if one was written."""
        ...


class AuditIndex(Protocol):
    """Where audit events are indexed for search and verification (SQLite or OpenSearch).

    Indexing is create-only by sequence number: a document is never overwritten; sending one
    again is answered ``duplicate`` if identical, ``conflict`` if another one is there.
    Whole-request failures raise ``AuditIndexUnavailable``.
    """

    def setup(self) -> SetupReport:
        """Create or update what the index needs (idempotent: a second run changes nothing)."""
        ...

    def status(self) -> IndexStatus:
        """Cheap description for health checks (no network round trip)."""
        ...

    def index_events(self, records: Sequence[JournalRecord]) -> list[ItemOutcome]: ...

    def index_checkpoints(self, records: Sequence[JournalRecord]) -> list[ItemOutcome]: ...

    def events_in_order(self, after_seq: int = 0) -> Iterator[StoredEvent]:
        """Every event with a sequence number above ``after_seq``, by sequence number."""
        ...

    def checkpoints(self) -> Iterator[StoredEvent]:
        """Every document of the checkpoint index, by sequence number."""
        ...

    def count(self) -> int:
        """How many events the index holds."""
        ...

    def search(self, query: AuditQuery) -> AuditPage: ...

    # Aggregations, computed by the index (periodic reports): see guardian.audit.aggregations.

    def aggregate(self, query: AggregateQuery) -> list[Bucket]:
        """Event counts per group of values over a period, in key order."""
        ...

    def span(self, since_ms: int, until_ms: int) -> Span:
        """How many events the period holds and the sequence numbers they cover."""
        ...

    def close(self) -> None: ...


class AuditRetention(Protocol):
    """Deletes what an audit index holds past retention, where the index does not do it
    itself (OpenSearch without ISM, the embedded index). Every call may block on the index."""

    def retention_managed(self) -> bool:
        """Whether the index enforces retention itself (OpenSearch ISM): then nothing is done."""
        ...

    def prepare(self) -> None:
        """Make sure the index accepts what the job journals (its mapping is up to date)."""
        ...

    def roll_over(self, now_ms: int, max_age_ms: int, max_bytes: int, *,
                  dry_run: bool = False) -> str | None:
        """Roll the write index over if its oldest event is ``max_age_ms`` old or it holds
        ``max_bytes``; the index rolled over (or that would be), else ``None``."""
        ...

    def expired(self, cutoff_ms: int) -> list[Removal]:
        """What may go, oldest first: every part of the trail whose newest event is before
        ``cutoff_ms`` and that nothing older is kept behind."""
        ...

    def remove(self, removal: Removal) -> int:
        """Delete what ``removal`` names; the number of events deleted."""
        ...


class RetainedAuditIndex(AuditIndex, AuditRetention, Protocol):
    """An audit index Guardian's retention job can work on (both real ones are)."""


class WitnessTransport(Protocol):
    """Carries checkpoints to a witness outside the host (a webhook). ``post`` blocks (it is
    called from the witness thread only) and raises ``WitnessUnavailable`` when the witness
    did not take the body."""

    @property
    def target(self) -> str:
        """Where deliveries go, for operators (no credentials)."""
        ...

    def post(self, body: bytes) -> None: ...


class ReportArchive(Protocol):
    """Signed reports, kept as produced (write-once)."""

    def add_report(self, report: ArchivedReport) -> None: ...

    def get_report(self, report_id: str) -> ArchivedReport | None: ...

    def list_reports(self, after_id: str | None, limit: int) -> list[ArchivedReport]:
        """Newest first; ``after_id``: the last id of the previous page."""
        ...


class LeaderLock(Protocol):
    """One leader among the replicas for a scheduled job (reports, retention, reviews): the
    job runs only where ``try_acquire(name)`` said yes. Non-blocking; the calls may touch the
    network (PostgreSQL), so they are made from background threads only. Leadership lasts until
    ``release`` or until the holder loses its hold (a dropped connection): ``held`` says whether
    it still leads, and a holder that lost it must call ``try_acquire`` again before working."""

    def try_acquire(self, name: str) -> bool:
        """Lead ``name`` if nobody does (``True`` too when this holder leads already)."""
        ...

    def release(self, name: str) -> None: ...

    def held(self, name: str) -> bool: ...


@dataclass(frozen=True, slots=True)
class OutgoingMail:
    """One mail to send: plain text, optional HTML, attachments as (filename, type, bytes)."""

    sender: str
    recipients: tuple[str, ...]
    subject: str
    text: str
    html: str | None = None
    attachments: tuple[tuple[str, str, bytes], ...] = ()


class Mailer(Protocol):
    """Sends mail (SMTP). ``send`` blocks and raises ``DeliveryFailed`` when the server did not
    accept the mail for every recipient; never called on the event loop."""

    def send(self, mail: OutgoingMail) -> None: ...


class WebhookSender(Protocol):
    """POSTs a JSON body signed with HMAC-SHA256 (``X-Guardian-Signature: sha256=<hex>``).
    ``post`` blocks (with a timeout) and raises ``DeliveryFailed`` unless the answer is 2xx."""

    def post(self, url: str, payload: Mapping[str, Any], secret: bytes) -> None: ...


class DeliveryLog(Protocol):
    """Where report deliveries are kept, beside the archive (shown with each report)."""

    def add_delivery(self, delivery: DeliveryRecord) -> None: ...

    def deliveries(self, report_id: str) -> list[DeliveryRecord]:
        """Oldest first."""
        ...
class ReviewStore(Protocol):
    """Access review campaigns, their items (each with its decision history) and the
    revocations they made. Every call blocks on a database round trip: never called on the
    decision path (decisions read a ``RevocationView``)."""

    def add_campaign(self, campaign: Campaign, items: Sequence[ReviewItem]) -> None:
        """Keep a new campaign and all its items in one transaction."""
        ...

    def save_campaign(self, campaign: Campaign) -> None: ...

    def get_campaign(self, campaign_id: str) -> Campaign | None: ...

    def list_campaigns(self, state: str | None = None) -> list[Campaign]:
        """Newest first."""
        ...

    def save_items(self, items: Sequence[ReviewItem]) -> None:
        """Replace the stored records of these (existing) items."""
        ...

    def get_items(self, item_ids: Sequence[str]) -> list[ReviewItem]:
        """The items that exist among ``item_ids``, in no particular order."""
        ...

    def campaign_items(self, campaign_id: str) -> list[ReviewItem]:
        """Every item of the campaign, by id."""
        ...

    def reviewer_items(self, reviewer: str, *, campaign_id: str | None = None,
                       pending_only: bool = False, after_id: str | None = None,
                       limit: int = 100) -> list[ReviewItem]:
        """Items assigned to ``reviewer`` in open campaigns, by id, after ``after_id``."""
        ...

    def counts(self, campaign_id: str) -> Counts: ...

    def add_revocations(self, revocations: Sequence[Revocation]) -> None: ...

    def end_revocation(self, item_id: str, at: float) -> None:
        """The item's access counts again (restored by an officer)."""
        ...

    def active_revocations(self) -> list[Revocation]: ...
class AuditSearch(Protocol):
    """The search half of :class:`AuditIndex`: all the trail's readers need (may block)."""

    def search(self, query: AuditQuery) -> AuditPage: ...


class GuardianServer(Protocol):
    """A running Guardian's HTTP API, as the command line calls it. Calls block (the CLI has
    no event loop); a refusal raises ``ServerRefused`` with the server's own code, no answer
    ``ServerUnreachable``."""

    @property
    def url(self) -> str: ...

    def call(self, method: str, path: str, *, token: str | None = None,
             body: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """The JSON answer of ``method path`` (``token``: a person's bearer session)."""
        ...

    def fetch(self, path: str, *, token: str | None = None) -> bytes:
        """The body of ``GET path`` whatever its type (a rendered page, a download)."""
        ...


class CliSessions(Protocol):
    """Where ``guardian login`` keeps the person's session between commands."""

    def load(self) -> CliSession | None:
        """The session kept, if any (expired or not: the caller judges)."""
        ...

    def save(self, session: CliSession) -> None: ...

    def clear(self) -> bool:
        """Forget the session; ``True`` if there was one."""
        ...


@dataclass(frozen=True, slots=True)
class CliSession:
    """A person's session on one server, as ``guardian login`` keeps it."""

    url: str
    user: str
    token: str
    expires_at: float


class MembershipWriter(Protocol):
    """Removes a person from the directory group that gives a role (the LDAP write account).
    ``remove_member`` blocks on the network and raises ``DirectoryWriteFailed`` when the
    directory refused or could not be reached; removing a membership that is already gone is
    not an error. Called from background work only (closing a campaign, the review clock)."""

    def remove_member(self, uid: str, role: str) -> None: ...


# -- the ports as the composition root hands them over (``guardian.bootstrap.Adapters``): one
# adapter often implements several of the ports above, and is handed over once.


class CoreStore(OtpLedger, GrantRegistry, Protocol):
    """The store as sign-in (one-time codes, attempts) and temporary grants use it."""


class FactorStore(MfaSecrets, TotpFactors, RecoveryCodes, MfaInvitations, SecurityKeyStore,
                  Protocol):
    """Where second factors are kept: sealed TOTP seeds, recovery codes, invitations, keys."""


class ReportStore(ReportArchive, DeliveryLog, Protocol):
    """The archive of periodic reports and the log of their deliveries."""


class ServerJournal(AuditJournal, ShippableJournal, Protocol):
    """The journal the server writes: appended to by services, read by its shipper."""
