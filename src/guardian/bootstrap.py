"""The composition root: the one place where Settings become concrete adapters and services.

Nothing connects or opens files at import time; :func:`build` does it when asked, and
:meth:`Guardian.close` releases it.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from guardian import __version__
from guardian.adapters.files.applications import FileApplications
from guardian.adapters.files.directory import DirectoryFileWatcher, FileDirectory
from guardian.adapters.files.keys import load_signer
from guardian.adapters.files.policy import load_policy
from guardian.adapters.files.policy_candidates import FilePolicyCompiler
from guardian.adapters.files.policy_candidates import read_policy_files as read_policy_files
from guardian.adapters.files.snapshot import FileSnapshotStore
from guardian.adapters.files.yaml_lines import load_plain
from guardian.adapters.http.witness import HttpWitness
from guardian.adapters.ldap.connection import LdapConfig, LdapConnections
from guardian.adapters.ldap.directory import LdapAttributes, LdapDirectory, LdapLayout
from guardian.adapters.memory.ports import MemoryConsents, MemoryGrants, MemoryJournal
from guardian.adapters.opensearch.design import load_design
from guardian.adapters.prometheus.metrics import GuardianMetrics, MetricsServer, parse_address
from guardian.adapters.prometheus.state import StateCollector, StateSources
from guardian.adapters.render.qr import svg_data_uri
from guardian.adapters.sql.api_keys import SqlApiKeys
from guardian.adapters.sql.consents import SqlConsents
from guardian.adapters.sql.mfa import SqlMfaStore
from guardian.adapters.sql.policy_versions import SqlPolicyVersions
from guardian.adapters.sql.reviews import SqlReviews
from guardian.adapters.sql.store import SqlStore, make_engine
from guardian.adapters.threads.background import Every
from guardian.adapters.threads.periodic_sync import PeriodicSync
from guardian.adapters.webauthn.relying_party import WebAuthnRelyingParty
from guardian.audit.checkpoints import Checkpointer, CheckpointSigner
from guardian.audit.retention import RetentionJob, RetentionPolicy
from guardian.audit.trail_reads import TrailReads
from guardian.changes import ChangeKind
from guardian.clock import SystemClock
from guardian.config import Settings
from guardian.errors import ConfigurationError
from guardian.governance.api_keys import ApiKeyService
from guardian.governance.consent import ConsentService
from guardian.governance.consent_records import ConsentChange
from guardian.governance.consent_view import ConsentFollower, ConsentView
from guardian.governance.followers import DecisionViews
from guardian.governance.grants import GrantService
from guardian.governance.review_clock import ReviewClock
from guardian.governance.review_closing import ReviewClosing
from guardian.governance.review_definitions import ReviewDefinition
from guardian.governance.review_notices import NoticeConfig, ReviewNotifier
from guardian.governance.review_revocations import RevocationView
from guardian.governance.review_usage import UsageEvidence
from guardian.governance.reviews import ReviewDeps, ReviewService
from guardian.identity.attempts import SignInAttempts
from guardian.identity.directory_sync import SyncedDirectory
from guardian.identity.enrolment import MfaEnrolment
from guardian.identity.factors import LayeredMfaSecrets
from guardian.identity.invitations import InvitationService
from guardian.identity.lockout import LockoutPolicy, SignInLimits
from guardian.identity.sealing import KeyPurpose, Sealer, derive_key
from guardian.identity.sessions import SessionService
from guardian.identity.sign_in import SignInService
from guardian.identity.tokens import TokenSigner
from guardian.journal.ship_state import load_state, state_path
from guardian.journal.shipper import Shipper, ShipperConfig
from guardian.journal.witness import WitnessConfig, WitnessSender
from guardian.journal.writer import FileJournal
from guardian.policy.apply import PolicyCompiler, PolicyService
from guardian.policy.pipeline import CompiledPolicy, DecisionPipeline
from guardian.policy.versions import PolicyVersion
from guardian.ports import (
    ApplicationRegistry,
    AuditIndex,
    AuditJournal,
    AuditRetention,
    ChangeFeed,
    CliSessions,
    Clock,
    Directory,
    GrantRegistry,
    GuardianServer,
    LeaderLock,
    Mailer,
    MembershipWriter,
    MfaSecrets,
    PasswordVerifier,
    PolicyVersions,
    RetainedAuditIndex,
)
from guardian.reports.customer_reports import CustomerReports
from guardian.reports.delivery import ReportDelivery
from guardian.reports.periodic import Integrity
from guardian.reports.periodic_service import PeriodicReports, context_of
from guardian.reports.review_evidence import CampaignEvidence

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    from guardian.errors import LintFinding
    from guardian.policy.definition import PolicyDefinition
    from guardian.policy.testing import PolicyCase


class Background(Protocol):
    """Work that runs beside the API while it serves (started and stopped by its lifespan)."""

    def start(self) -> None: ...

    def stop(self) -> None: ...


@dataclass
class Guardian:
    """Everything the API and the CLI use, wired together."""

    settings: Settings
    clock: Clock
    policy: CompiledPolicy
    directory: Directory
    store: SqlStore
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
        self.store.engine.dispose()


def sign_in_limits(settings: Settings) -> SignInLimits:
    user_source = LockoutPolicy(settings.lockout_max_failures, settings.lockout_base_s,
                                settings.lockout_max_s)
    return SignInLimits(
        per_user_source=user_source,
        per_source=LockoutPolicy(settings.lockout_source_max_failures, settings.lockout_base_s,
                                 settings.lockout_max_s),
        user_delay_max_s=settings.lockout_user_delay_max_s)


def session_signer(settings: Settings) -> TokenSigner:
    return TokenSigner(derive_key(settings.secret_key.get_secret_value(),
                                  KeyPurpose.SESSION_TOKENS))


def seed_sealer(settings: Settings) -> Sealer:
    """Seals and opens TOTP seeds, in the store and in the demo directory file alike."""
    return Sealer(derive_key(settings.secret_key.get_secret_value(), KeyPurpose.TOTP_SEEDS))


def build(settings: Settings, *, clock: Clock | None = None) -> Guardian:
    clock = clock or SystemClock()
    signer = session_signer(settings)
    fresh = not settings.data_dir.exists() or not any(settings.data_dir.iterdir())
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    store = SqlStore(make_engine(settings.store_url))
    store.create_schema()
    versions = SqlPolicyVersions(store.engine)
    compiler = FilePolicyCompiler(
        lambda candidate, paths: run_policy_tests(settings, directory, clock, candidate, paths))
    policy, in_force = policy_in_force(settings, versions, compiler)
    people = build_directory(settings, policy, clock)
    directory = people.directory
    checkpoint_signer = build_checkpoint_signer(settings)
    witness = build_witness(settings)
    journal = open_journal(settings, checkpoint_signer, clock, witness)
    audit = build_audit_trail(settings, journal, checkpoint_signer, clock, witness)
    if witness is not None:
        witness.durable_seq = lambda: journal.last_seq
    secret = settings.secret_key.get_secret_value()
    attempts = SignInAttempts(store, directory, sign_in_limits(settings),
                              derive_key(secret, KeyPurpose.UNKNOWN_USERS))
    mfa = build_mfa(settings, store, people.secrets, attempts, directory, journal, clock)
    sessions = SessionService(
        directory, people.passwords, mfa.secrets, store, signer, clock,
        ttl_s=settings.session_ttl_s, recovery=mfa.store,
        recovery_key=mfa.recovery_key, webauthn=mfa.webauthn,
        enrolment_ttl_s=settings.admin_mfa_max_age_s, invitations=mfa.invitations,
        digest_key=derive_key(secret, KeyPurpose.WEBAUTHN_DECOYS), attempts=attempts,
    )
    consents = SqlConsents(store.engine)
    if settings.customers_file is not None and not consents.has_consents():
        seed_consents(consents, read_consents(settings), clock.now())
    follower = ConsentFollower(consents, ConsentView())
    changes = build_change_feed(settings, store)
    views = DecisionViews(store, SqlApiKeys(store.engine,
                                            FileApplications(settings.applications_file)),
                          follower, directory=people.synced.reload_snapshot
                          if people.synced is not None else None)
    views.load()
    views.follow(changes)
    revocations = RevocationView(SqlReviews(store.engine))
    pipeline = DecisionPipeline(policy, directory, views.grant_view, follower.view, signer,
                                journal, clock, freshness=people.synced,
                                max_directory_age_s=settings.directory_max_age_s,
                                revoked=revocations)
    consent = ConsentService(consents, follower.view, journal, clock,
                             lambda: pipeline.policy.definition,
                             customer_id_pattern=settings.customer_id_pattern,
                             changes=changes)
    policies = PolicyService(versions, compiler, journal, clock,
                             lambda compiled: setattr(pipeline, "policy", compiled), in_force,
                             changes=changes)
    policies.follow(changes)
    guardian = Guardian(
        settings=settings, clock=clock, policy=policy, directory=directory, store=store,
        journal=journal, applications=views.key_view, sessions=sessions, pipeline=pipeline,
        signer=signer, mfa=mfa,
        api_keys=ApiKeyService(views.keys, journal, clock, view=views.key_view,
                               changes=changes),
        grants=GrantService(store, directory, lambda: pipeline.policy.definition,
                            journal, clock, max_duration_s=settings.grant_max_s,
                            view=views.grant_view, changes=changes),
        audit=audit,
        reports=build_reports(audit, journal, store, directory, lambda: pipeline.policy, clock,
                              trust_file=settings.audit_trust_file),
        retention=build_retention(settings, audit, journal, clock),
        consent=consent, sign_in=SignInService(sessions, journal, clock),
        trail=TrailReads(audit.index, journal, clock),
        customer_reports=CustomerReports(audit.index, consent.consents_of, journal, clock),
        directory_sync=people.synced,
        background=[PeriodicSync(people.synced, settings.directory_sync_interval_s,
                                 changes=changes)]
        if people.synced is not None else [],
        views=views, changes=changes, policies=policies,
    )
    if people.watcher is not None:
        guardian.background.append(people.watcher)
    guardian.background.extend(follow_in_background(settings, views, changes))
    guardian.reviews = build_reviews(settings, guardian, revocations)
    guardian.background.append(Every("review-revocations", settings.reviews_refresh_interval_s,
                                     revocations.refresh, at_start=False))
    if witness is not None:
        witness.start()  # at once: the journal may sign its last run's tail on opening
    if settings.audit_ship:
        guardian.background.append(audit.shipper)
    watch_metrics(guardian, add_schedules(guardian, build_leader(store, settings.data_dir)))
    if settings.reviews_schedule and guardian.reviews.clock is not None:
        from guardian.adapters.threads.review_schedule import ReviewSchedule

        guardian.background.append(ReviewSchedule(guardian.reviews.clock, clock,
                                                  check_s=settings.reviews_check_s,
                                                  leader=guardian.leader))
    if fresh and settings.demo and settings.demo_history:
        seed_demo_history(guardian, read_consents(settings))
    return guardian


def build_leader(store: SqlStore, data_dir: Path | None = None) -> LeaderLock:
    """The PostgreSQL advisory lock when the store is PostgreSQL (several replicas may share
    it), else a file lock in the data folder (the workers of one host share it), or the
    in-process lock when no data folder is given."""
    if store.engine.dialect.name == "postgresql":
        from guardian.adapters.sql.leader_lock import PostgresLeaderLock

        return PostgresLeaderLock(store.engine)
    if data_dir is not None:
        from guardian.adapters.files.leader_lock import FileLeaderLock

        return FileLeaderLock(data_dir / "leader")
    from guardian.adapters.threads.process_leader import ProcessLeaderLock

    return ProcessLeaderLock()


def add_schedules(guardian: Guardian, leader: LeaderLock) -> ReportScheduleStats | None:
    """The report and retention schedules, as configured, run by the leader only."""
    settings = guardian.settings
    guardian.leader = leader
    schedule = None
    if settings.reports_schedule == "monthly":
        from guardian.adapters.threads.report_schedule import ReportSchedule

        schedule = ReportSchedule(guardian.reports, leader=leader,
                                  delivery=build_delivery(settings, guardian))
        guardian.background.append(schedule)
    if settings.audit_retention_schedule == "daily" and guardian.retention is not None:
        from guardian.adapters.threads.retention_schedule import RetentionSchedule

        guardian.background.append(RetentionSchedule(guardian.retention, leader=leader))
    return schedule


def build_delivery(settings: Settings, guardian: Guardian) -> ReportDelivery | None:
    """Mail (``GUARDIAN_REPORT_RECIPIENTS`` through ``GUARDIAN_SMTP_*``) and/or webhook
    (``GUARDIAN_REPORT_WEBHOOK_URL``) of scheduled reports; ``None`` when neither is set."""
    from guardian.adapters.http.webhooks import HttpWebhook
    from guardian.adapters.mail.smtp import SmtpConfig, SmtpMailer
    from guardian.adapters.render.pdf import html_to_pdf
    from guardian.adapters.sql.reports import SqlReportArchive
    from guardian.reports.delivery import DeliveryConfig
    from guardian.reports.periodic_render import periodic_html

    secret = settings.report_webhook_secret
    config = DeliveryConfig(
        sender=settings.smtp_from, recipients=settings.report_recipient_list,
        webhook_url=settings.report_webhook_url,
        webhook_secret=secret.get_secret_value().encode() if secret else b"",
        attempts=settings.report_delivery_attempts,
        backoff_s=settings.report_delivery_backoff_s)
    if not config.wanted:
        return None
    password = settings.smtp_password
    mailer = SmtpMailer(SmtpConfig(
        settings.smtp_host, settings.smtp_port, settings.smtp_username,
        password.get_secret_value() if password else None, settings.smtp_starttls,
    )) if settings.smtp_host else None
    return ReportDelivery(config, guardian.journal, SqlReportArchive(guardian.store.engine),
                          guardian.clock, mailer=mailer,
                          webhook=HttpWebhook() if settings.report_webhook_url else None,
                          render_pdf=lambda doc: html_to_pdf(periodic_html(doc)))


@dataclass
class Reviews:
    """Access reviews: the use cases and the in-memory view of what they revoked."""

    service: ReviewService
    closing: ReviewClosing
    revocations: RevocationView
    evidence: CampaignEvidence
    clock: ReviewClock | None = None
    """What time asks for (recurrence, reminders, deadlines, remediation retries)."""


def build_reviews(settings: Settings, guardian: Guardian, revocations: RevocationView
                  ) -> Reviews:
    """Wire the review services from ports (the store, directory, journal, audit index)."""
    from guardian.adapters.files.review_definitions import load_review_definitions

    pipeline = guardian.pipeline
    cached: dict[str, Mapping[str, ReviewDefinition]] = {}

    def definitions() -> Mapping[str, ReviewDefinition]:
        # Read on first use (the directory may be synced after start), then kept.
        if "all" not in cached:
            uids = frozenset(p.uid for p in guardian.directory.principals())
            cached["all"] = load_review_definitions(settings.policy_dir,
                                                    pipeline.policy.definition, uids)
        return cached["all"]

    deps = ReviewDeps(SqlReviews(guardian.store.engine), guardian.directory,
                      lambda: pipeline.policy.definition, definitions, guardian.journal,
                      guardian.clock, UsageEvidence(guardian.audit.index), revocations,
                      grants=guardian.store,
                      keys=guardian.views.keys if guardian.views is not None else None)
    notifier = build_review_notifier(settings)
    closing = ReviewClosing(
        deps, revoke_grant=guardian.grants.revoke,
        revoke_key=lambda key_id, actor: guardian.api_keys.revoke(key_id, actor),
        policy_csv=lambda: (settings.policy_dir / "policy.csv").read_text("utf-8"),
        writer=build_membership_writer(settings, pipeline.policy.definition.roles),
        notify=notifier.notify if notifier.wanted else None)
    service = ReviewService(deps)
    return Reviews(service, closing, revocations,
                   CampaignEvidence(guardian.journal, guardian.audit.signer, guardian.clock),
                   ReviewClock(deps, service, closing))


def build_review_notifier(settings: Settings) -> ReviewNotifier:
    """Review notices by mail (``GUARDIAN_REVIEW_MAIL_DOMAIN`` through ``GUARDIAN_SMTP_*``)
    and/or webhook (``GUARDIAN_REVIEW_WEBHOOK_URL``)."""
    from guardian.adapters.http.webhooks import HttpWebhook

    secret = settings.review_webhook_secret
    config = NoticeConfig(settings.smtp_from, settings.review_mail_domain,
                          settings.review_console_url, settings.review_webhook_url,
                          secret.get_secret_value().encode() if secret else b"")
    return ReviewNotifier(config, mailer=build_mailer(settings),
                          webhook=HttpWebhook() if settings.review_webhook_url else None)


def build_mailer(settings: Settings) -> Mailer | None:
    from guardian.adapters.mail.smtp import SmtpConfig, SmtpMailer

    if not settings.smtp_host:
        return None
    password = settings.smtp_password
    return SmtpMailer(SmtpConfig(
        settings.smtp_host, settings.smtp_port, settings.smtp_username,
        password.get_secret_value() if password else None, settings.smtp_starttls))


def build_membership_writer(settings: Settings, roles: frozenset[str]
                            ) -> MembershipWriter | None:
    """The LDAP write account's remover of revoked memberships, when configured."""
    if settings.ldap_write_bind_dn is None or settings.ldap_write_password is None:
        return None
    from guardian.adapters.ldap.membership import LdapMembershipWriter

    write = LdapConnections(LdapConfig(
        urls=settings.ldap_urls, bind_dn=settings.ldap_write_bind_dn,
        bind_password=settings.ldap_write_password.get_secret_value(),
        start_tls=settings.ldap_start_tls, ca_file=settings.ldap_ca_file,
        timeout_s=settings.ldap_timeout_s, pool_size=1, read_only=False))
    return LdapMembershipWriter(write, ldap_layout(settings, roles))


