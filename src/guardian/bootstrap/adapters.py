"""Settings become adapters: the one place that knows which technology backs each port.

:func:`build_adapters` reads the settings groups and returns a frozen :class:`Adapters`
record whose every field is a port (``guardian.ports``) or a plain callable; the services are
wired from that record alone (:func:`guardian.bootstrap.services.wire`), so a test may hand in
in-memory adapters instead (``guardian.bootstrap.embedded``). Nothing connects here, and the
store is not migrated (that is the explicit step :func:`guardian.bootstrap.steps.upgrade`).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from guardian.adapters.files.applications import FileApplications
from guardian.adapters.files.customers import read_customer_consents
from guardian.adapters.files.policy import load_policy
from guardian.adapters.files.policy_candidates import FilePolicyCompiler, read_policy_files
from guardian.adapters.render.qr import svg_data_uri
from guardian.adapters.sql.api_keys import SqlApiKeys
from guardian.adapters.sql.consents import SqlConsents
from guardian.adapters.sql.mfa import SqlMfaStore
from guardian.adapters.sql.policy_versions import SqlPolicyVersions
from guardian.adapters.sql.reviews import SqlReviews
from guardian.adapters.sql.store import SqlStore, make_engine
from guardian.adapters.webauthn.relying_party import WebAuthnRelyingParty
from guardian.audit.checkpoints import CheckpointSigner
from guardian.bootstrap.audit_parts import (
    audit_index_of,
    build_checkpoint_signer,
    build_witness,
    open_journal,
    writer_base,
)
from guardian.bootstrap.directory_parts import (
    People,
    build_directory,
    build_membership_writer,
    seed_sealer,
)
from guardian.changes import ChangeKind
from guardian.config import Settings
from guardian.config_groups import StoreSettings
from guardian.journal.witness import WitnessSender
from guardian.policy.apply import PolicyCompiler
from guardian.policy.pipeline import CompiledPolicy
from guardian.ports import (
    ApiKeyRegistry,
    ChangeFeed,
    Clock,
    ConsentStore,
    CoreStore,
    FactorStore,
    LeaderLock,
    Mailer,
    MembershipWriter,
    PolicyVersions,
    ReportStore,
    RetainedAuditIndex,
    ReviewStore,
    ServerJournal,
    WebAuthnCeremonies,
    WebhookSender,
)

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
    from sqlalchemy import Engine

    from guardian.errors import LintFinding
    from guardian.governance.review_definitions import ReviewDefinition
    from guardian.policy.definition import PolicyDefinition
    from guardian.policy.testing import PolicyCase

TestRunner = Callable[[CompiledPolicy, list[Path]], list[str]]
"""Runs a candidate policy's test files, returning the failures (see ``what_if``)."""


@dataclass(frozen=True)
class Adapters:
    """Every port the services are wired from, as the settings (or a test) chose them."""

    clock: Clock
    people: Callable[[CompiledPolicy], People]
    """The directory and the credentials behind sign-in, for the policy's roles."""
    store: CoreStore
    consents: ConsentStore
    api_keys: ApiKeyRegistry
    factors: FactorStore
    webauthn: WebAuthnCeremonies
    policy_versions: PolicyVersions
    reviews: ReviewStore
    report_archive: ReportStore
    changes: ChangeFeed
    leader: LeaderLock
    journal: ServerJournal
    index: RetainedAuditIndex
    checkpoint_signer: CheckpointSigner
    witness: WitnessSender | None
    compiler: Callable[[TestRunner], PolicyCompiler]
    """Lints and compiles a candidate's files, running its tests with the runner given."""
    policy_files: Callable[[], tuple[CompiledPolicy, dict[str, str]]]
    """The policy folder, compiled, and its files (the policy in force when none is stored)."""
    test_cases: Callable[[list[Path]], tuple[list[PolicyCase], list[LintFinding]]]
    review_definitions: Callable[[PolicyDefinition, Collection[str]],
                                 Mapping[str, ReviewDefinition]]
    policy_csv: Callable[[], str]
    customer_consents: list[tuple[str, str]]
    """The customers file's consents (the demo's), for what-if pipelines and seeding."""
    trusted_keys: list[Ed25519PublicKey] | None
    """The auditors' pinned keys (``GUARDIAN_AUDIT_TRUST_FILE``); ``None``: none pinned."""
    membership_writer: Callable[[frozenset[str]], MembershipWriter | None]
    mailer: Mailer | None
    webhook: Callable[[], WebhookSender]
    render_pdf: Callable[[str], bytes]
    qr_svg: Callable[[str], str]
    release: Callable[[], None]
    """Releases the connections the adapters hold (the store's engine)."""


