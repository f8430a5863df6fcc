"""Applied policy versions in the store (SQLite or PostgreSQL), write-once; the latest is in force.

Adding a version checks, in the same transaction, that the latest stored is the one it
replaces, so two officers applying at once through two replicas cannot both win: the second
gets :class:`~guardian.errors.PolicyConflict` (on PostgreSQL the unique ``version`` and the
row lock of the latest settle a race between the check and the insert).
"""

from __future__ import annotations

from sqlalchemy import Connection, Engine, insert, select
from sqlalchemy.exc import IntegrityError

from guardian.adapters.sql.errors import translated
from guardian.adapters.sql.store import policy_versions
from guardian.errors import PolicyConflict
from guardian.policy.versions import MODEL_FILE, RULES_FILE, SETTINGS_FILE, PolicyVersion

_T = policy_versions
_COLUMNS = (_T.c.version, _T.c.previous, _T.c.applied_at, _T.c.applied_by, _T.c.model,
            _T.c.rules, _T.c.settings)


class SqlPolicyVersions:
    """Implements :class:`guardian.ports.PolicyVersions`."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def latest_policy(self) -> PolicyVersion | None:
        with translated(), self.engine.connect() as conn:
            return _latest(conn)

    def add_policy(self, version: PolicyVersion) -> None:
        with translated():
            try:
                with self.engine.begin() as conn:
                    latest = _latest(conn, lock=True)
                    if latest is not None and latest.version != version.previous:
                        raise PolicyConflict(f"{latest.version} is in force, not "
                                             f"{version.previous}: apply again")
                    conn.execute(insert(_T).values(
                        version=version.version, previous=version.previous,
                        applied_at=version.applied_at, applied_by=version.applied_by,
                        model=version.files[MODEL_FILE], rules=version.files[RULES_FILE],
                        settings=version.files[SETTINGS_FILE]))
            except IntegrityError as exc:
                raise PolicyConflict(f"{version.version} was applied before") from exc

    def history(self, limit: int = 20) -> list[PolicyVersion]:
        """The versions applied, newest first."""
        with translated(), self.engine.connect() as conn:
            rows = conn.execute(select(*_COLUMNS).order_by(_T.c.id.desc()).limit(limit))
            return [_version(tuple(r)) for r in rows]


def _latest(conn: Connection, *, lock: bool = False) -> PolicyVersion | None:
    query = select(*_COLUMNS).order_by(_T.c.id.desc()).limit(1)
    if lock and conn.dialect.name == "postgresql":
        query = query.with_for_update()
    row = conn.execute(query).first()
    return None if row is None else _version(tuple(row))


def _version(row: tuple[object, ...]) -> PolicyVersion:
    version, previous, at, by, model, rules, settings = row
    return PolicyVersion(str(version), {MODEL_FILE: str(model), RULES_FILE: str(rules),
                                        SETTINGS_FILE: str(settings)},
                         float(str(at)), str(by), None if previous is None else str(previous))
