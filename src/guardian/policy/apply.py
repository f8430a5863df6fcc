"""Applying a policy: lint, test, compile, journal, store, then swap it in everywhere.

:meth:`PolicyService.apply` is one use case in the usual order. Validate: the candidate's
three files must lint clean, compile, and pass its policy tests, else it is refused with every
finding or failing case and the policy in force stays. Journal: a ``policy.changed`` event with
the previous and new versions and the diff (rules added and removed, ``guardian.yaml`` and
``model.conf`` lines changed). Then store the version, swap the compiled policy in this process
(one assignment: a decision reads the old policy or the new, never a mix) and publish it on the
change feed, so every other worker and replica loads the stored version within a second
(:meth:`PolicyService.follow`).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from guardian.audit.events import AuditAction, governance_event
from guardian.changes import Change, ChangeKind
from guardian.errors import InvalidRequest, PolicyConflict, PolicyUnchanged
from guardian.logging import get_logger
from guardian.policy.pipeline import CompiledPolicy
from guardian.policy.versions import (
    MAX_FILE_CHARS,
    POLICY_FILES,
    PolicyDiff,
    PolicyVersion,
    policy_diff,
)
from guardian.ports import AuditJournal, ChangeFeed, Clock, PolicyVersions

log = get_logger("guardian.policy")

PolicyCompiler = Callable[[Mapping[str, str], Mapping[str, str]], CompiledPolicy]
"""Lint and compile a candidate's files and run its test cases (file name → text); raise
:class:`~guardian.errors.PolicyLintError` or :class:`~guardian.errors.PolicyTestsFailed`."""
MAX_DIFF_LINES = 2000
"""Diff lines kept per list in the audit event (the stored versions keep everything)."""


@dataclass(frozen=True, slots=True)
class Candidate:
    """A policy that passed every check, with what applying it would change."""

    policy: CompiledPolicy
    files: Mapping[str, str]
    diff: PolicyDiff

    @property
    def version(self) -> str:
        return self.policy.definition.version


@dataclass(frozen=True, slots=True)
class Applied:
    version: PolicyVersion
    diff: PolicyDiff


class PolicyService:
    def __init__(
        self, versions: PolicyVersions, compiler: PolicyCompiler, journal: AuditJournal,
        clock: Clock, swap: Callable[[CompiledPolicy], None], in_force: PolicyVersion,
        changes: ChangeFeed | None = None,
    ) -> None:
        """``in_force``: the version the server started with (stored, or the files');
        ``swap`` puts a compiled policy in force in this process (the pipeline's)."""
        self._versions = versions
        self._compile = compiler
        self._journal = journal
        self._clock = clock
        self._swap = swap
        self._in_force = in_force
        self._changes = changes
        self._lock = threading.Lock()

    def in_force(self) -> PolicyVersion:
        return self._in_force

    def check(self, files: Mapping[str, str], tests: Mapping[str, str]) -> Candidate:
        """Validate a candidate without applying it: raises what :meth:`apply` would."""
        _check_shape(files, tests)
        policy = self._compile(files, tests)
        return Candidate(policy, dict(files), policy_diff(self._in_force.files, files))

    def apply(self, actor: str, files: Mapping[str, str], tests: Mapping[str, str]
              ) -> Applied:
        """Make ``files`` the policy in force, or refuse it and keep the one in force."""
        with self._lock:
            candidate = self.check(files, tests)
            previous = self._in_force
            if candidate.version == previous.version:
                raise PolicyUnchanged(f"{candidate.version} is already the policy in force")
            latest = self._versions.latest_policy()
            if latest is not None and latest.version != previous.version:
                raise PolicyConflict(f"{latest.version} was applied meanwhile (by "
                                     f"{latest.applied_by}): review it, then apply again")
            now = self._clock.now()
            self._journal.append(_changed_event(actor, now, previous.version, candidate))
            applied = PolicyVersion(candidate.version, candidate.files, now, actor,
                                    previous.version)
            self._versions.add_policy(applied)
            self._put_in_force(applied, candidate.policy)
        if self._changes is not None:
            self._changes.publish(ChangeKind.POLICY, applied.version)
        return Applied(applied, candidate.diff)

    def reload(self) -> bool:
        """Load the latest stored version if it is not in force (another process applied it);
        ``True`` if the policy changed. It passed its tests when it was applied."""
        latest = self._versions.latest_policy()
        with self._lock:
            if latest is None or latest.version == self._in_force.version:
                return False
            policy = self._compile(latest.files, {})
            self._put_in_force(latest, policy)
        log.info("policy reloaded", version=latest.version, applied_by=latest.applied_by)
        return True

    def follow(self, changes: ChangeFeed) -> None:
        """Reload on every ``policy`` change (and on a resync) heard on the feed."""
        def on_change(_change: Change) -> None:
            self.reload()

        changes.subscribe(ChangeKind.POLICY, on_change)

    def _put_in_force(self, version: PolicyVersion, policy: CompiledPolicy) -> None:
        self._swap(policy)
        self._in_force = version


def _check_shape(files: Mapping[str, str], tests: Mapping[str, str]) -> None:
    missing = [name for name in POLICY_FILES if name not in files]
    extra = sorted(set(files) - set(POLICY_FILES))
    if missing or extra:
        raise InvalidRequest(f"a policy is exactly {', '.join(POLICY_FILES)}"
                             + (f"; missing {', '.join(missing)}" if missing else "")
                             + (f"; unexpected {', '.join(extra)}" if extra else ""))
    for name, text in (*files.items(), *tests.items()):
        if len(text) > MAX_FILE_CHARS:
            raise InvalidRequest(f"{name} is larger than {MAX_FILE_CHARS} characters")
    for name in tests:
        if "/" in name or "\\" in name or name.startswith(".") \
                or not name.endswith((".yaml", ".yml")):
            raise InvalidRequest(f"test file {name!r}: expected a plain name ending in .yaml")


def _changed_event(actor: str, at: float, previous: str, candidate: Candidate
                   ) -> dict[str, object]:
    diff = candidate.diff.as_dict()
    truncated = any(len(lines) > MAX_DIFF_LINES for lines in diff.values())
    change: dict[str, object] = {name: lines[:MAX_DIFF_LINES] for name, lines in diff.items()}
    change["previous_version"] = previous
    change["truncated"] = truncated
    return governance_event(AuditAction.POLICY_CHANGED, actor, at,
                            policy_version=candidate.version, policy_change=change)
