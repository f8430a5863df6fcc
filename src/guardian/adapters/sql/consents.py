"""Consent changes and states in the store (SQLite or PostgreSQL): implements ``ConsentStore``.

A change is inserted into ``consent_changes`` and made the state of its customer and purpose in
the same transaction, by an upsert that keeps whichever change is latest by ``(at, id)``: two
replicas recording at once, or an old record imported late, leave the same state as the
in-memory views that apply the same rule. Nothing here is on the decision path.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Engine, and_, func, insert, or_, select

from guardian.adapters.sql.errors import translated
from guardian.adapters.sql.store import (
    _dialect_insert,
    consent_changes,
    consent_states,
)
from guardian.governance.consent_records import ConsentChange, ConsentState

_CHANGE_COLUMNS = (consent_changes.c.id, consent_changes.c.customer_id,
                   consent_changes.c.purpose, consent_changes.c.granted, consent_changes.c.at,
                   consent_changes.c.source, consent_changes.c.actor, consent_changes.c.key_id,
                   consent_changes.c.recorded_at)


class SqlConsents:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def record_change(self, change: ConsentChange) -> ConsentChange:
        row = {"customer_id": change.customer_id, "purpose": change.purpose,
               "granted": change.granted, "at": change.at, "recorded_at": change.recorded_at,
               "source": change.source, "actor": change.actor, "key_id": change.key_id}
        with translated(), self.engine.begin() as conn:
            change_id = int(conn.execute(insert(consent_changes).values(**row)
                                         .returning(consent_changes.c.id)).scalar_one())
            upsert = _dialect_insert(self.engine)(consent_states).values(
                customer_id=change.customer_id, purpose=change.purpose,
                granted=change.granted, at=change.at, change_id=change_id)
            held = consent_states.c
            conn.execute(upsert.on_conflict_do_update(
                index_elements=[held.customer_id, held.purpose],
                set_={"granted": upsert.excluded.granted, "at": upsert.excluded.at,
                      "change_id": upsert.excluded.change_id},
                where=or_(held.at < upsert.excluded.at,
                          and_(held.at == upsert.excluded.at,
                               held.change_id < upsert.excluded.change_id))))
        return _change({**row, "id": change_id})

    def history(self, customer_id: str) -> list[ConsentChange]:
        query = (select(*_CHANGE_COLUMNS).where(consent_changes.c.customer_id == customer_id)
                 .order_by(consent_changes.c.id))
        with translated(), self.engine.connect() as conn:
            return [_change(r) for r in conn.execute(query).mappings()]

    def consent_states(self) -> list[ConsentState]:
        s = consent_states.c
        query = select(s.customer_id, s.purpose, s.granted, s.at, s.change_id)
        with translated(), self.engine.connect() as conn:
            return [ConsentState(str(c), str(p), bool(g), float(a), int(i))
                    for c, p, g, a, i in conn.execute(query)]

    def last_change_id(self) -> int:
        with translated(), self.engine.connect() as conn:
            found = conn.execute(select(func.max(consent_changes.c.id))).scalar()
        return int(found or 0)

    def changes_after(self, after_id: int, also: Sequence[int], limit: int
                      ) -> list[ConsentChange]:
        wanted = consent_changes.c.id > after_id
        if also:
            wanted = or_(wanted, consent_changes.c.id.in_(list(also)))
        query = select(*_CHANGE_COLUMNS).where(wanted).order_by(consent_changes.c.id).limit(limit)
        with translated(), self.engine.connect() as conn:
            return [_change(r) for r in conn.execute(query).mappings()]

    def has_consents(self) -> bool:
        with translated(), self.engine.connect() as conn:
            return conn.execute(select(consent_changes.c.id).limit(1)).first() is not None


def _change(row: Any) -> ConsentChange:
    return ConsentChange(
        customer_id=str(row["customer_id"]), purpose=str(row["purpose"]),
        granted=bool(row["granted"]), at=float(row["at"]), source=str(row["source"]),
        actor=str(row["actor"]), key_id=None if row["key_id"] is None else str(row["key_id"]),
        recorded_at=float(row["recorded_at"]), change_id=int(row["id"]))
