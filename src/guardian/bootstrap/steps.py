"""The explicit start-up steps: migrate the store, then seed the demo organisation.

``guardian db upgrade`` runs :func:`migrate`; ``guardian serve`` (and the command line's local
commands) run :func:`upgrade` once before the adapters are built and seed once,
through ``build(settings, prepare=True)``: :func:`seed_customers` before the views load,
:func:`seed_history` after the services are wired. Building a :class:`Guardian` without ``prepare``
touches neither the schema nor the seed.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from guardian.config import Settings
from guardian.governance.consent_seed import seed_consents

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from guardian.bootstrap.adapters import Adapters
    from guardian.bootstrap.record import Guardian
    from guardian.ports import ConsentStore


def is_fresh(settings: Settings) -> bool:
    """An empty (or missing) data folder: the first start, which seeds the demo's history."""
    return not settings.data_dir.exists() or not any(settings.data_dir.iterdir())


def upgrade_engine(engine: Engine) -> None:
    from guardian.adapters.sql.alembic_runner import upgrade as run

    run(engine)


def upgrade(settings: Settings) -> None:
    """Bring the store's schema to the latest revision (creating the data folder first)."""
    from guardian.adapters.sql.store import make_engine

    settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = make_engine(settings.store.url)
    try:
        upgrade_engine(engine)
    finally:
        engine.dispose()


def migrate(settings: Settings, revision: str | None = "head") -> tuple[str | None, str | None]:
    """The store's revision before and after migrating to ``revision`` (``None``: only read
    it); with the latest revision this Guardian knows as ``after`` when only reading."""
    from guardian.adapters.sql import alembic_runner as sql_migrations
    from guardian.adapters.sql.store import make_engine

    engine = make_engine(settings.store.url)
    try:
        before = sql_migrations.current(engine)
        after = sql_migrations.upgrade(engine, revision) if revision is not None \
            else sql_migrations.head()
    finally:
        engine.dispose()
    return before, after


def seed_customers(adapters: Adapters) -> int:
    """The customers file's consents into an empty consent store (before the views load)."""
    return seed_consents(adapters.consents, adapters.customer_consents, adapters.clock.now())


def seed_history(guardian: Guardian, adapters: Adapters, *, fresh: bool) -> int:
    """A fresh demo data folder only: 90 days of demo history (``GUARDIAN_DEMO_HISTORY``)."""
    settings = guardian.settings
    if not (fresh and settings.demo and settings.demo_history):
        return 0
    events = seed_demo_history(guardian, adapters.customer_consents, adapters.consents)
    open_demo_review(guardian)
    return events


def open_demo_review(guardian: Guardian) -> None:
    """A fresh demo's open crm-quarterly campaign (demo data), its evidence from the history
    just journalled: shipped into the index first."""
    from guardian.governance.demo_campaign import open_demo_campaign

    if guardian.reviews is None or guardian.reviews.demo is None:
        return
    guardian.audit.shipper.drain(max_wait_s=120)
    open_demo_campaign(guardian.reviews.demo)


def seed_demo_history(guardian: Guardian, consents: list[tuple[str, str]],
                      consent_store: ConsentStore | None = None) -> int:
    """Journal the demo organisation's last 90 days (a fresh demo data folder only), each
    decision asked of the real policy as it stood then; returns the events journalled."""
    from guardian.adapters.memory.ports import (
        MemoryConsents,
        MemoryConsentStore,
        MemoryJournal,
    )
    from guardian.governance.demo_history import (
        AsOfDirectory,
        DemoHistory,
        PlannedGrants,
        plan_history,
    )
    from guardian.identity.vocabulary import AuthMethod
    from guardian.policy.model import Decision, DecisionRequest
    from guardian.policy.pipeline import DecisionPipeline

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

    store = consent_store if consent_store is not None else MemoryConsentStore()
    return DemoHistory(guardian.journal, guardian.store, store).seed(plan, decide)
