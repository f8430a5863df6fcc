"""Ports become services: :func:`wire` builds every use case from an :class:`Adapters` record.

Nothing here knows which technology backs a port: the settings it reads are the services' own
parameters (lifetimes, limits, schedules), never an address or a file of an adapter. The
periodic reports, reviews, schedules and metrics are wired in ``services_extra``.
"""

from __future__ import annotations

from collections.abc import Callable

from guardian.audit.trail_reads import TrailReads
from guardian.bootstrap.adapters import Adapters
from guardian.bootstrap.audit_parts import build_shipper
from guardian.bootstrap.directory_parts import People
from guardian.bootstrap.record import AuditTrail, Background, Guardian, Mfa
from guardian.bootstrap.services_extra import (
    add_schedules,
    build_reports,
    build_retention,
    build_reviews,
    watch_metrics,
)
from guardian.bootstrap.what_if import (
    policy_checker,
    policy_in_force,
    run_policy_tests,
    session_signer,
)
from guardian.config import Settings
from guardian.config_groups import IdentitySettings
from guardian.governance.api_keys import ApiKeyService
from guardian.governance.consent import ConsentService
from guardian.governance.consent_view import ConsentFollower, ConsentView
from guardian.governance.followers import DecisionViews
from guardian.governance.grants import GrantService
from guardian.governance.review_revocations import RevocationView
from guardian.identity.attempts import SignInAttempts
from guardian.identity.enrolment import MfaEnrolment
from guardian.identity.factors import LayeredMfaSecrets
from guardian.identity.invitations import InvitationService
from guardian.identity.lockout import LockoutPolicy, SignInLimits
from guardian.identity.sealing import KeyPurpose, derive_key
from guardian.identity.sessions import SessionService
from guardian.identity.sign_in import SignInService
from guardian.policy.apply import PolicyService
from guardian.policy.pipeline import DecisionPipeline
from guardian.ports import ChangeFeed, Directory, MfaSecrets
from guardian.reports.customer_reports import CustomerReports


def sign_in_limits(identity: IdentitySettings | Settings) -> SignInLimits:
    if isinstance(identity, Settings):
        identity = identity.identity
    user_source = LockoutPolicy(identity.lockout_max_failures, identity.lockout_base_s,
                                identity.lockout_max_s)
    return SignInLimits(
        per_user_source=user_source,
        per_source=LockoutPolicy(identity.lockout_source_max_failures, identity.lockout_base_s,
                                 identity.lockout_max_s),
        user_delay_max_s=identity.lockout_user_delay_max_s)


def wire(adapters: Adapters, settings: Settings) -> Guardian:
    """Every service from the ports of ``adapters``; nothing is migrated or seeded here."""
    clock, journal, store = adapters.clock, adapters.journal, adapters.store
    signer = session_signer(settings)
    holder: list[Directory] = []
    compiler = adapters.compiler(lambda candidate, paths: run_policy_tests(
        adapters, signer, holder[0], candidate, paths))
    policy, in_force = policy_in_force(adapters.policy_versions, compiler, adapters.policy_files)
    people = adapters.people(policy)
    directory = people.directory
    holder.append(directory)
    secret = settings.secret_key.get_secret_value()
    identity, governance = settings.identity, settings.governance
    attempts = SignInAttempts(store, directory, sign_in_limits(identity),
                              derive_key(secret, KeyPurpose.UNKNOWN_USERS))
    mfa = wire_mfa(adapters, identity, secret, people.secrets, attempts, directory)
    sessions = SessionService(
        directory, people.passwords, mfa.secrets, store, signer, clock,
        ttl_s=identity.session_ttl_s, recovery=mfa.store,
        recovery_key=mfa.recovery_key, webauthn=mfa.webauthn,
        enrolment_ttl_s=identity.admin_mfa_max_age_s, invitations=mfa.invitations,
        digest_key=derive_key(secret, KeyPurpose.WEBAUTHN_DECOYS), attempts=attempts,
    )
    follower = ConsentFollower(adapters.consents, ConsentView())
    changes = adapters.changes
    views = DecisionViews(store, adapters.api_keys, follower,
                          directory=people.synced.reload_snapshot
                          if people.synced is not None else None)
    views.load()
    views.follow(changes)
    revocations = RevocationView(adapters.reviews)
    revocations.follow(changes)
    pipeline = DecisionPipeline(policy, directory, views.grant_view, follower.view, signer,
                                journal, clock, freshness=people.synced,
                                max_directory_age_s=settings.people.max_age_s,
                                revoked=revocations)
    consent = ConsentService(adapters.consents, follower.view, journal, clock,
                             lambda: pipeline.policy.definition,
                             customer_id_pattern=governance.customer_id_pattern,
                             changes=changes)
    policies = PolicyService(versions=adapters.policy_versions, compiler=compiler,
                             journal=journal, clock=clock,
                             swap=lambda compiled: setattr(pipeline, "policy", compiled),
                             in_force=in_force, changes=changes)
    policies.follow(changes)
    shipper = build_shipper(settings.audit, journal, adapters.index, clock)
    audit = AuditTrail(adapters.index, shipper, adapters.checkpoint_signer, adapters.witness,
                       retention=adapters.index)
    guardian = Guardian(
        settings=settings, clock=clock, policy=policy, directory=directory, store=store,
        journal=journal, applications=views.key_view, sessions=sessions, pipeline=pipeline,
        signer=signer, mfa=mfa,
        api_keys=ApiKeyService(views.keys, journal, clock, view=views.key_view,
                               changes=changes),
        grants=GrantService(store, directory, lambda: pipeline.policy.definition,
                            journal, clock, max_duration_s=governance.grant_max_s,
                            view=views.grant_view, changes=changes),
        audit=audit,
        reports=build_reports(adapters, audit, store, directory, lambda: pipeline.policy),
        retention=build_retention(settings.audit, audit, journal, clock),
        consent=consent, sign_in=SignInService(sessions, journal, clock),
        trail=TrailReads(audit.index, journal, clock),
        customer_reports=CustomerReports(audit.index, consent.consents_of, journal, clock),
        directory_sync=people.synced, views=views, changes=changes, policies=policies,
        release=adapters.release,
    )
    add_background(guardian, adapters, people, revocations,
                   policy_checker(compiler, settings.policy_dir))
    return guardian


