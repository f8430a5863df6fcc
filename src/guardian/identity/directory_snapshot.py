"""A directory snapshot and the difference between two of them, as plain values.

A snapshot is everything the decision path needs to know about people (their principals), the
time it was read from its source and the name of that source. Decisions look principals up in
it and never wait on the source itself. :func:`diff_snapshots` says what a sync would change:
users added, users removed and, for the others, each field that changed (roles, status, type,
supplier, contract clause, manager, name). Serialising to and from JSON-ready dictionaries lives
here too, so the file that persists a snapshot holds nothing this module cannot check.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from guardian.errors import ConfigurationError
from guardian.identity.principal import Principal
from guardian.identity.vocabulary import EmployeeType

SNAPSHOT_FORMAT = 1

FIELDS = ("name", "roles", "active", "employee_type", "supplier", "contract_clause", "manager")
"""The principal fields a diff compares, in the order changes are shown."""


@dataclass(frozen=True, slots=True)
class DirectorySnapshot:
    """Principals by uid, read from ``source`` at ``taken_at`` (seconds since the epoch)."""

    principals: Mapping[str, Principal]
    taken_at: float
    source: str

    @classmethod
    def of(cls, principals: Iterable[Principal], taken_at: float, source: str) -> DirectorySnapshot:
        return cls({p.uid: p for p in principals}, taken_at, source)

    def __len__(self) -> int:
        return len(self.principals)

    def as_dict(self) -> dict[str, Any]:
        return {
            "format": SNAPSHOT_FORMAT,
            "source": self.source,
            "taken_at": self.taken_at,
            "principals": [principal_as_dict(p) for _, p in sorted(self.principals.items())],
        }

    @classmethod
    def from_dict(cls, raw: Any) -> DirectorySnapshot:
        """The snapshot ``as_dict`` wrote; ``ConfigurationError`` for anything else."""
        if not isinstance(raw, dict) or raw.get("format") != SNAPSHOT_FORMAT:
            raise ConfigurationError("not a directory snapshot of a known format")
        items = raw.get("principals")
        taken_at = raw.get("taken_at")
        if not isinstance(items, list) or not isinstance(taken_at, int | float):
            raise ConfigurationError("directory snapshot without principals or time")
        return cls.of((principal_from_dict(i) for i in items), float(taken_at),
                      str(raw.get("source", "")))


def principal_as_dict(p: Principal) -> dict[str, Any]:
    return {
        "uid": p.uid, "name": p.name, "roles": sorted(p.roles),
        "employee_type": p.employee_type.value, "active": p.active, "supplier": p.supplier,
        "contract_clause": p.contract_clause, "manager": p.manager,
    }


def principal_from_dict(raw: Any) -> Principal:
    if not isinstance(raw, dict) or not isinstance(raw.get("uid"), str):
        raise ConfigurationError("directory snapshot: a principal without a uid")
    try:
        return Principal(
            uid=raw["uid"], name=str(raw.get("name") or raw["uid"]),
            roles=frozenset(str(r) for r in raw.get("roles") or ()),
            employee_type=EmployeeType(raw.get("employee_type", "employee")),
            active=raw.get("active") is True,
            supplier=_optional_str(raw.get("supplier")),
            contract_clause=raw.get("contract_clause") is True,
            manager=_optional_str(raw.get("manager")),
        )
    except ValueError as exc:
        raise ConfigurationError(f"directory snapshot: principal {raw['uid']!r}: {exc}") from exc


def _optional_str(value: Any) -> str | None:
    return None if value is None else str(value)


@dataclass(frozen=True, slots=True)
class FieldChange:
    field: str
    before: Any
    after: Any

    def __str__(self) -> str:
        return f"{self.field}: {_show(self.before)} -> {_show(self.after)}"


@dataclass(frozen=True, slots=True)
class PrincipalChange:
    uid: str
    changes: tuple[FieldChange, ...]

    def __str__(self) -> str:
        return f"~ {self.uid}: " + "; ".join(str(c) for c in self.changes)


@dataclass(frozen=True, slots=True)
class SnapshotDiff:
    """What changes from one snapshot to the next; every tuple is sorted by uid."""

    added: tuple[Principal, ...] = ()
    removed: tuple[Principal, ...] = ()
    changed: tuple[PrincipalChange, ...] = field(default=())

    @property
    def empty(self) -> bool:
        return not (self.added or self.removed or self.changed)

    def summary(self) -> str:
        return (f"{len(self.added)} added, {len(self.removed)} removed, "
                f"{len(self.changed)} changed")

    def lines(self) -> list[str]:
        """One human-readable line per change: ``+`` added, ``-`` removed, ``~`` changed."""
        out = [f"+ {p.uid}: {_describe(p)}" for p in self.added]
        out += [f"- {p.uid}: {_describe(p)}" for p in self.removed]
        out += [str(c) for c in self.changed]
        return out


def diff_snapshots(before: DirectorySnapshot | None, after: DirectorySnapshot) -> SnapshotDiff:
    """What applying ``after`` over ``before`` changes (``None``: nothing known before)."""
    old: Mapping[str, Principal] = before.principals if before is not None else {}
    new = after.principals
    added = tuple(new[uid] for uid in sorted(new.keys() - old.keys()))
    removed = tuple(old[uid] for uid in sorted(old.keys() - new.keys()))
    changed = []
    for uid in sorted(old.keys() & new.keys()):
        if old[uid] != new[uid]:
            changes = principal_changes(old[uid], new[uid])
            if changes:
                changed.append(PrincipalChange(uid, changes))
    return SnapshotDiff(added, removed, tuple(changed))


def principal_changes(before: Principal, after: Principal) -> tuple[FieldChange, ...]:
    return tuple(
        FieldChange(name, getattr(before, name), getattr(after, name))
        for name in FIELDS if getattr(before, name) != getattr(after, name)
    )


def _describe(p: Principal) -> str:
    roles = ", ".join(sorted(p.roles)) or "no role"
    status = "active" if p.active else "disabled"
    extra = ""
    if p.is_contractor:
        clause = "clause" if p.contract_clause else "NO clause"
        extra = f", contractor of {p.supplier or '?'} ({clause})"
    return f"{roles}; {status}{extra}"


def _show(value: Any) -> str:
    if isinstance(value, frozenset):
        return "[" + ", ".join(sorted(value)) + "]"
    if isinstance(value, EmployeeType):
        return value.value
    return repr(value) if isinstance(value, str) else str(value)
