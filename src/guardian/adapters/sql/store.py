"""The store (one-time-code ledger, temporary grants) on SQLAlchemy Core.

One schema for SQLite (the embedded default) and PostgreSQL (``GUARDIAN_DATABASE_URL``),
declared here on :data:`metadata` (also the tables of ``sql_mfa``, ``sql_api_keys`` and
``sql_consents``) and created by the Alembic migrations in ``migrations/`` (``sql_migrations``).
Vendor errors are translated to :class:`~guardian.errors.StoreUnavailable` at this boundary.
Every call here blocks on the database: decisions read temporary grants from a ``GrantView``
(``guardian.governance.views``) that the grant service and the change feed keep current.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Engine,
    Float,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    case,
    create_engine,
    event,
    insert,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError

from guardian.adapters.sql.errors import translated
from guardian.governance.model import TemporaryGrant
from guardian.identity.lockout import LockoutPolicy

metadata = MetaData()

# Consent (guardian.adapters.sql.consents): every change kept, and the latest per purpose.
consent_changes = Table(
    "consent_changes", metadata,
    Column("id", BigInteger().with_variant(Integer(), "sqlite"), primary_key=True,
           autoincrement=True),
    Column("customer_id", String(128), nullable=False, index=True),
    Column("purpose", String(128), nullable=False),
    Column("granted", Boolean, nullable=False),
    Column("at", Float, nullable=False),
    Column("recorded_at", Float, nullable=False),
    Column("source", String(256), nullable=False),
    Column("actor", String(128), nullable=False),
    Column("key_id", String(64), nullable=True),
)
consent_states = Table(
    "consent_states", metadata,
    Column("customer_id", String(128), primary_key=True),
    Column("purpose", String(128), primary_key=True),
    Column("granted", Boolean, nullable=False),
    Column("at", Float, nullable=False),
    Column("change_id", BigInteger, nullable=False),
)
otp_claims = Table(
    "otp_claims", metadata,
    Column("uid", String(128), primary_key=True),
    Column("timestep", Integer, primary_key=True),
    Column("used_at", Float, nullable=False),
)
# Sign-in attempts under opaque keys (guardian.identity.attempts): one person from one address,
# one address, one person; unknown user ids only as keyed digests. Forgotten after a window.
auth_attempts = Table(
    "auth_attempts", metadata,
    Column("attempt_key", String(256), primary_key=True),
    Column("attempts", Integer, nullable=False),
    Column("last_at", Float, nullable=False, index=True),
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
    Column("revoked_at", Float, nullable=True),
    Column("revoked_by", String(128), nullable=True),
    Column("revoke_reason", String(1024), nullable=True),
)
# Second factors (guardian.adapters.sql.mfa): at most one pending and one active TOTP seed per
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
# Invitations to enrol a first second factor (guardian.identity.invitations), by keyed digest.
mfa_invitations = Table(
    "mfa_invitations", metadata,
    Column("digest", String(64), primary_key=True),
    Column("uid", String(128), nullable=False, index=True),
    Column("created_by", String(128), nullable=False),
    Column("created_at", Float, nullable=False),
    Column("expires_at", Float, nullable=False),
    Column("used_at", Float, nullable=True),
)
# Application API keys (guardian.adapters.sql.api_keys), by SHA-256 only.
api_keys = Table(
    "api_keys", metadata,
    Column("id", String(32), primary_key=True),
    Column("name", String(128), nullable=False),
    Column("key_sha256", String(64), nullable=False),
    Column("created_at", Float, nullable=False),
    Column("created_by", String(128), nullable=False),
    Column("revoked_at", Float, nullable=True),
    Column("scopes", String(64), nullable=False, server_default="decide"),
    UniqueConstraint("key_sha256", name="uq_api_keys_key_sha256"),
)
# Keys of the applications file revoked in Guardian (the file itself is never rewritten).
file_key_revocations = Table(
    "file_key_revocations", metadata,
    Column("key_sha256", String(64), primary_key=True),
    Column("name", String(128), nullable=False),
    Column("revoked_at", Float, nullable=False),
)

# Signed periodic reports (guardian.adapters.sql.reports): the JSON as signed, write-once.
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

report_deliveries = Table(
    "report_deliveries", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("report_id", String(32), nullable=False, index=True),
    Column("channel", String(16), nullable=False),
    Column("recipients", Integer, nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("at", Float, nullable=False),
    Column("error", Text, nullable=True),
)

# The embedded change feed (guardian.adapters.sql.changes_table): what changed, for other processes
# on this machine to re-read; rows older than a few minutes are pruned.
changes = Table(
    "changes", metadata,
    Column("id", BigInteger().with_variant(Integer(), "sqlite"), primary_key=True,
           autoincrement=True),
    Column("kind", String(32), nullable=False),
    Column("key", String(200), nullable=False),
    Column("origin", String(64), nullable=False),
    Column("at", Float, nullable=False, index=True),
)

# Access reviews (guardian.adapters.sql.reviews): each record whole as a JSON document beside
# the columns it is searched by; revocations are what decisions must no longer count.
review_campaigns = Table(
    "review_campaigns", metadata,
    Column("id", String(32), primary_key=True),
    Column("definition", String(64), nullable=False),
    Column("state", String(32), nullable=False, index=True),
    Column("opened_at", Float, nullable=False),
    Column("doc", Text, nullable=False),
)
review_items = Table(
    "review_items", metadata,
    Column("id", String(32), primary_key=True),
    Column("campaign_id", String(32), nullable=False, index=True),
    Column("reviewer", String(128), nullable=True, index=True),
    Column("decision", String(16), nullable=True),
    Column("defaulted", Boolean, nullable=False),
    Column("doc", Text, nullable=False),
    Index("ix_review_items_reviewer_id", "reviewer", "id"),
    Index("ix_review_items_campaign_id_id", "campaign_id", "id"),
)
review_revocations = Table(
    "review_revocations", metadata,
    Column("item_id", String(32), primary_key=True),
    Column("uid", String(128), nullable=False),
    Column("role", String(128), nullable=False),
    Column("campaign_id", String(32), nullable=False),
    Column("at", Float, nullable=False),
    Column("ended_at", Float, nullable=True),
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


def _dialect_insert(engine: Engine) -> Any:
    """``INSERT … ON CONFLICT`` of the engine's dialect (the same API on both)."""
    return postgresql.insert if engine.dialect.name == "postgresql" else sqlite.insert