def seed_demo_history(guardian: Guardian, consents: list[tuple[str, str]]) -> int:
    """Journal the demo organisation's last 90 days (a fresh demo data folder only), each
    decision asked of the real policy as it stood then; returns the events journalled."""
    from dataclasses import replace

    from guardian.governance.demo_history import (
        AsOfDirectory,
        DemoHistory,
        PlannedGrants,
        plan_history,
    )
    from guardian.policy.model import Decision, DecisionRequest
    from guardian.policy.vocabulary import AuthMethod

    if getattr(guardian.journal, "last_seq", 0) > 0:
        return 0  # never on a journal that holds anything
    plan = plan_history(guardian.clock.now())
    directory = AsOfDirectory(guardian.directory, plan.disabled)
    then = DecisionPipeline(guardian.pipeline.policy, directory, PlannedGrants(plan.grants),
                            MemoryConsents(consents), guardian.signer, MemoryJournal(),
                            guardian.clock)
    signer, amr = guardian.signer, (AuthMethod.PASSWORD, AuthMethod.OTP)
    tokens: dict[tuple[str, float], str] = {}  # one per sign-in or step-up, as in real life

    def decide(request: DecisionRequest, at: float, mfa_age_s: float) -> Decision:
        directory.at = at
        key = (request.subject_id, round(at - mfa_age_s, 3))
        if key not in tokens:
            tokens[key] = signer.issue(key[0], amr, auth_time=key[1], now=key[1],
                                       ttl_s=12 * 3600)[0]
        return then.evaluate(replace(request, session_token=tokens[key]), at)

    return DemoHistory(guardian.journal, guardian.store,
                       SqlConsents(guardian.store.engine)).seed(plan, decide)


