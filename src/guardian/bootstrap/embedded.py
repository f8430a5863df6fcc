"""The same :class:`~guardian.bootstrap.adapters.Adapters` record, built in memory.

For tests of the API and of services that should not pay for a database: the store's ports
(grants, sign-in counters, keys, second factors, consent, reviews, policy versions, reports,
the change feed) are the in-memory adapters of ``guardian.adapters.memory``, so neither SQLite
nor Alembic runs. The directory, the journal and the audit index are the embedded file-backed
ones under the settings' data folder (a test's temporary folder): the journal is what the
trail's guarantees are about, and the index is its embedded default.
"""

from __future__ import annotations

from guardian.adapters.files.applications import FileApplications
from guardian.adapters.files.customers import read_customer_consents
from guardian.adapters.files.policy import load_policy
from guardian.adapters.files.policy_candidates import FilePolicyCompiler, read_policy_files
from guardian.adapters.memory.ports import MemoryConsentStore
from guardian.adapters.memory.reviews import MemoryReviews
from guardian.adapters.memory.stores import (
    MemoryApiKeys,
    MemoryChangeFeed,
    MemoryFactors,
    MemoryPolicyVersions,
    MemoryReportArchive,
    MemoryStore,
)
from guardian.adapters.render.qr import svg_data_uri
from guardian.adapters.threads.process_leader import ProcessLeaderLock
from guardian.adapters.webauthn.relying_party import WebAuthnRelyingParty
from guardian.bootstrap.adapters import (
    Adapters,
    file_review_definitions,
    file_test_cases,
    http_webhook,
    weasyprint_pdf,
)
from guardian.bootstrap.audit_parts import (
    audit_index_of,
    build_checkpoint_signer,
    open_journal,
    writer_base,
)
from guardian.bootstrap.directory_parts import build_directory
from guardian.config import Settings
from guardian.policy.pipeline import CompiledPolicy
from guardian.ports import Clock


def memory_adapters(settings: Settings, clock: Clock) -> Adapters:
    """Adapters with every store in memory; hand them to ``build(settings, adapters=...)``."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    identity, governance, audit = settings.identity, settings.governance, settings.audit
    factors = MemoryFactors()
    signer = build_checkpoint_signer(settings)
    root = governance.policy_dir
    return Adapters(
        clock=clock, people=lambda policy: build_directory(settings, policy, clock),
        store=MemoryStore(), consents=MemoryConsentStore(),
        api_keys=MemoryApiKeys(FileApplications(governance.applications_file)),
        factors=factors,
        webauthn=WebAuthnRelyingParty(factors, rp_id=identity.webauthn_rp_id,
                                      rp_name=identity.webauthn_rp_name,
                                      origin=identity.webauthn_origin),
        policy_versions=MemoryPolicyVersions(), reviews=MemoryReviews(),
        report_archive=MemoryReportArchive(), changes=MemoryChangeFeed(),
        leader=ProcessLeaderLock(),
        journal=open_journal(audit, signer, clock, writer=writer_base(settings)),
        index=audit_index_of(audit, settings.opensearch), checkpoint_signer=signer,
        witness=None, compiler=FilePolicyCompiler,
        policy_files=lambda: (CompiledPolicy.of(load_policy(root)), read_policy_files(root)),
        test_cases=file_test_cases,
        review_definitions=lambda policy, uids: file_review_definitions(root, policy, uids),
        policy_csv=lambda: (root / "policy.csv").read_text("utf-8"),
        customer_consents=read_customer_consents(governance.customers_file),
        trusted_keys=None, membership_writer=lambda roles: None, mailer=None,
        webhook=http_webhook, render_pdf=weasyprint_pdf, qr_svg=svg_data_uri, release=lambda: None,
    )
