"""The composition root: the one place where Settings become concrete adapters and services.

Nothing connects or opens files at import time; :func:`build` does it when asked, and
:meth:`Guardian.close` releases it.
"""

from __future__ import annotations

from dataclasses import dataclass

from guardian.adapters.file_applications import FileApplications
from guardian.adapters.file_directory import FileDirectory
from guardian.adapters.memory import MemoryConsents, MemoryGrants, MemoryJournal
from guardian.adapters.policy_files import load_policy
from guardian.adapters.sql_store import SqlStore, make_engine, seed_consents
from guardian.adapters.yaml_lines import load_plain
from guardian.audit.journal import FileJournal
from guardian.clock import SystemClock
from guardian.config import Settings
from guardian.identity.sealing import Sealer, derive_key
from guardian.identity.sessions import LockoutPolicy, SessionService
from guardian.identity.tokens import TokenSigner
from guardian.policy.pipeline import CompiledPolicy, DecisionPipeline
from guardian.ports import ApplicationRegistry, AuditJournal, Clock, Directory


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

    def close(self) -> None:
        self.journal.close()
        self.store.engine.dispose()


def build(settings: Settings, *, clock: Clock | None = None) -> Guardian:
    clock = clock or SystemClock()
    secret = settings.secret_key.get_secret_value()
    sealer = Sealer(derive_key(secret, "totp-seeds"))
    signer = TokenSigner(derive_key(secret, "session-tokens"))
    policy = CompiledPolicy.of(load_policy(settings.policy_dir))
    directory = FileDirectory(settings.directory_file, sealer)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    store = SqlStore(make_engine(settings.store_url))
    store.create_schema()
    if settings.customers_file is not None and not store.has_consents():
        seed_consents(store, read_consents(settings), clock.now())
    journal = FileJournal(settings.journal_file, fsync=settings.journal_fsync)
    sessions = SessionService(
        directory, directory, directory, store, signer, clock, ttl_s=settings.session_ttl_s,
        lockout=LockoutPolicy(settings.lockout_max_failures, settings.lockout_base_s,
                              settings.lockout_max_s),
    )
    pipeline = DecisionPipeline(policy, directory, store, store, signer, journal, clock)
    return Guardian(
        settings=settings, clock=clock, policy=policy, directory=directory, store=store,
        journal=journal, applications=FileApplications(settings.applications_file),
        sessions=sessions, pipeline=pipeline, signer=signer,
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
    secret = settings.secret_key.get_secret_value()
    signer = TokenSigner(derive_key(secret, "session-tokens"))
    directory = FileDirectory(settings.directory_file, Sealer(derive_key(secret, "totp-seeds")))
    pipeline = DecisionPipeline(
        CompiledPolicy.of(load_policy(settings.policy_dir)), directory, MemoryGrants(),
        MemoryConsents(read_consents(settings)), signer, MemoryJournal(), clock,
    )
    return WhatIf(pipeline, signer, clock, directory)