def build_change_feed(settings: Settings, store: SqlStore, *, mark: bool = True
                      ) -> ChangeFeed:
    """LISTEN/NOTIFY on PostgreSQL; on SQLite, the ``changes`` table every process polls.
    Marked now, before the views load, so nothing stored meanwhile is missed."""
    if store.engine.dialect.name == "postgresql":
        from guardian.adapters.sql.changes_notify import PostgresChangeFeed

        return PostgresChangeFeed(store.engine, settings.store_url)
    from guardian.adapters.sql.changes_table import SqliteChangeFeed

    feed = SqliteChangeFeed(store.engine, poll_s=settings.changes_poll_interval_s)
    if mark:
        feed.mark()
    return feed


def publish_change(settings: Settings, kind: ChangeKind, key: str) -> None:
    """Tell running servers that ``kind``/``key`` changed (for commands that change something
    without a whole :class:`Guardian`, such as ``guardian directory sync``)."""
    if settings.database_url is None and not (settings.data_dir / "guardian.db").is_file():
        return  # no store yet: no server has run on this data folder to be told
    store = SqlStore(make_engine(settings.store_url))
    try:
        build_change_feed(settings, store, mark=False).publish(kind, key)  # never raises
    finally:
        store.engine.dispose()


def follow_in_background(settings: Settings, views: DecisionViews, changes: ChangeFeed
                         ) -> list[Background]:
    """The feed's listener, the consent follower's tick and the views' safety-net refresh."""
    return [
        changes,
        Every("guardian-consent", settings.consent_refresh_interval_s, views.consent.refresh,
              at_start=False),
        Every("guardian-views", settings.views_refresh_interval_s, views.refresh,
              at_start=False),
    ]


