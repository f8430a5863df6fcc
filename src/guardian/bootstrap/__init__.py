"""The composition root: the one place where Settings become adapters, and ports services.

Three steps, each in a module of its own:

- :func:`~guardian.bootstrap.adapters.build_adapters` turns the settings groups into a frozen
  :class:`~guardian.bootstrap.adapters.Adapters` record of ports (the only code that knows
  which technology backs each port; ``embedded.memory_adapters`` builds the same record in
  memory for tests);
- :func:`~guardian.bootstrap.services.wire` builds every service from that record;
- :mod:`~guardian.bootstrap.steps` migrates the store (``guardian db upgrade``) and seeds the
  demo organisation, when asked (``build(..., prepare=True)``, as ``guardian serve`` does).

:class:`~guardian.bootstrap.record.Guardian` is what the API and the command line receive; its
fields are typed by ports and services. Nothing connects or opens files at import time;
:func:`build` does it when asked, and :meth:`Guardian.close` releases it. The names below are
re-exported so that ``from guardian.bootstrap import build, Guardian, ...`` keeps working.
"""

from __future__ import annotations

from guardian.bootstrap.adapters import (
    Adapters,
    build_adapters,
    build_change_feed,
    build_leader,
    build_mailer,
    publish_change,
)
from guardian.bootstrap.audit_parts import (
    build_audit_index,
    build_checkpoint_signer,
    build_checkpointer,
    build_shipper,
    build_witness,
    open_journal,
    writer_base,
)
from guardian.bootstrap.cli_support import (
    Client,
    Shipping,
    build_client,
    build_shipping,
    directory_file_uids,
    html_to_pdf,
    new_audit_key,
    parse_duration,
    read_policy,
    read_policy_cases,
    read_policy_files,
    read_review_definitions,
    read_test_files,
    read_trust_files,
    serving_state,
    terminal_qr,
)
from guardian.bootstrap.directory_parts import (
    People,
    build_directory,
    build_ldap_source,
    build_membership_writer,
    build_synced_directory,
    ldap_layout,
    seed_sealer,
)
from guardian.bootstrap.record import AuditTrail, Background, Guardian, Mfa, Reviews
from guardian.bootstrap.services import sign_in_limits, wire
from guardian.bootstrap.steps import (
    is_fresh,
    migrate,
    open_demo_review,
    seed_customers,
    seed_demo_history,
    seed_history,
    upgrade,
)
from guardian.bootstrap.what_if import (
    ImpactSources,
    WhatIf,
    build_impact,
    build_what_if,
    policy_checker,
    policy_in_force,
    proposal_checker,
    read_consents,
    run_policy_tests,
    session_signer,
)
from guardian.clock import SystemClock
from guardian.config import Settings
from guardian.ports import Clock


def build(settings: Settings, *, clock: Clock | None = None, prepare: bool = False,
          adapters: Adapters | None = None) -> Guardian:
    """A Guardian wired from ``adapters`` (default: those the settings choose). With
    ``prepare`` the start-up steps run once around it: the SQL store is migrated first (not
    when ``adapters`` are handed in: those are the caller's), the demo customers' consents
    seeded before the views load, the demo history (fresh data folder) after; without it,
    neither the schema nor the seed is touched."""
    clock = clock or (adapters.clock if adapters is not None else SystemClock())
    fresh = is_fresh(settings)
    if prepare and adapters is None:
        upgrade(settings)  # the SQL store the settings choose; adapters handed in are ready
    adapters = adapters if adapters is not None else build_adapters(settings, clock)
    if prepare:
        seed_customers(adapters)
    guardian = wire(adapters, settings)
    if prepare:
        seed_history(guardian, adapters, fresh=fresh)
    return guardian


__all__ = [
    "Adapters",
    "AuditTrail",
    "Background",
    "Client",
    "Guardian",
    "ImpactSources",
    "Mfa",
    "People",
    "Reviews",
    "Shipping",
    "WhatIf",
    "build",
    "build_adapters",
    "build_audit_index",
    "build_change_feed",
    "build_checkpoint_signer",
    "build_checkpointer",
    "build_client",
    "build_directory",
    "build_impact",
    "build_ldap_source",
    "build_leader",
    "build_mailer",
    "build_membership_writer",
    "build_shipper",
    "build_shipping",
    "build_synced_directory",
    "build_what_if",
    "build_witness",
    "directory_file_uids",
    "html_to_pdf",
    "is_fresh",
    "ldap_layout",
    "migrate",
    "new_audit_key",
    "open_demo_review",
    "open_journal",
    "parse_duration",
    "policy_checker",
    "policy_in_force",
    "proposal_checker",
    "publish_change",
    "read_consents",
    "read_policy",
    "read_policy_cases",
    "read_policy_files",
    "read_review_definitions",
    "read_test_files",
    "read_trust_files",
    "run_policy_tests",
    "seed_customers",
    "seed_demo_history",
    "seed_history",
    "seed_sealer",
    "serving_state",
    "session_signer",
    "sign_in_limits",
    "terminal_qr",
    "upgrade",
    "wire",
    "writer_base",
]
