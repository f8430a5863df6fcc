"""The store's contract, run against every backend: SQLite in tests/unit, PostgreSQL in
tests/integration. A backend's test class subclasses :class:`StoreContract` and provides the
``store_url`` fixture: the URL of an empty database (or schema) nobody else uses."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, select

from guardian.adapters import sql_migrations
from guardian.adapters.memory import MemoryDirectory
from guardian.adapters.sql_api_keys import SqlApiKeys
from guardian.adapters.sql_mfa import SqlMfaStore, WebAuthnCredential
from guardian.adapters.sql_store import (
    SqlStore,
    TemporaryGrant,
    make_engine,
    metadata,
    seed_consents,
    totp_enrolments,
)
from guardian.clock import ManualClock
from guardian.errors import (
    AccountLocked,
    ConfigurationError,
    InvalidCredentials,
    StoreUnavailable,
)
from guardian.governance.model import ApiKeyRecord
from guardian.identity.principal import Principal
from guardian.identity.sealing import Sealer
from guardian.identity.sessions import LockoutPolicy, SessionService
from guardian.identity.tokens import TokenSigner
from guardian.identity.totp import code_at

AT = 1_790_000_000.0
SEED = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
SEALER = Sealer(b"s" * 32)


def _grant(gid: str, role: str, starts_at: float, expires_at: float) -> TemporaryGrant:
    return TemporaryGrant(gid, "alice", role, starts_at, expires_at, "INC-1", "ivan")


class _Passwords:
    def verify_password(self, uid: str, password: str) -> bool:
        return password == f"{uid}-pass"


class _Seeds:
    def totp_secret(self, uid: str) -> str | None:
        return SEED


class StoreContract:
    """Every test here must pass on every backend."""

    @pytest.fixture
    def engine(self, store_url: str) -> Iterator[Engine]:
        engine = make_engine(store_url)
        sql_migrations.upgrade(engine)
        yield engine
        engine.dispose()

    @pytest.fixture
    def worker2(self, store_url: str, engine: Engine) -> Iterator[Engine]:
        """A second engine on the same database: another API worker or replica."""
        other = make_engine(store_url)
        yield other
        other.dispose()

    @pytest.fixture
    def store(self, engine: Engine) -> SqlStore:
        return SqlStore(engine)

    @pytest.fixture
    def mfa(self, engine: Engine) -> SqlMfaStore:
        return SqlMfaStore(engine, SEALER)

    # -- schema -------------------------------------------------------------------------

    def test_the_migrations_build_exactly_the_declared_schema(self, engine: Engine) -> None:
        assert sql_migrations.current(engine) == sql_migrations.head()
        with engine.connect() as conn:
            assert compare_metadata(MigrationContext.configure(conn), metadata) == []

    def test_upgrading_an_up_to_date_database_changes_nothing(
        self, engine: Engine, store: SqlStore
    ) -> None:
        store.record_consent("C-1", "marketing", AT)

        assert sql_migrations.upgrade(engine) == sql_migrations.head()
        assert store.without_consent(["C-1"], "marketing") == ()

    # -- consents -----------------------------------------------------------------------

    def test_without_consent_returns_the_unconsented_customers_in_order_once_each(
        self, store: SqlStore
    ) -> None:
        seed_consents(store, [("C-1", "marketing"), ("C-3", "marketing"), ("C-2", "billing")],
                      AT)

        missing = store.without_consent(["C-2", "C-1", "C-4", "C-2", "C-3", "C-5", "C-4"],
                                        "marketing")

        assert missing == ("C-2", "C-4", "C-5")

    def test_without_consent_is_empty_when_all_consented_or_none_asked(
        self, store: SqlStore
    ) -> None:
        seed_consents(store, [("C-1", "marketing"), ("C-2", "marketing")], AT)

        assert store.without_consent(["C-1", "C-2", "C-1"], "marketing") == ()
        assert store.without_consent([], "marketing") == ()

    def test_a_consent_counts_only_for_its_purpose(self, store: SqlStore) -> None:
        store.record_consent("C-1", "marketing", AT)

        assert store.without_consent(["C-1"], "profiling") == ("C-1",)

    def test_recording_a_consent_twice_is_harmless(self, store: SqlStore) -> None:
        assert not store.has_consents()

        store.record_consent("C-1", "marketing", AT)
        store.record_consent("C-1", "marketing", AT + 1)

        assert store.has_consents()
        assert store.without_consent(["C-1", "C-2"], "marketing") == ("C-2",)

    # -- one-time codes and failures ----------------------------------------------------

    def test_a_time_step_can_be_claimed_once_per_user(self, store: SqlStore) -> None:
        assert store.claim("alice", 100, AT)
        assert not store.claim("alice", 100, AT + 1)
        assert store.claim("alice", 101, AT + 1)
        assert store.claim("bob", 100, AT + 1)

    def test_a_claim_is_still_refused_while_its_code_could_be_valid(
        self, store: SqlStore
    ) -> None:
        store.claim("alice", 100, AT)

        assert not store.claim("alice", 100, AT + 300)

    def test_failures_are_counted_per_user_with_the_time_of_the_last_one(
        self, store: SqlStore
    ) -> None:
        assert store.failures("alice") == (0, 0.0)

        counts = [store.record_failure("alice", AT + n) for n in range(3)]
        store.record_failure("bob", AT + 10)

        assert counts == [1, 2, 3]
        assert store.failures("alice") == (3, AT + 2)
        assert store.failures("bob") == (1, AT + 10)

    def test_resetting_failures_starts_the_count_again(self, store: SqlStore) -> None:
        store.record_failure("alice", AT)
        store.record_failure("alice", AT + 1)

        store.reset_failures("alice")

        assert store.failures("alice") == (0, 0.0)
        assert store.record_failure("alice", AT + 2) == 1
        store.reset_failures("nobody")  # resetting a user without failures is harmless

    def test_parallel_failed_sign_ins_are_all_counted(self, store: SqlStore) -> None:
        barrier = threading.Barrier(8)

        def fail() -> None:
            barrier.wait()
            store.record_failure("alice", 1.0)

        threads = [threading.Thread(target=fail) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        store.record_failure("alice", 2.0)
        assert store.failures("alice") == (9, 2.0)

    def test_a_code_used_on_one_worker_is_refused_on_another(
        self, store: SqlStore, worker2: Engine
    ) -> None:
        other = SqlStore(worker2)

        assert store.claim("alice", 500, AT)
        assert not other.claim("alice", 500, AT + 1)
        assert other.claim("alice", 501, AT + 30)
        assert not store.claim("alice", 501, AT + 31)

    def test_two_workers_count_failures_together_and_both_lock_the_account(
        self, store: SqlStore, worker2: Engine
    ) -> None:
        clock = ManualClock(AT + 10)
        directory = MemoryDirectory([Principal("alice", "Alice", frozenset({"billing"}))])

        def worker(ledger: SqlStore) -> SessionService:
            return SessionService(directory, _Passwords(), _Seeds(), ledger,
                                  TokenSigner(b"k" * 32), clock,
                                  lockout=LockoutPolicy(4, 60.0, 3600.0))

        first, second = worker(store), worker(SqlStore(worker2))
        for service in (first, second, first, second):
            with pytest.raises(InvalidCredentials):
                service.sign_in("alice", "wrong", "000000")

        right = code_at(SEED, clock.now())
        for service in (first, second):
            with pytest.raises(AccountLocked):
                service.sign_in("alice", "alice-pass", right)
        clock.advance(61)
        assert second.sign_in("alice", "alice-pass", code_at(SEED, clock.now())).claims.amr
        with pytest.raises(InvalidCredentials):  # the code just used, replayed on worker 1
            first.sign_in("alice", "alice-pass", code_at(SEED, clock.now()))

    # -- grants -------------------------------------------------------------------------

    def test_a_temporary_grant_is_active_from_its_start_until_just_before_its_expiry(
        self, store: SqlStore
    ) -> None:
        # The grant snapshot keeps grants unexpired by the wall clock: the window lies ahead.
        start = time.time() + 3600
        store.add_grant(_grant("g1", "billing", start, start + 600))

        assert store.active_roles("alice", start - 0.001) == frozenset()
        assert store.active_roles("alice", start) == {"billing"}
        assert store.active_roles("alice", start + 599.999) == {"billing"}
        assert store.active_roles("alice", start + 600) == frozenset()
        assert store.active_roles("bob", start) == frozenset()

    def test_overlapping_grants_give_every_role_active_at_the_time(
        self, store: SqlStore
    ) -> None:
        start = time.time() + 3600
        store.add_grant(_grant("g1", "billing", start, start + 600))
        store.add_grant(_grant("g2", "fraud-analyst", start + 300, start + 900))

        assert store.active_roles("alice", start + 100) == {"billing"}
        assert store.active_roles("alice", start + 400) == {"billing", "fraud-analyst"}
        assert store.active_roles("alice", start + 700) == {"fraud-analyst"}

    def test_a_grant_written_by_another_replica_is_seen_after_the_refresh_period(
        self, store: SqlStore, worker2: Engine
    ) -> None:
        reader = SqlStore(worker2, grants_refresh_s=0.0)
        start = time.time() + 3600
        assert reader.active_roles("alice", start) == frozenset()

        store.add_grant(_grant("g1", "billing", start, start + 600))

        assert reader.active_roles("alice", start) == {"billing"}

    def test_grants_are_judged_at_the_time_asked_not_the_wall_clock(
        self, store: SqlStore
    ) -> None:
        past_start = 1_700_000_000.0  # 2023: long expired by the wall clock
        store.add_grant(_grant("g-old", "billing", past_start, past_start + 3600))
        assert store.active_roles("alice", past_start + 60) == frozenset({"billing"})

    def test_grants_are_listed_by_start_for_everyone_or_one_user(self, store: SqlStore) -> None:
        store.add_grant(_grant("g2", "fraud-analyst", AT + 60, AT + 600))
        store.add_grant(_grant("g1", "billing", AT, AT + 600))
        store.add_grant(TemporaryGrant("g3", "bob", "billing", AT + 30, AT + 90, "INC-2", "ivan"))

        assert [g.id for g in store.list_grants()] == ["g1", "g3", "g2"]
        assert store.list_grants("bob") == [
            TemporaryGrant("g3", "bob", "billing", AT + 30, AT + 90, "INC-2", "ivan")]
        assert store.list_grants("nobody") == []

    # -- TOTP enrolments and recovery codes ---------------------------------------------

    def test_a_pending_seed_is_not_a_second_factor_until_activated(
        self, mfa: SqlMfaStore
    ) -> None:
        mfa.begin_totp("oscar", SEED, [], AT)

        assert mfa.pending_totp("oscar") == SEED
        assert mfa.totp_secret("oscar") is None
        assert mfa.activate_totp("oscar", AT + 30)
        assert mfa.totp_secret("oscar") == SEED
        assert mfa.pending_totp("oscar") is None
        assert not mfa.activate_totp("oscar", AT + 60)  # nothing pending any more

    def test_seeds_are_stored_sealed_and_bound_to_their_user(
        self, mfa: SqlMfaStore, engine: Engine
    ) -> None:
        mfa.begin_totp("oscar", SEED, [], AT)
        mfa.activate_totp("oscar", AT)

        with engine.connect() as conn:
            stored = conn.execute(select(totp_enrolments.c.sealed_seed)).scalar_one()
        assert SEED not in stored and stored.startswith("v1:")
        assert SqlMfaStore(engine, Sealer(b"s" * 32)).totp_secret("oscar") == SEED
        with engine.begin() as conn:  # the same sealed seed copied onto another account
            conn.execute(totp_enrolments.insert().values(
                id="copy", uid="mallory", sealed_seed=stored, state="active", created_at=AT))
        with pytest.raises(ConfigurationError, match="does not open"):
            mfa.totp_secret("mallory")

    def test_activating_a_new_seed_replaces_the_old_one_and_its_recovery_codes(
        self, mfa: SqlMfaStore
    ) -> None:
        mfa.begin_totp("oscar", SEED, ["old-1", "old-2"], AT)
        mfa.activate_totp("oscar", AT)
        mfa.begin_totp("oscar", "NEWSEEDNEWSEEDNEWSEEDNEWSEEDNEWS", ["new-1"], AT + 10)

        assert mfa.totp_secret("oscar") == SEED  # the old one works until the new is active
        assert mfa.use_recovery_code("oscar", "old-1", AT + 20)
        assert not mfa.use_recovery_code("oscar", "new-1", AT + 20)  # pending: not yet

        assert mfa.activate_totp("oscar", AT + 30)
        assert mfa.totp_secret("oscar") == "NEWSEEDNEWSEEDNEWSEEDNEWSEEDNEWS"
        assert not mfa.use_recovery_code("oscar", "old-2", AT + 40)
        assert mfa.use_recovery_code("oscar", "new-1", AT + 40)

    def test_starting_again_forgets_the_previous_pending_seed(self, mfa: SqlMfaStore) -> None:
        mfa.begin_totp("oscar", SEED, ["a"], AT)
        mfa.begin_totp("oscar", "SECONDSEEDSECONDSEEDSECONDSEED22", ["b"], AT + 5)
        mfa.activate_totp("oscar", AT + 10)

        assert mfa.totp_secret("oscar") == "SECONDSEEDSECONDSEEDSECONDSEED22"
        assert not mfa.use_recovery_code("oscar", "a", AT + 20)
        assert mfa.recovery_codes_left("oscar") == 1

    def test_a_recovery_code_serves_once_for_its_own_user_only(
        self, mfa: SqlMfaStore, worker2: Engine
    ) -> None:
        mfa.begin_totp("oscar", SEED, ["d1", "d2"], AT)
        mfa.activate_totp("oscar", AT)
        other_worker = SqlMfaStore(worker2, SEALER)

        assert not mfa.use_recovery_code("mallory", "d1", AT)
        assert mfa.use_recovery_code("oscar", "d1", AT)
        assert not other_worker.use_recovery_code("oscar", "d1", AT + 1)
        assert not mfa.use_recovery_code("oscar", "unknown", AT + 1)
        assert mfa.recovery_codes_left("oscar") == 1

    # -- WebAuthn -----------------------------------------------------------------------

    def test_a_challenge_serves_once_even_across_workers(
        self, mfa: SqlMfaStore, worker2: Engine
    ) -> None:
        mfa.put_challenge("alice", "authenticate", "c1", AT + 300)
        other_worker = SqlMfaStore(worker2, SEALER)

        assert other_worker.take_challenge("alice", "authenticate", AT) == "c1"
        assert mfa.take_challenge("alice", "authenticate", AT) is None

    def test_a_new_challenge_replaces_the_outstanding_one_and_an_old_one_expires(
        self, mfa: SqlMfaStore
    ) -> None:
        mfa.put_challenge("alice", "register", "c1", AT + 300)
        mfa.put_challenge("alice", "register", "c2", AT + 300)
        mfa.put_challenge("alice", "authenticate", "c3", AT + 300)

        assert mfa.take_challenge("alice", "register", AT) == "c2"
        assert mfa.take_challenge("alice", "authenticate", AT + 300) is None  # expired
        assert mfa.take_challenge("bob", "register", AT) is None

    def test_credentials_are_kept_per_user_and_registered_once(self, mfa: SqlMfaStore) -> None:
        key = WebAuthnCredential("cred-1", "alice", "pk", 0, AT)

        assert mfa.add_credential(key)
        assert not mfa.add_credential(WebAuthnCredential("cred-1", "bob", "pk2", 0, AT))
        assert mfa.credentials("alice") == [key]
        assert mfa.credentials("bob") == []
        assert mfa.credential("cred-1") == key
        assert mfa.credential("nope") is None

    def test_the_signature_counter_advances_only_from_the_value_seen(
        self, mfa: SqlMfaStore
    ) -> None:
        mfa.add_credential(WebAuthnCredential("cred-1", "alice", "pk", 5, AT))

        assert mfa.advance_sign_count("cred-1", 5, 6, AT + 1)
        assert not mfa.advance_sign_count("cred-1", 5, 7, AT + 2)  # someone else moved it
        stored = mfa.credential("cred-1")
        assert stored is not None and (stored.sign_count, stored.last_used_at) == (6, AT + 1)

    # -- API keys -----------------------------------------------------------------------

    def test_an_api_key_names_its_application_until_it_is_revoked(self, engine: Engine) -> None:
        keys = SqlApiKeys(engine)
        keys.add_key(ApiKeyRecord("k1", "crm-web", AT, "ivan"), _sha("secret-1"))
        keys.add_key(ApiKeyRecord("k2", "billing", AT + 1, "ivan"), _sha("secret-2"))

        assert keys.application_for("secret-1") == "crm-web"
        assert keys.application_for("nope") is None
        revoked = keys.revoke_key("k1", AT + 5)

        assert revoked == ApiKeyRecord("k1", "crm-web", AT, "ivan", AT + 5)
        assert keys.application_for("secret-1") is None
        assert keys.application_for("secret-2") == "billing"
        assert keys.revoke_key("k1", AT + 6) is None  # already revoked
        assert [(k.id, k.active) for k in keys.list_keys()] == [("k1", False), ("k2", True)]

    def test_a_key_revoked_on_another_replica_stops_working_after_the_refresh_period(
        self, engine: Engine, worker2: Engine
    ) -> None:
        here = SqlApiKeys(engine, refresh_s=0.0)
        there = SqlApiKeys(worker2)
        there.add_key(ApiKeyRecord("k1", "crm-web", AT, "ivan"), _sha("secret-1"))
        assert here.application_for("secret-1") == "crm-web"

        there.revoke_key("k1", AT + 1)

        assert here.application_for("secret-1") is None

    def test_the_clear_key_is_never_stored(self, engine: Engine) -> None:
        SqlApiKeys(engine).add_key(ApiKeyRecord("k1", "crm", AT, "ivan"), _sha("secret-xyz"))
        with engine.connect() as conn:
            rows = [tuple(r) for r in conn.execute(select(metadata.tables["api_keys"]))]
        assert "secret-xyz" not in repr(rows)


    # -- report archive -----------------------------------------------------------------

    def test_reports_are_kept_byte_for_byte_and_listed_newest_first(self, engine: Engine
                                                                    ) -> None:
        from guardian.adapters.sql_reports import SqlReportArchive
        from guardian.reports.archive import ArchivedReport

        archive = SqlReportArchive(engine)
        made = [ArchivedReport(f"01R{i}", "periodic", "2026-11-01", "2026-12-01", AT + i,
                               "judy", f"{i:064x}", "sig", b'{"a": "\xc3\xa9"}')
                for i in range(3)]
        for report in made:
            archive.add_report(report)

        assert archive.get_report("01R1") == made[1]
        assert archive.get_report("nope") is None
        assert [r.id for r in archive.list_reports(None, 2)] == ["01R2", "01R1"]
        assert [r.id for r in archive.list_reports("01R1", 2)] == ["01R0"]
        with pytest.raises(StoreUnavailable):
            archive.add_report(made[0])  # write-once: an id is never replaced


def _sha(key: str) -> str:
    import hashlib

    return hashlib.sha256(key.encode()).hexdigest()