def watch_metrics(guardian: Guardian, schedule: ReportScheduleStats | None = None) -> None:
    """Point the metrics at what they count (journal commits) and at the state they read
    when scraped; add the metrics' own listen address to the background work if configured."""
    metrics, journal, audit = guardian.metrics, guardian.journal, guardian.audit
    if isinstance(journal, FileJournal):
        journal.on_commit = metrics.journal_committed
    witness, synced, reports = audit.witness, guardian.directory_sync, guardian.reports
    metrics.watch(StateCollector(StateSources(
        shipping=audit.shipper.stats,
        versions=lambda: (__version__, guardian.pipeline.policy.definition.version),
        witness=witness.stats if witness is not None else None,
        directory=synced.status if synced is not None else None,
        reports=lambda: reports.produced,
        schedule=None if schedule is None
        else lambda: {"checks": schedule.checks, "failures": schedule.failures},
        journal=(lambda: ([a.code for a in journal.alarms],
                          journal.quarantine.lines if journal.quarantine else 0))
        if isinstance(journal, FileJournal) else None,
    )))
    address = guardian.settings.metrics_address
    if address is not None:
        guardian.background.append(MetricsServer(metrics.registry, *parse_address(address)))


class ReportScheduleStats(Protocol):
    """What the metrics read of the report schedule."""

    checks: int
    failures: int


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


