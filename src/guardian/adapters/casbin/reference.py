"""casbin as the reference implementation of the policy, against which the decision index is held.

Guardian never decides with casbin: it compiles ``policies/model.conf``'s semantics into
:class:`guardian.policy.index.DecisionIndex`. This module builds a ``casbin.Enforcer`` on the
same model and the same rules, role inheritance and user→role assignments, entirely in memory
(no CSV file, no auto-save, no logging), so the property test and the benchmark can ask casbin
the same question and compare. It is the only module of ``src/`` that imports casbin.

The policy is handed to casbin through a tiny in-memory adapter rather than
``Enforcer.add_policies``: pycasbin checks each added rule for duplicates with a linear scan of
a list, which makes bulk insertion quadratic (hours at 100 000 rules).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, Protocol

import casbin
from casbin.persist import Adapter

from guardian.policy.definition import PolicyDefinition, Rule

Row = tuple[str, ...]


class ReferenceEnforcer(Protocol):
    """The part of ``casbin.Enforcer`` Guardian uses."""

    def enforce(self, *rvals: str) -> bool: ...


class _MemoryAdapter(Adapter):  # type: ignore[misc]  # casbin ships no type information
    """Loads fixed ``p`` and ``g`` rows into a casbin model; saves nothing."""

    def __init__(self, policies: list[Row], groupings: list[Row]) -> None:
        self._rows = (("p", policies), ("g", groupings))

    def load_policy(self, model: Any) -> None:
        # What casbin.persist.load_policy_line does for each line, without the text round trip.
        for ptype, rows in self._rows:
            target = model.model[ptype][ptype].policy
            target.extend(list(row) for row in rows)


def build_enforcer(
    model_path: Path,
    rules: Iterable[Rule],
    inheritance: Iterable[tuple[str, str]] = (),
    assignments: Mapping[str, Iterable[str]] | None = None,
) -> ReferenceEnforcer:
    """A ``casbin.Enforcer`` on ``model_path`` holding exactly this policy, in memory.

    ``rules`` become ``p, role, db, cat, act, purpose`` lines; ``inheritance`` holds
    ``(role, parent)`` pairs and ``assignments`` maps each user to their roles, both becoming
    ``g`` lines, as in casbin users and roles share one namespace.
    """
    policies: list[Row] = list(dict.fromkeys(
        (r.role, r.database, r.category, r.action, r.purpose) for r in rules))
    groupings: list[Row] = list(dict.fromkeys(inheritance))
    for user, roles in (assignments or {}).items():
        groupings.extend(dict.fromkeys((user, role) for role in roles))
    raw = casbin.Enforcer(str(model_path), _MemoryAdapter(policies, groupings), enable_log=False)
    raw.enable_auto_save(False)  # later edits, if any, stay in memory
    enforcer: ReferenceEnforcer = raw
    return enforcer


def enforcer_for_policy(
    model_path: Path,
    policy: PolicyDefinition,
    assignments: Mapping[str, Iterable[str]] | None = None,
) -> ReferenceEnforcer:
    """:func:`build_enforcer` on a parsed ``policies/`` definition and a directory's roles."""
    return build_enforcer(
        model_path, policy.rules, ((i.role, i.parent) for i in policy.inheritance), assignments)


def casbin_permits(
    enforcer: ReferenceEnforcer, user: str, db: str, cat: str, act: str, purpose: str
) -> bool:
    """Whether casbin allows ``user`` to ``act`` on ``db/cat`` for ``purpose``."""
    return bool(enforcer.enforce(user, db, cat, act, purpose))
