"""The store (consents, one-time-code ledger, temporary grants) on SQLAlchemy Core.

One schema for SQLite (the embedded default) and PostgreSQL (``GUARDIAN_DATABASE_URL``),
declared here on :data:`metadata` (also the tables of ``sql_mfa`` and ``sql_api_keys``) and
created by the Alembic migrations in ``migrations/`` (``sql_migrations``). Vendor errors are
translated to :class:`~guardian.errors.StoreUnavailable` at this boundary.
Temporary grants are read on the decision path, so they are served from a snapshot refreshed
after every write here and at most ``grants_refresh_s`` old otherwise.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    Engine,
    Float,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    create_engine,
    event,
    insert,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from guardian.errors import StoreUnavailable
from guardian.governance.model import TemporaryGrant

metadata = MetaData()

consents = Table(
    "consents", metadata,
    Column("customer_id", String(128), primary_key=True),
    Column("purpose", String(128), primary_key=True),
    Column("granted_at", Float, nullable=False),
)
otp_claims = Table(
    "otp_claims", metadata,
    Column("uid", String(128), primary_key=True),
    Column("timestep", Integer, primary_key=True),
    Column("used_at", Float, nullable=False),
)
auth_failures = Table(
    "auth_failures", metadata,
    Column("uid", String(128), primary_key=True),
    Column("count", Integer, nullable=False),
    Column("last_at", Float, nullable=False),
)
grants = Table(
    "grants", metadata,
    Column("id", String(32), primary_key=True),
    Column("uid", String(128), nullable=False, index=True),
    Column("role", String(128), nullable=False),
    Column("starts_at", Float, nullable=False),
    Column("expires_at", Float, nullable=False),
    Column("reason", String(1024), nullable=False),
    Column("granted_by", String(128), nullable=False),
)
# Second factors (guardian.adapters.sql_mfa): at most one pending and one active TOTP seed per
# user, sealed; recovery codes as keyed digests, usable while their enrolment is active.
totp_enrolments = Table(
    "totp_enrolments", metadata,
    Column("id", String(32), primary_key=True),
    Column("uid", String(128), nullable=False),
    Column("sealed_seed", String(512), nullable=False),
    Column("state", String(16), nullable=False),
    Column("created_at", Float, nullable=False),
    Column("activated_at", Float, nullable=True),
    UniqueConstraint("uid", "state", name="uq_totp_enrolments_uid_state"),
)
recovery_codes = Table(
    "recovery_codes", metadata,
    Column("uid", String(128), primary_key=True),
    Column("digest", String(64), primary_key=True),
    Column("enrolment_id", String(32), nullable=False, index=True),
    Column("used_at", Float, nullable=True),
)
webauthn_credentials = Table(
    "webauthn_credentials", metadata,
    Column("credential_id", String(1400), primary_key=True),
    Column("uid", String(128), nullable=False, index=True),
    Column("public_key", Text, nullable=False),
    Column("sign_count", BigInteger, nullable=False),
    Column("created_at", Float, nullable=False),
    Column("last_used_at", Float, nullable=True),
)
webauthn_challenges = Table(
    "webauthn_challenges", metadata,
    Column("uid", String(128), primary_key=True),
    Column("purpose", String(16), primary_key=True),
    Column("challenge", String(128), nullable=False),
    Column("expires_at", Float, nullable=False),
)
# Application API keys (guardian.adapters.sql_api_keys), by SHA-256 only.
api_keys = Table(
    "api_keys", metadata,
    Column("id", String(32), primary_key=True),
    Column("name", String(128), nullable=False),
    Column("key_sha256", String(64), nullable=False),
    Column("created_at", Float, nullable=False),
    Column("created_by", String(128), nullable=False),
    Column("revoked_at", Float, nullable=True),
    UniqueConstraint("key_sha256", name="uq_api_keys_key_sha256"),
)
# Signed periodic reports (guardian.adapters.sql_reports): the JSON as signed, write-once.
reports = Table(
    "reports", metadata,
    Column("id", String(32), primary_key=True),
    Column("kind", String(32), nullable=False),
    Column("period_from", String(40), nullable=False),
    Column("period_to", String(40), nullable=False),
    Column("created_at", Float, nullable=False),
    Column("created_by", String(128), nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("signature", String(128), nullable=False),
    Column("body", LargeBinary, nullable=False),
)

_CLAIM_RETENTION_S = 600.0


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=FULL")
            cur.close()

        return engine
    return create_engine(url, pool_pre_ping=True)


class SqlStore:
    """Implements ``ConsentRegistry``, ``OtpLedger`` and ``GrantStore``."""

    def __init__(self, engine: Engine, *, grants_refresh_s: float = 5.0) -> None:
        self.engine = engine
        self._refresh_s = grants_refresh_s
        self._grants: dict[str, tuple[TemporaryGrant, ...]] = {}
        self._grants_loaded_at = float("-inf")
        self._grants_lock = threading.Lock()

    def create_schema(self) -> None:
        """Bring the schema to the latest Alembic revision (see ``sql_migrations``)."""
        from guardian.adapters.sql_migrations import upgrade

        upgrade(self.engine)

    # -- ConsentRegistry ----------------------------------------------------------------

    def without_consent(self, customer_ids: Sequence[str], purpose: str) -> tuple[str, ...]:
        wanted = list(dict.fromkeys(customer_ids))
        with _translated(), self.engine.connect() as conn:
            rows = conn.execute(
                select(consents.c.customer_id).where(
                    consents.c.purpose == purpose, consents.c.customer_id.in_(wanted))
            )
            have = {r[0] for r in rows}
        return tuple(c for c in wanted if c not in have)

    def record_consent(self, customer_id: str, purpose: str, at: float) -> None:
        with _translated(), self.engine.begin() as conn:
            try:
                with conn.begin_nested():
                    conn.execute(insert(consents).values(
                        customer_id=customer_id, purpose=purpose, granted_at=at))
            except IntegrityError:
                pass

    def has_consents(self) -> bool:
        with _translated(), self.engine.connect() as conn:
            return conn.execute(select(consents.c.customer_id).limit(1)).first() is not None

    # -- OtpLedger ----------------------------------------------------------------------

    def claim(self, uid: str, timestep: int, at: float) -> bool:
        with _translated(), self.engine.begin() as conn:
            conn.execute(otp_claims.delete().where(otp_claims.c.used_at < at - _CLAIM_RETENTION_S))
            try:
                with conn.begin_nested():
                    conn.execute(insert(otp_claims).values(uid=uid, timestep=timestep, used_at=at))
            except IntegrityError:
                return False
        return True

    def record_failure(self, uid: str, at: float) -> int:
        # One atomic increment, so parallel guesses are all counted; the first failure of a
        # user inserts the row, and a racing insert falls back to the increment.
        bump = (update(auth_failures).where(auth_failures.c.uid == uid)
                .values(count=auth_failures.c.count + 1, last_at=at)
                .returning(auth_failures.c.count))
        with _translated():
            for _ in range(3):
                with self.engine.begin() as conn:
                    row = conn.execute(bump).first()
                    if row is not None:
                        return int(row[0])
                    try:
                        with conn.begin_nested():
                            conn.execute(insert(auth_failures).values(uid=uid, count=1,
                                                                      last_at=at))
                        return 1
                    except IntegrityError:
                        continue
        raise StoreUnavailable("could not record a failed sign-in")

    def failures(self, uid: str) -> tuple[int, float]:
        with _translated(), self.engine.connect() as conn:
            row = conn.execute(select(auth_failures.c.count, auth_failures.c.last_at)
                               .where(auth_failures.c.uid == uid)).first()
        return (0, 0.0) if row is None else (int(row[0]), float(row[1]))

    def reset_failures(self, uid: str) -> None:
        with _translated(), self.engine.begin() as conn:
            conn.execute(auth_failures.delete().where(auth_failures.c.uid == uid))

    # -- GrantStore ---------------------------------------------------------------------

    def add_grant(self, grant: TemporaryGrant) -> None:
        with _translated(), self.engine.begin() as conn:
            conn.execute(insert(grants).values(**_grant_row(grant)))
        self._load_grants()

    def list_grants(self, uid: str | None = None) -> list[TemporaryGrant]:
        query = select(grants).order_by(grants.c.starts_at, grants.c.id)
        if uid is not None:
            query = query.where(grants.c.uid == uid)
        with _translated(), self.engine.connect() as conn:
            return [TemporaryGrant(**row) for row in conn.execute(query).mappings()]

    def active_roles(self, uid: str, at: float) -> frozenset[str]:
        if time.monotonic() - self._grants_loaded_at > self._refresh_s:
            self._load_grants()
        mine = self._grants.get(uid)
        if not mine:
            return frozenset()
        return frozenset(g.role for g in mine if g.starts_at <= at < g.expires_at)

    def _load_grants(self) -> None:
        with self._grants_lock, _translated(), self.engine.connect() as conn:
            rows = conn.execute(select(grants)).mappings()
            by_uid: dict[str, list[TemporaryGrant]] = {}
            for row in rows:
                by_uid.setdefault(row["uid"], []).append(TemporaryGrant(**row))
            self._grants = {uid: tuple(gs) for uid, gs in by_uid.items()}
            self._grants_loaded_at = time.monotonic()


def _grant_row(grant: TemporaryGrant) -> dict[str, Any]:
    return {f: getattr(grant, f) for f in TemporaryGrant.__dataclass_fields__}


class _translated:
    """Turn SQLAlchemy errors into ``StoreUnavailable`` at the adapter boundary."""

    def __enter__(self) -> None:
        return None

    def __exit__(self, exc_type: Any, exc: BaseException | None, _tb: Any) -> None:
        if isinstance(exc, SQLAlchemyError):
            raise StoreUnavailable(f"store error: {type(exc).__name__}") from exc


def seed_consents(store: SqlStore, records: Iterable[tuple[str, str]], at: float) -> int:
    count = 0
    for customer_id, purpose in records:
        store.record_consent(customer_id, purpose, at)
        count += 1
    return count
