"""The services beside the decision path, wired from ports: periodic reports and their
delivery, retention, access reviews and their notices, the schedules, and the metrics.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Protocol

from guardian import __version__
from guardian.audit.checkpoints import CheckpointVerifier
from guardian.audit.retention import RetentionJob, RetentionPolicy
from guardian.bootstrap.record import AuditTrail, Guardian, Reviews
from guardian.config import Settings
from guardian.config_groups import AuditSettings
from guardian.governance.demo_campaign import demo_review_service
from guardian.governance.review_clock import ReviewClock
from guardian.governance.review_closing import ReviewClosing
from guardian.governance.review_notices import NoticeConfig, ReviewNotifier
from guardian.governance.review_reminders import ReviewReminders
from guardian.governance.review_revocations import RevocationView
from guardian.governance.review_usage import UsageEvidence
from guardian.governance.reviews import ReviewDeps, ReviewService
from guardian.journal.writer import FileJournal
from guardian.policy.pipeline import CompiledPolicy
from guardian.ports import AuditJournal, Clock, Directory, GrantRegistry
from guardian.reports.delivery import DeliveryConfig, ReportDelivery
from guardian.reports.periodic import Integrity
from guardian.reports.periodic_service import PeriodicReports, context_of
from guardian.reports.review_evidence import CampaignEvidence

if TYPE_CHECKING:
    from guardian.bootstrap.adapters import Adapters
    from guardian.governance.review_definitions import ReviewDefinition


class ReportScheduleStats(Protocol):
    """What the metrics read of the report schedule."""

    checks: int
    failures: int


def build_retention(audit_settings: AuditSettings, audit: AuditTrail, journal: AuditJournal,
                    clock: Clock) -> RetentionJob | None:
    """The retention job over the audit index (it does nothing where ISM does the work)."""
    if audit.retention is None:
        return None
    return RetentionJob(audit.retention, journal, clock, RetentionPolicy(
        audit_settings.retention_days, audit_settings.rollover_days,
        audit_settings.rollover_max_bytes))


def build_reports(adapters: Adapters, audit: AuditTrail, grants: GrantRegistry,
                  directory: Directory, policy: Callable[[], CompiledPolicy]) -> PeriodicReports:
    """Periodic reports over the audit index, archived in the store, signed with the audit key.
    The integrity section verifies the index against the auditors' pinned keys
    (``GUARDIAN_AUDIT_TRUST_FILE``, read when the adapters were built so a bad file stops the
    start), as ``guardian audit verify`` does, never against this server's own key: without a
    trust file it checks the chain and says the trail is not authenticated."""
    from guardian.journal.verification import verify_index

    keys = adapters.trusted_keys
    verifier = CheckpointVerifier(keys) if keys is not None else None

    def verify() -> Integrity:
        result = verify_index(audit.index, verifier, settle_s=0.0)
        return Integrity(result.ok, result.events, result.checkpoints,
                         None if result.problem is None else str(result.problem), result.detail,
                         authenticated=verifier is not None)

    archive = adapters.report_archive
    return PeriodicReports(
        audit.index, archive, adapters.journal, audit.signer, adapters.clock,
        lambda: context_of(policy().definition, directory.principals(),
                           grants.list_grants(), verify), deliveries=archive)


def add_schedules(guardian: Guardian, adapters: Adapters) -> ReportScheduleStats | None:
    """The report and retention schedules, as configured, run by the leader only."""
    settings, leader = guardian.settings, adapters.leader
    guardian.leader = leader
    schedule = None
    if settings.reports.schedule == "monthly":
        from guardian.adapters.threads.report_schedule import ReportSchedule

        schedule = ReportSchedule(guardian.reports, leader=leader,
                                  delivery=build_delivery(settings, guardian, adapters))
        guardian.background.append(schedule)
    if settings.audit.retention_schedule == "daily" and guardian.retention is not None:
        from guardian.adapters.threads.retention_schedule import RetentionSchedule

        guardian.background.append(RetentionSchedule(guardian.retention, leader=leader))
    return schedule


def build_delivery(settings: Settings, guardian: Guardian, adapters: Adapters
                   ) -> ReportDelivery | None:
    """Mail (``GUARDIAN_REPORT_RECIPIENTS`` through ``GUARDIAN_SMTP_*``) and/or webhook
    (``GUARDIAN_REPORT_WEBHOOK_URL``) of scheduled reports; ``None`` when neither is set."""
    from guardian.reports.periodic_render import periodic_html

    reports = settings.reports
    config = DeliveryConfig(
        sender=settings.smtp.sender, recipients=reports.recipients,
        webhook_url=reports.webhook_url,
        webhook_secret=(reports.webhook_secret or "").encode(),
        attempts=reports.delivery_attempts, backoff_s=reports.delivery_backoff_s)
    if not config.wanted:
        return None
    render = adapters.render_pdf
    return ReportDelivery(config, guardian.journal, adapters.report_archive, guardian.clock,
                          mailer=adapters.mailer,
                          webhook=adapters.webhook() if reports.webhook_url else None,
                          render_pdf=lambda doc: render(periodic_html(doc)))


def build_reviews(settings: Settings, guardian: Guardian, adapters: Adapters,
                  revocations: RevocationView,
                  check_policy: Callable[[str], list[str]] | None = None) -> Reviews:
    """Wire the review services from ports (the store, directory, journal, audit index)."""
    pipeline = guardian.pipeline
    cached: dict[str, Mapping[str, ReviewDefinition]] = {}

    def definitions() -> Mapping[str, ReviewDefinition]:
        # Read on first use (the directory may be synced after start), then kept.
        if "all" not in cached:
            uids = frozenset(p.uid for p in guardian.directory.principals())
            cached["all"] = adapters.review_definitions(pipeline.policy.definition, uids)
        return cached["all"]

    deps = ReviewDeps(adapters.reviews, guardian.directory,
                      lambda: pipeline.policy.definition, definitions, guardian.journal,
                      guardian.clock, UsageEvidence(guardian.audit.index), revocations,
                      grants=guardian.store,
                      keys=guardian.views.keys if guardian.views is not None else None,
                      changes=guardian.changes)
    notifier = build_review_notifier(settings, adapters)
    closing = ReviewClosing(
        deps, revoke_grant=guardian.grants.revoke,
        revoke_key=lambda key_id, actor: guardian.api_keys.revoke(key_id, actor),
        policy_csv=adapters.policy_csv,
        writer=adapters.membership_writer(pipeline.policy.definition.roles),
        notify=notifier.notify if notifier.wanted else None,
        check_policy=check_policy)
    service = ReviewService(deps)
    return Reviews(service, closing, revocations,
                   CampaignEvidence(guardian.journal, guardian.audit.signer, guardian.clock),
                   ReviewClock(deps, service, closing),
                   reminders=ReviewReminders(
                       deps, notifier.notify if notifier.wanted else None),
                   demo=demo_review_service(deps) if settings.demo else None)


def build_review_notifier(settings: Settings, adapters: Adapters) -> ReviewNotifier:
    """Review notices by mail (``GUARDIAN_REVIEW_MAIL_DOMAIN`` through ``GUARDIAN_SMTP_*``)
    and/or webhook (``GUARDIAN_REVIEW_WEBHOOK_URL``)."""
    reviews = settings.reviews
    config = NoticeConfig(settings.smtp.sender, reviews.mail_domain, reviews.console_url,
                          reviews.webhook_url, (reviews.webhook_secret or "").encode())
    return ReviewNotifier(config, mailer=adapters.mailer,
                          webhook=adapters.webhook() if reviews.webhook_url else None)


def watch_metrics(guardian: Guardian, schedule: ReportScheduleStats | None = None) -> None:
    """Point the metrics at what they count (journal commits) and at the state they read
    when scraped; add the metrics' own listen address to the background work if configured."""
    from guardian.adapters.prometheus.metrics import MetricsServer, parse_address
    from guardian.adapters.prometheus.state import StateCollector, StateSources

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