def build_checkpoint_signer(settings: Settings) -> CheckpointSigner:
    """The one signer of checkpoints (and of anything else signed with the audit key): its own
    key outside demo mode, the key derived from the public demo secret in demo mode."""
    configured = settings.audit_signing_key
    return load_signer(configured.get_secret_value() if configured else None,
                       settings.secret_key.get_secret_value(), allow_derived=settings.demo)


def build_checkpointer(
    settings: Settings, signer: CheckpointSigner, clock: Clock,
    witness: WitnessSender | None = None,
) -> Checkpointer:
    checkpointer = Checkpointer(signer, clock.now,
                                every_events=settings.audit_checkpoint_every_events,
                                every_s=settings.audit_checkpoint_every_s)
    if witness is not None:
        checkpointer.witness = witness.offer
    return checkpointer


def build_witness(settings: Settings) -> WitnessSender | None:
    """The webhook witness of checkpoints, when configured (started by the caller)."""
    if not settings.audit_witness_url or settings.audit_witness_secret is None:
        return None
    transport = HttpWitness(settings.audit_witness_url,
                            settings.audit_witness_secret.get_secret_value(),
                            timeout_s=settings.audit_witness_timeout_s)
    return WitnessSender(transport, WitnessConfig(queue=settings.audit_witness_queue,
                                                  attempts=settings.audit_witness_attempts))


def open_journal(
    settings: Settings, signer: CheckpointSigner, clock: Clock,
    witness: WitnessSender | None = None,
) -> FileJournal:
    """The journal, sealing every group commit; it continues from the last event the index
    acknowledged (the shipper's state) if it ends before it (``chain_regressed``)."""
    shipped = load_state(state_path(settings.journal_file))
    return FileJournal(settings.journal_file, fsync=settings.journal_fsync,
                       checkpointer=build_checkpointer(settings, signer, clock, witness),
                       known=(shipped.seq, shipped.hash) if shipped.seq > 0 else None,
                       writer=writer_base(settings))


def writer_base(settings: Settings) -> str:
    """This server's writer id: ``GUARDIAN_WRITER_ID``, else the one kept in the data folder."""
    from guardian.adapters.files.writer_id import stable_writer_id

    return settings.writer_id or stable_writer_id(settings.data_dir)


def build_audit_index(settings: Settings) -> RetainedAuditIndex:
    """The SQLite or OpenSearch audit index; nothing connects until it is used."""
    from guardian.adapters.sqlite.audit_index import SqliteAuditIndex

    design = load_design(
        settings.audit_dir / "opensearch", prefix=settings.opensearch_index_prefix,
        retention_days=settings.audit_retention_days,
        rollover_days=settings.audit_rollover_days, replicas=settings.opensearch_replicas)
    if settings.audit_index == "sqlite":
        return SqliteAuditIndex(settings.audit_index_file, design.properties)
    from guardian.adapters.opensearch.index import OpenSearchAuditIndex, make_client

    password = settings.opensearch_password
    client = make_client(
        settings.opensearch_url_list, username=settings.opensearch_username,
        password=password.get_secret_value() if password else None,
        ca_file=str(settings.opensearch_ca_file) if settings.opensearch_ca_file else None,
        verify_certs=settings.opensearch_verify_certs,
        client_cert=str(settings.opensearch_client_cert)
        if settings.opensearch_client_cert else None,
        client_key=str(settings.opensearch_client_key) if settings.opensearch_client_key else None,
        timeout_s=settings.opensearch_timeout_s)
    return OpenSearchAuditIndex(client, design, ",".join(settings.opensearch_url_list))


def build_shipper(
    settings: Settings, journal: FileJournal, index: AuditIndex, clock: Clock
) -> Shipper:
    config = ShipperConfig(
        batch_size=settings.audit_ship_batch_size, interval_s=settings.audit_ship_interval_s,
        max_backoff_s=settings.audit_ship_max_backoff_s, trim_bytes=settings.audit_trim_bytes,
        fsync=settings.journal_fsync)
    return Shipper(journal, index, state_path(journal.path), config, clock.now)


def build_audit_trail(
    settings: Settings, journal: FileJournal, signer: CheckpointSigner, clock: Clock,
    witness: WitnessSender | None = None,
) -> AuditTrail:
    index = build_audit_index(settings)
    return AuditTrail(index, build_shipper(settings, journal, index, clock), signer, witness,
                      retention=index)


def build_retention(settings: Settings, audit: AuditTrail, journal: AuditJournal,
                    clock: Clock) -> RetentionJob | None:
    """The retention job over the audit index (it does nothing where ISM does the work)."""
    if audit.retention is None:
        return None
    return RetentionJob(audit.retention, journal, clock, RetentionPolicy(
        settings.audit_retention_days, settings.audit_rollover_days,
        int(settings.audit_rollover_max_gb * 1024 ** 3)))