class SqlStore:
    """Implements ``OtpLedger`` and ``GrantRegistry``."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def create_schema(self) -> None:
        """Bring the schema to the latest Alembic revision (see ``sql_migrations``)."""
        from guardian.adapters.sql.alembic_runner import upgrade

        upgrade(self.engine)

    # -- OtpLedger ----------------------------------------------------------------------

    def claim(self, uid: str, timestep: int, at: float) -> bool:
        with translated(), self.engine.begin() as conn:
            conn.execute(otp_claims.delete().where(otp_claims.c.used_at < at - _CLAIM_RETENTION_S))
            try:
                with conn.begin_nested():
                    conn.execute(insert(otp_claims).values(uid=uid, timestep=timestep, used_at=at))
            except IntegrityError:
                return False
        return True

    def reserve_attempt(self, key: str, at: float, policy: LockoutPolicy) -> int | None:
        # One statement: insert the first attempt, or count one more unless locked, so that
        # concurrent attempts on every worker are all counted and at most the limit pass.
        row = auth_attempts.c
        forgotten = row.last_at + policy.forget_after_s <= at
        over = row.attempts - policy.max_failures
        lock = case({i: p for i, p in enumerate(policy.lock_steps())}, value=over,
                    else_=policy.max_lock_s) if policy.lock_steps() else literal(policy.max_lock_s)
        upsert = _dialect_insert(self.engine)(auth_attempts).values(
            attempt_key=key, attempts=1, last_at=at)
        statement = upsert.on_conflict_do_update(
            index_elements=[row.attempt_key],
            set_={"attempts": case((forgotten, 1), else_=row.attempts + 1), "last_at": at},
            where=or_(row.attempts < policy.max_failures, row.last_at + lock <= at, forgotten),
        ).returning(row.attempts)
        with translated(), self.engine.begin() as conn:
            counted = conn.execute(statement).first()
        return None if counted is None else int(counted[0])

    def attempts(self, key: str, at: float, policy: LockoutPolicy) -> int:
        with translated(), self.engine.connect() as conn:
            row = conn.execute(select(auth_attempts.c.attempts, auth_attempts.c.last_at)
                               .where(auth_attempts.c.attempt_key == key)).first()
        if row is None or float(row[1]) + policy.forget_after_s <= at:
            return 0
        return int(row[0])

    def release_attempts(self, key: str) -> None:
        with translated(), self.engine.begin() as conn:
            conn.execute(auth_attempts.delete().where(auth_attempts.c.attempt_key == key))

    def refund_attempt(self, key: str) -> None:
        with translated(), self.engine.begin() as conn:
            conn.execute(update(auth_attempts).where(
                auth_attempts.c.attempt_key == key, auth_attempts.c.attempts > 0,
            ).values(attempts=auth_attempts.c.attempts - 1))

    def purge_attempts(self, before: float) -> int:
        with translated(), self.engine.begin() as conn:
            done = conn.execute(auth_attempts.delete().where(auth_attempts.c.last_at < before))
        return int(done.rowcount or 0)

    # -- GrantRegistry ------------------------------------------------------------------

    def add_grant(self, grant: TemporaryGrant) -> None:
        with translated(), self.engine.begin() as conn:
            conn.execute(insert(grants).values(**_grant_row(grant)))

    def active_grants(self) -> list[TemporaryGrant]:
        query = select(grants).where(grants.c.revoked_at.is_(None))
        with translated(), self.engine.connect() as conn:
            return [TemporaryGrant(**row) for row in conn.execute(query).mappings()]

    def list_grants(self, uid: str | None = None) -> list[TemporaryGrant]:
        query = select(grants).order_by(grants.c.starts_at, grants.c.id)
        if uid is not None:
            query = query.where(grants.c.uid == uid)
        with translated(), self.engine.connect() as conn:
            return [TemporaryGrant(**row) for row in conn.execute(query).mappings()]

    def get_grant(self, grant_id: str) -> TemporaryGrant | None:
        with translated(), self.engine.connect() as conn:
            row = conn.execute(select(grants).where(grants.c.id == grant_id)).mappings().first()
        return None if row is None else TemporaryGrant(**row)

    def revoke_grant(self, grant_id: str, at: float, by: str, reason: str
                     ) -> TemporaryGrant | None:
        """Mark the grant revoked; ``None`` if there is no such grant not yet revoked."""
        change = (update(grants).where(grants.c.id == grant_id, grants.c.revoked_at.is_(None))
                  .values(revoked_at=at, revoked_by=by, revoke_reason=reason)
                  .returning(*grants.c))
        with translated(), self.engine.begin() as conn:
            row = conn.execute(change).mappings().first()
        return None if row is None else TemporaryGrant(**row)


def _grant_row(grant: TemporaryGrant) -> dict[str, Any]:
    return {f: getattr(grant, f) for f in TemporaryGrant.__dataclass_fields__}


policy_versions = Table(
    "policy_versions", metadata,
    Column("id", BigInteger().with_variant(Integer(), "sqlite"), primary_key=True,
           autoincrement=True),
    Column("version", String(80), nullable=False, unique=True),
    Column("previous", String(80), nullable=True),
    Column("applied_at", Float, nullable=False),
    Column("applied_by", String(128), nullable=False),
    Column("model", Text, nullable=False),
    Column("rules", Text, nullable=False),
    Column("settings", Text, nullable=False),
)
