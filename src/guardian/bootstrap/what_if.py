"""Pipelines with nothing durable behind them: for policy tests, ``guardian check`` and
``guardian policy impact``, which ask what would be decided without recording anything; and the
policy in force (the latest stored version, else the policy folder).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from guardian.adapters.files.customers import read_customer_consents
from guardian.adapters.files.policy import load_policy
from guardian.adapters.memory.ports import MemoryConsents, MemoryGrants, MemoryJournal
from guardian.clock import SystemClock
from guardian.config import Settings
from guardian.errors import PolicyLintError, PolicyTestsFailed
from guardian.identity.sealing import KeyPurpose, derive_key
from guardian.identity.tokens import TokenSigner
from guardian.policy.apply import PolicyCompiler
from guardian.policy.pipeline import CompiledPolicy, DecisionPipeline
from guardian.policy.versions import PolicyVersion
from guardian.ports import AuditIndex, Clock, Directory, PolicyVersions

if TYPE_CHECKING:
    from guardian.bootstrap.adapters import Adapters


def session_signer(settings: Settings) -> TokenSigner:
    return TokenSigner(derive_key(settings.secret_key.get_secret_value(),
                                  KeyPurpose.SESSION_TOKENS))


def policy_in_force(versions: PolicyVersions, compiler: PolicyCompiler,
                    files: Callable[[], tuple[CompiledPolicy, dict[str, str]]]
                    ) -> tuple[CompiledPolicy, PolicyVersion]:
    """The latest stored version (applied with ``guardian policy apply``), else the files."""
    stored = versions.latest_policy()
    if stored is not None:
        return compiler(stored.files, {}), stored
    policy, texts = files()
    return policy, PolicyVersion(policy.definition.version, texts, 0.0, "files")


def run_policy_tests(adapters: Adapters, signer: TokenSigner, directory: Directory,
                     policy: CompiledPolicy, paths: list[Path]) -> list[str]:
    """Run policy test cases against ``policy`` with nothing durable behind it; the failures."""
    from guardian.policy.testing import run_case

    cases, findings = adapters.test_cases(paths)
    clock = adapters.clock
    pipeline = DecisionPipeline(policy, directory, MemoryGrants(),
                                MemoryConsents(adapters.customer_consents), signer,
                                MemoryJournal(), clock)
    failures = [str(f) for f in findings]
    now = clock.now()
    for case in cases:
        result = run_case(case, pipeline, signer, now)
        if not result.passed:
            failures.append(f"{case.source.path}:{case.source.line}: {case.name}: "
                            + "; ".join(result.failures))
    return failures


def policy_checker(compiler: PolicyCompiler, policy_dir: Path) -> Callable[[str], list[str]]:
    """What ``guardian policy apply`` would refuse in a proposed ``policy.csv`` (the other
    policy files and the tests as they are in ``policy_dir``): lint, then every test."""
    from guardian.adapters.files.policy_candidates import read_policy_files, read_test_files

    def check(policy_csv: str) -> list[str]:
        files = {**read_policy_files(policy_dir), "policy.csv": policy_csv}
        try:
            compiler(files, read_test_files(policy_dir))
        except PolicyLintError as exc:
            return [f"lint: {f}" for f in exc.findings]
        except PolicyTestsFailed as exc:
            return [f"test: {f}" for f in exc.failures]
        return []

    return check


def proposal_checker(settings: Settings, directory: Directory, clock: Clock
                     ) -> Callable[[str], list[str]]:
    """:func:`policy_checker` on its own (no server): the policy tests run on ``directory``
    with nothing durable behind them."""
    from guardian.bootstrap.embedded import memory_adapters

    adapters = memory_adapters(settings, clock)
    signer = session_signer(settings)
    compiler = adapters.compiler(lambda candidate, paths: run_policy_tests(
        adapters, signer, directory, candidate, paths))
    return policy_checker(compiler, settings.policy_dir)


def read_consents(settings: Settings) -> list[tuple[str, str]]:
    """(customer, purpose) pairs from the customers file (``GUARDIAN_CUSTOMERS_FILE``)."""
    return read_customer_consents(settings.governance.customers_file)


@dataclass
class WhatIf:
    """A pipeline with the real policy and directory but nothing durable behind it."""

    pipeline: DecisionPipeline
    signer: TokenSigner
    clock: Clock
    directory: Directory


def build_what_if(settings: Settings, *, clock: Clock | None = None) -> WhatIf:
    from guardian.bootstrap.directory_parts import build_directory

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


@dataclass
class ImpactSources:
    """What ``guardian policy impact`` replays against: the trail, the policy in force, the
    directory (its persisted snapshot for LDAP); neither the journal nor a server is needed."""

    index: AuditIndex
    baseline: CompiledPolicy
    directory: Directory
    release: Callable[[], None]

    def close(self) -> None:
        self.index.close()
        self.release()


def build_impact(settings: Settings, *, clock: Clock | None = None) -> ImpactSources:
    from guardian.adapters.files.policy_candidates import FilePolicyCompiler, read_policy_files
    from guardian.adapters.sql.policy_versions import SqlPolicyVersions
    from guardian.adapters.sql.store import make_engine
    from guardian.bootstrap.audit_parts import build_audit_index
    from guardian.bootstrap.directory_parts import build_directory
    from guardian.bootstrap.steps import upgrade_engine

    clock = clock or SystemClock()
    engine = make_engine(settings.store.url)
    upgrade_engine(engine)
    root = settings.policy_dir
    baseline, _ = policy_in_force(
        SqlPolicyVersions(engine), FilePolicyCompiler(lambda _policy, _paths: []),
        lambda: (CompiledPolicy.of(load_policy(root)), read_policy_files(root)))
    directory = build_directory(settings, baseline, clock).directory
    return ImpactSources(build_audit_index(settings), baseline, directory, engine.dispose)