def build_reports(
    audit: AuditTrail, journal: AuditJournal, store: SqlStore, directory: Directory,
    policy: Callable[[], CompiledPolicy], clock: Clock, *, grants: GrantRegistry | None = None,
    trust_file: Path | None = None,
) -> PeriodicReports:
    """Periodic reports over the audit index, archived in the store, signed with the audit key.
    The integrity section verifies the index against the auditors' pinned keys
    (``GUARDIAN_AUDIT_TRUST_FILE``, read now so a bad file stops the start), as ``guardian
    audit verify`` does, never against this server's own key: without a trust file it checks
    the chain and says the trail is not authenticated."""
    from guardian.adapters.files.keys import read_trust_files
    from guardian.adapters.sql.reports import SqlReportArchive
    from guardian.audit.checkpoints import CheckpointVerifier
    from guardian.journal.verification import verify_index

    verifier = CheckpointVerifier(read_trust_files([trust_file])) if trust_file else None

    def verify() -> Integrity:
        result = verify_index(audit.index, verifier, settle_s=0.0)
        return Integrity(result.ok, result.events, result.checkpoints,
                         None if result.problem is None else str(result.problem), result.detail,
                         authenticated=verifier is not None)

    registry = grants if grants is not None else store
    archive = SqlReportArchive(store.engine)
    return PeriodicReports(
        audit.index, archive, journal, audit.signer, clock,
        lambda: context_of(policy().definition, directory.principals(),
                           registry.list_grants(), verify), deliveries=archive)


@dataclass
class Shipping:
    """The journal (opened exclusively), the index and the shipper: ``guardian audit ship``."""

    journal: FileJournal
    trail: AuditTrail

    def close(self) -> None:
        self.trail.shipper.stop()
        self.journal.close()
        self.trail.close_witness()
        self.trail.index.close()


def build_shipping(settings: Settings, *, clock: Clock | None = None) -> Shipping:
    clock = clock or SystemClock()
    signer = build_checkpoint_signer(settings)
    witness = build_witness(settings)
    if witness is not None:
        witness.start()
    journal = open_journal(settings, signer, clock, witness)
    if witness is not None:
        witness.durable_seq = lambda: journal.last_seq
    return Shipping(journal, build_audit_trail(settings, journal, signer, clock, witness))


@dataclass
class Mfa:
    """Second factors: seeds and keys in the store, enrolment, the WebAuthn relying party."""

    store: SqlMfaStore
    secrets: MfaSecrets
    """Store-enrolled seeds first, then the directory's (the demo organisation's)."""
    webauthn: WebAuthnRelyingParty
    enrolment: MfaEnrolment
    recovery_key: bytes
    invitations: InvitationService
    qr_svg: Callable[[str], str] = svg_data_uri
    """Draws a provisioning URI as an SVG data URI (segno)."""


def build_mfa(
    settings: Settings, store: SqlStore, directory_secrets: MfaSecrets,
    attempts: SignInAttempts, directory: Directory, journal: AuditJournal, clock: Clock,
) -> Mfa:
    secret = settings.secret_key.get_secret_value()
    mfa_store = SqlMfaStore(store.engine, seed_sealer(settings))
    secrets = LayeredMfaSecrets(mfa_store, directory_secrets)
    webauthn = WebAuthnRelyingParty(
        mfa_store, rp_id=settings.webauthn_rp_id, rp_name=settings.webauthn_rp_name,
        origin=settings.webauthn_origin)
    recovery_key = derive_key(secret, KeyPurpose.RECOVERY_CODES)
    enrolment = MfaEnrolment(
        mfa_store, secrets, store, clock, recovery_key=recovery_key,
        issuer=settings.totp_issuer, fresh_mfa_s=settings.admin_mfa_max_age_s,
        webauthn=webauthn, attempts=attempts, journal=journal, directory=directory)
    invitations = InvitationService(
        mfa_store, directory, enrolment.has_second_factor, journal, clock,
        key=derive_key(secret, KeyPurpose.MFA_INVITATIONS), ttl_s=settings.mfa_invitation_ttl_s)
    return Mfa(mfa_store, secrets, webauthn, enrolment, recovery_key, invitations)


@dataclass
class People:
    """The directory and the credentials behind sign-in, as the settings choose them."""

    directory: Directory
    passwords: PasswordVerifier
    secrets: MfaSecrets
    synced: SyncedDirectory | None = None
    source: LdapDirectory | None = None
    watcher: DirectoryFileWatcher | None = None
    """Reloads the directory file when it changes (file directory only)."""


def build_directory(settings: Settings, policy: CompiledPolicy, clock: Clock) -> People:
    """The YAML directory, or (``GUARDIAN_DIRECTORY=ldap``) LDAP served from a snapshot that is
    loaded from the data folder now and synced later; nothing here connects."""
    secret = settings.secret_key.get_secret_value()
    sealer = seed_sealer(settings)
    if settings.directory != "ldap":
        file_directory = FileDirectory(settings.directory_file, sealer)
        watcher = DirectoryFileWatcher(file_directory, settings.directory_reload_interval_s)
        return People(file_directory, file_directory, file_directory, watcher=watcher)
    source = build_ldap_source(settings, policy.definition.roles)
    store = FileSnapshotStore(settings.directory_snapshot_file,
                              derive_key(secret, KeyPurpose.DIRECTORY_SNAPSHOT))
    synced = SyncedDirectory(source, clock, store, max_age_s=settings.directory_max_age_s)
    # TOTP seeds come from the store (``guardian mfa enroll``; build_mfa layers it on top);
    # beneath it, the demo organisation's sealed seeds in demo mode only, so that a real
    # directory's "alice" never inherits the demo's public seed.
    seeds: MfaSecrets = (FileDirectory(settings.directory_file, sealer)
                         if settings.demo and settings.directory_file.is_file() else NoSeeds())
    return People(synced, source, seeds, synced, source)


class NoSeeds:
    """``MfaSecrets`` holding no seed: beneath the store, people have what they enrolled."""

    def totp_secret(self, uid: str) -> str | None:
        return None