def add_background(guardian: Guardian, adapters: Adapters, people: People,
                   revocations: RevocationView,
                   check_policy: Callable[[str], list[str]] | None = None) -> None:
    """What runs beside the API: syncs, followers, the shipper, schedules, metrics."""
    from guardian.adapters.threads.background import Every
    from guardian.adapters.threads.periodic_sync import PeriodicSync

    settings, views, changes = guardian.settings, guardian.views, adapters.changes
    assert views is not None
    if people.synced is not None:
        guardian.background.append(PeriodicSync(people.synced, settings.people.sync_interval_s,
                                                changes=changes))
    if people.watcher is not None:
        guardian.background.append(people.watcher)
    guardian.background.extend(follow_in_background(settings, views, changes))
    guardian.reviews = build_reviews(settings, guardian, adapters, revocations,
                                    check_policy)
    guardian.background.append(Every("review-revocations",
                                     settings.reviews.refresh_interval_s,
                                     revocations.refresh, at_start=False))
    if adapters.witness is not None:
        adapters.witness.start()  # at once: the journal may sign its last run's tail on opening
    if settings.audit.ship:
        guardian.background.append(guardian.audit.shipper)
    watch_metrics(guardian, add_schedules(guardian, adapters))
    if settings.reviews.schedule and guardian.reviews.clock is not None:
        from guardian.adapters.threads.review_schedule import ReviewSchedule

        guardian.background.append(ReviewSchedule(guardian.reviews.clock, guardian.clock,
                                                  check_s=settings.reviews.check_s,
                                                  leader=guardian.leader))


def follow_in_background(settings: Settings, views: DecisionViews, changes: ChangeFeed
                         ) -> list[Background]:
    """The feed's listener, the consent follower's tick and the views' safety-net refresh."""
    from guardian.adapters.threads.background import Every

    return [
        changes,
        Every("guardian-consent", settings.views.consent_refresh_interval_s,
              views.consent.refresh, at_start=False),
        Every("guardian-views", settings.views.views_refresh_interval_s, views.refresh,
              at_start=False),
    ]


def wire_mfa(adapters: Adapters, identity: IdentitySettings, secret: str,
             directory_secrets: MfaSecrets, attempts: SignInAttempts, directory: Directory,
             ) -> Mfa:
    factors, journal, clock = adapters.factors, adapters.journal, adapters.clock
    secrets = LayeredMfaSecrets(factors, directory_secrets)
    recovery_key = derive_key(secret, KeyPurpose.RECOVERY_CODES)
    enrolment = MfaEnrolment(
        factors, secrets, adapters.store, clock, recovery_key=recovery_key,
        issuer=identity.totp_issuer, fresh_mfa_s=identity.admin_mfa_max_age_s,
        webauthn=adapters.webauthn, attempts=attempts, journal=journal, directory=directory)
    invitations = InvitationService(
        factors, directory, enrolment.has_second_factor, journal, clock,
        key=derive_key(secret, KeyPurpose.MFA_INVITATIONS), ttl_s=identity.mfa_invitation_ttl_s)
    return Mfa(factors, secrets, adapters.webauthn, enrolment, recovery_key, invitations,
               qr_svg=adapters.qr_svg)