def build_adapters(settings: Settings, clock: Clock) -> Adapters:
    """The adapters the settings choose; the data folder is created, nothing connects."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = make_engine(settings.store.url)
    store = SqlStore(engine)
    factors = SqlMfaStore(engine, seed_sealer(settings))
    identity, audit, governance = settings.identity, settings.audit, settings.governance
    signer = build_checkpoint_signer(settings)
    witness = build_witness(audit.witness)
    return Adapters(
        clock=clock, people=lambda policy: build_directory(settings, policy, clock),
        store=store, consents=SqlConsents(engine),
        api_keys=SqlApiKeys(engine, FileApplications(governance.applications_file)),
        factors=factors,
        webauthn=WebAuthnRelyingParty(factors, rp_id=identity.webauthn_rp_id,
                                      rp_name=identity.webauthn_rp_name,
                                      origin=identity.webauthn_origin),
        policy_versions=SqlPolicyVersions(engine), reviews=SqlReviews(engine),
        report_archive=_report_archive(engine), changes=build_change_feed(settings.store, engine),
        leader=build_leader(engine, settings.data_dir),
        journal=open_journal(audit, signer, clock, witness, writer=writer_base(settings)),
        index=audit_index_of(audit, settings.opensearch), checkpoint_signer=signer,
        witness=witness, compiler=FilePolicyCompiler,
        policy_files=lambda: (CompiledPolicy.of(load_policy(governance.policy_dir)),
                              read_policy_files(governance.policy_dir)),
        test_cases=file_test_cases, review_definitions=lambda policy, uids: file_review_definitions(
            governance.policy_dir, policy, uids),
        policy_csv=lambda: (governance.policy_dir / "policy.csv").read_text("utf-8"),
        customer_consents=read_customer_consents(governance.customers_file),
        trusted_keys=_trusted_keys(audit.trust_file),
        membership_writer=lambda roles: build_membership_writer(settings.ldap, roles),
        mailer=build_mailer(settings), webhook=http_webhook, render_pdf=weasyprint_pdf,
        qr_svg=svg_data_uri, release=engine.dispose,
    )


def build_leader(engine: Engine, data_dir: Path | None = None) -> LeaderLock:
    """The PostgreSQL advisory lock when the store is PostgreSQL (several replicas may share
    it), else a file lock in the data folder (the workers of one host share it), or the
    in-process lock when no data folder is given."""
    if engine.dialect.name == "postgresql":
        from guardian.adapters.sql.leader_lock import PostgresLeaderLock

        return PostgresLeaderLock(engine)
    if data_dir is not None:
        from guardian.adapters.files.leader_lock import FileLeaderLock

        return FileLeaderLock(data_dir / "leader")
    from guardian.adapters.threads.process_leader import ProcessLeaderLock

    return ProcessLeaderLock()


def build_change_feed(store: StoreSettings, engine: Engine, *, mark: bool = True) -> ChangeFeed:
    """LISTEN/NOTIFY on PostgreSQL; on SQLite, the ``changes`` table every process polls.
    Marked now, before the views load, so nothing stored meanwhile is missed."""
    if engine.dialect.name == "postgresql":
        from guardian.adapters.sql.changes_notify import PostgresChangeFeed

        return PostgresChangeFeed(engine, store.url)
    from guardian.adapters.sql.changes_table import SqliteChangeFeed

    feed = SqliteChangeFeed(engine, poll_s=store.changes_poll_interval_s)
    if mark:
        feed.mark()
    return feed


def publish_change(settings: Settings, kind: ChangeKind, key: str) -> None:
    """Tell running servers that ``kind``/``key`` changed (for commands that change something
    without a whole :class:`Guardian`, such as ``guardian directory sync``)."""
    store = settings.store
    if not store.configured and not store.default_file.is_file():
        return  # no store yet: no server has run on this data folder to be told
    engine = make_engine(store.url)
    try:
        build_change_feed(store, engine, mark=False).publish(kind, key)  # never raises
    finally:
        engine.dispose()


def build_mailer(settings: Settings) -> Mailer | None:
    """The SMTP mailer (``GUARDIAN_SMTP_*``), or ``None`` without a mail server."""
    from guardian.adapters.mail.smtp import SmtpConfig, SmtpMailer

    smtp = settings.smtp
    if not smtp.host:
        return None
    return SmtpMailer(SmtpConfig(smtp.host, smtp.port, smtp.username, smtp.password,
                                 smtp.starttls))


def _report_archive(engine: Engine) -> ReportStore:
    from guardian.adapters.sql.reports import SqlReportArchive

    return SqlReportArchive(engine)


def http_webhook() -> WebhookSender:
    from guardian.adapters.http.webhooks import HttpWebhook

    return HttpWebhook()


def weasyprint_pdf(html: str) -> bytes:
    from guardian.adapters.render.pdf import html_to_pdf

    return html_to_pdf(html)


def file_test_cases(paths: list[Path]) -> tuple[list[PolicyCase], list[LintFinding]]:
    from guardian.adapters.files.policy_tests import load_cases

    return load_cases(paths)


def file_review_definitions(root: Path, policy: PolicyDefinition, uids: Collection[str]
                 ) -> Mapping[str, ReviewDefinition]:
    from guardian.adapters.files.review_definitions import load_review_definitions

    return load_review_definitions(root, policy, uids)


def _trusted_keys(trust_file: Path | None) -> list[Ed25519PublicKey] | None:
    """Read now, so that a bad trust file stops the start."""
    if trust_file is None:
        return None
    from guardian.adapters.files.keys import read_trust_files

    return read_trust_files([trust_file])