def build_synced_directory(settings: Settings, *, clock: Clock | None = None) -> SyncedDirectory:
    """The LDAP directory with its persisted snapshot, for ``guardian directory sync``."""
    if settings.directory != "ldap":
        raise ConfigurationError(
            "the directory is the YAML file (GUARDIAN_DIRECTORY=file): there is nothing to sync; "
            "set GUARDIAN_DIRECTORY=ldap and the GUARDIAN_LDAP_* settings")
    policy = CompiledPolicy.of(load_policy(settings.policy_dir))
    synced = build_directory(settings, policy, clock or SystemClock()).synced
    assert synced is not None
    return synced


def build_ldap_source(settings: Settings, roles: frozenset[str]) -> LdapDirectory:
    assert settings.ldap_base_dn is not None and settings.ldap_bind_dn is not None
    assert settings.ldap_bind_password is not None
    connections = LdapConnections(LdapConfig(
        urls=settings.ldap_urls, bind_dn=settings.ldap_bind_dn,
        bind_password=settings.ldap_bind_password.get_secret_value(),
        start_tls=settings.ldap_start_tls, ca_file=settings.ldap_ca_file,
        timeout_s=settings.ldap_timeout_s, pool_size=settings.ldap_pool_size,
    ))
    return LdapDirectory(connections, ldap_layout(settings, roles))


def ldap_layout(settings: Settings, roles: frozenset[str]) -> LdapLayout:
    base = settings.ldap_base_dn
    return LdapLayout(
        users_dn=settings.ldap_users_dn or f"ou=people,{base}",
        groups_dn=settings.ldap_groups_dn or f"ou=groups,{base}",
        roles=roles, group_roles=settings.ldap_group_roles,
        attributes=LdapAttributes.of(settings.ldap_attributes),
        paged_size=settings.ldap_paged_size,
    )


def read_consents(settings: Settings) -> list[tuple[str, str]]:
    """(customer, purpose) pairs from the customers file: ``customers: [{id, consents: [...]}]``."""
    if settings.customers_file is None:
        return []
    raw = load_plain(settings.customers_file) or {}
    return [
        (str(c["id"]), str(purpose))
        for c in raw.get("customers", [])
        for purpose in c.get("consents", [])
    ]


def seed_consents(store: SqlConsents, records: list[tuple[str, str]], at: float) -> None:
    """The customers file's consents into an empty store (the demo organisation's starting
    state, like its demo history: configuration, not a change the consent system made, so not
    journalled); every later change goes through :class:`ConsentService`."""
    for customer_id, purpose in records:
        store.record_change(ConsentChange(customer_id, purpose, True, at, "customers file",
                                          "guardian", None, at))


def policy_in_force(settings: Settings, versions: PolicyVersions, compiler: PolicyCompiler
                    ) -> tuple[CompiledPolicy, PolicyVersion]:
    """The latest stored version (applied with ``guardian policy apply``), else the files."""
    stored = versions.latest_policy()
    if stored is not None:
        return compiler(stored.files, {}), stored
    policy = CompiledPolicy.of(load_policy(settings.policy_dir))
    files = read_policy_files(settings.policy_dir)
    return policy, PolicyVersion(policy.definition.version, files, 0.0, "files")


def run_policy_tests(settings: Settings, directory: Directory, clock: Clock,
                     policy: CompiledPolicy, paths: list[Path]) -> list[str]:
    """Run policy test cases against ``policy`` with nothing durable behind it; the failures."""
    from guardian.adapters.files.policy_tests import load_cases
    from guardian.policy.testing import run_case

    cases, findings = load_cases(paths)
    signer = session_signer(settings)
    pipeline = DecisionPipeline(policy, directory, MemoryGrants(),
                                MemoryConsents(read_consents(settings)), signer, MemoryJournal(),
                                clock)
    failures = [str(f) for f in findings]
    now = clock.now()
    for case in cases:
        result = run_case(case, pipeline, signer, now)
        if not result.passed:
            failures.append(f"{case.source.path}:{case.source.line}: {case.name}: "
                            + "; ".join(result.failures))
    return failures


@dataclass
class WhatIf:
    """A pipeline with the real policy and directory but nothing durable behind it: for policy
    tests and ``guardian check``, which ask what would be decided without recording anything."""

    pipeline: DecisionPipeline
    signer: TokenSigner
    clock: Clock
    directory: Directory


def build_what_if(settings: Settings, *, clock: Clock | None = None) -> WhatIf:
    clock = clock or SystemClock()
    signer = session_signer(settings)
    policy = CompiledPolicy.of(load_policy(settings.policy_dir))
    # LDAP: the persisted snapshot, as the server would decide on it; no network here.
    directory = build_directory(settings, policy, clock).directory
    pipeline = DecisionPipeline(
        policy, directory, MemoryGrants(),
        MemoryConsents(read_consents(settings)), signer, MemoryJournal(), clock,
    )
    return WhatIf(pipeline, signer, clock, directory)


# -- the adapters the command line uses, reached through here: the CLI imports no adapter
# itself (an import-linter contract holds it). Each imports its adapter only when called, so
# a command pays for none it does not use (WeasyPrint, Alembic).


def parse_duration(value: str) -> int | None:
    """``"15m"`` → 900 s, as the policy files write durations (``ValueError`` otherwise)."""
    from guardian.adapters.files.policy import parse_duration as parse

    return parse(value)


def read_policy(root: Path) -> tuple[PolicyDefinition | None, list[LintFinding]]:
    """The policy folder read and linted: the definition (``None`` if unreadable), findings."""
    from guardian.adapters.files.policy import read_policy as read

    return read(root)


def read_test_files(root: Path) -> dict[str, str]:
    """The policy folder's test files, run against a candidate before it is applied."""
    from guardian.adapters.files.policy_candidates import read_test_files as read

    return read(root)


def read_review_definitions(
    root: Path, policy: PolicyDefinition | None = None, people: Collection[str] | None = None,
) -> tuple[dict[str, ReviewDefinition], list[LintFinding]]:
    """The access review definitions of ``root/reviews/*.yaml``, checked against the policy and
    the directory's people when given: those that parse, and every finding."""
    from guardian.adapters.files.review_definitions import read_review_definitions as read

    return read(root, policy, people)


def directory_file_uids(settings: Settings) -> frozenset[str] | None:
    """The uids of the directory file (``None`` for LDAP, or no file): what the policy lint
    checks review definitions' named reviewers against without reaching the network."""
    from guardian.adapters.files.yaml_lines import load_plain

    if settings.directory != "file" or not settings.directory_file.is_file():
        return None
    raw = load_plain(settings.directory_file)
    users = raw.get("users") if isinstance(raw, dict) else None
    return frozenset(str(u["uid"]) for u in users or [] if isinstance(u, dict) and "uid" in u)


def read_policy_cases(root: Path) -> tuple[list[Path], list[PolicyCase], list[LintFinding]]:
    """The policy test files under ``root`` (or that file), their cases, their findings."""
    from guardian.adapters.files.policy_tests import load_cases, policy_test_files

    files = policy_test_files(root)
    cases, findings = load_cases(files)
    return files, cases, findings


def read_trust_files(paths: list[Path]) -> list[Ed25519PublicKey]:
    """The auditors' pinned public keys, from their trust files."""
    from guardian.adapters.files.keys import read_trust_files as read

    return read(paths)


def new_audit_key(settings: Settings, path: Path | None) -> tuple[str | None, CheckpointSigner]:
    """A new audit signing key: written to ``path`` (mode 0600, never overwriting), or, with
    no path, sealed with the secret key (the sealed value is returned to print)."""
    from guardian.adapters.files.keys import new_sealed_key, write_new_key

    if path is not None:
        return None, write_new_key(path)
    return new_sealed_key(settings.secret_key.get_secret_value())


def terminal_qr(text: str) -> str:
    """``text`` as a QR code drawn with half-block characters, for a terminal."""
    from guardian.adapters.render.qr import terminal_text

    return terminal_text(text)


def html_to_pdf(html: str) -> bytes:
    """The page printed to PDF (WeasyPrint)."""
    from guardian.adapters.render.pdf import html_to_pdf as to_pdf

    return to_pdf(html)


def migrate(settings: Settings, revision: str | None = "head") -> tuple[str | None, str | None]:
    """The store's revision before and after migrating to ``revision`` (``None``: only read
    it); with the latest revision this Guardian knows as ``after`` when only reading."""
    from guardian.adapters.sql import alembic_runner as sql_migrations

    engine = make_engine(settings.store_url)
    try:
        before = sql_migrations.current(engine)
        after = sql_migrations.upgrade(engine, revision) if revision is not None \
            else sql_migrations.head()
    finally:
        engine.dispose()
    return before, after


# -- the command line as a client of a running server (``guardian login``; administrative
# commands go through the server's API while it holds the journal).


@dataclass
class Client:
    """The server the command line talks to (``None``: none runs, act locally), the session
    ``guardian login`` keeps, and the clock that says whether it expired."""

    server: GuardianServer | None
    sessions: CliSessions
    clock: Clock


def build_client(settings: Settings, *, clock: Clock | None = None) -> Client:
    """``GUARDIAN_URL``, else the server running on this data folder (its ``serve.json``)."""
    from guardian.adapters.files.cli_state import FileCliSessions, read_serve_state
    from guardian.adapters.http.server_client import HttpGuardianServer

    url = settings.url or read_serve_state(settings.serve_state_file)
    server = HttpGuardianServer(url, timeout_s=settings.cli_timeout_s) if url else None
    return Client(server, FileCliSessions(settings.cli_session_file), clock or SystemClock())


@contextmanager
def serving_state(settings: Settings) -> Iterator[None]:
    """``serve.json`` in the data folder while this process serves: how the command line on
    this host finds the server (removed when it stops)."""
    from guardian.adapters.files.cli_state import remove_serve_state, write_serve_state

    host = {"0.0.0.0": "127.0.0.1", "::": "::1"}.get(settings.host, settings.host)  # noqa: S104
    host = f"[{host}]" if ":" in host else host
    write_serve_state(settings.serve_state_file, f"http://{host}:{settings.port}")
    try:
        yield
    finally:
        remove_serve_state(settings.serve_state_file)


@dataclass
class ImpactSources:
    """What ``guardian policy impact`` replays against: the trail, the policy in force, the
    directory (its persisted snapshot for LDAP); neither the journal nor a server is needed."""

    index: AuditIndex
    baseline: CompiledPolicy
    directory: Directory
    store: SqlStore

    def close(self) -> None:
        self.index.close()
        self.store.engine.dispose()


def build_impact(settings: Settings, *, clock: Clock | None = None) -> ImpactSources:
    clock = clock or SystemClock()
    store = SqlStore(make_engine(settings.store_url))
    store.create_schema()
    baseline, _ = policy_in_force(settings, SqlPolicyVersions(store.engine),
                                  FilePolicyCompiler(lambda _policy, _paths: []))
    directory = build_directory(settings, baseline, clock).directory
    return ImpactSources(build_audit_index(settings), baseline, directory, store)
