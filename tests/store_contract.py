"""The store's contract, run against every backend: SQLite in tests/unit, PostgreSQL in
tests/integration. A backend's test class subclasses :class:`StoreContract` and provides the
``store_url`` fixture: the URL of an empty database (or schema) nobody else uses."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, select, text

from consent_store_contract import ConsentStoreContract, change
from guardian.adapters.files.applications import FileApplications
from guardian.adapters.memory.ports import MemoryDirectory
from guardian.adapters.sql import alembic_runner as sql_migrations
from guardian.adapters.sql.api_keys import SqlApiKeys
from guardian.adapters.sql.consents import SqlConsents
from guardian.adapters.sql.mfa import SqlMfaStore
from guardian.adapters.sql.store import (
    SqlStore,
    make_engine,
    metadata,
    totp_enrolments,
)
from guardian.clock import ManualClock
from guardian.errors import (
    AccountLocked,
    ConfigurationError,
    InvalidCredentials,
    StoreUnavailable,
)
from guardian.governance.model import ApiKeyRecord, KeySource, TemporaryGrant
from guardian.governance.views import GrantView, KeyView
from guardian.identity.principal import Principal
from guardian.identity.sealing import Sealer
from guardian.identity.security_keys import WebAuthnCredential
from guardian.identity.sessions import LockoutPolicy, SessionService
from guardian.identity.tokens import TokenSigner
from guardian.identity.totp import code_at
from policy_versions_contract import PolicyVersionsContract
from review_store_contract import ReviewStoreContract

AT = 1_790_000_000.0
DEMO_APPLICATIONS = Path(__file__).resolve().parent.parent / "policies/demo/applications.yaml"
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


class StoreContract(ConsentStoreContract, ReviewStoreContract, PolicyVersionsContract):
    """Every test here (and of the mixed-in contracts) must pass on every backend."""

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

    def test_upgrading_an_up_to_date_database_changes_nothing(self, engine: Engine) -> None:
        consents = SqlConsents(engine)
        consents.record_change(change("C-1", True))

        assert sql_migrations.upgrade(engine) == sql_migrations.head()
        assert [s.customer_id for s in consents.consent_states() if s.granted] == ["C-1"]

    def test_grants_made_before_revocation_existed_survive_the_migration_unrevoked(
        self, store_url: str
    ) -> None:
        engine = make_engine(store_url)
        try:
            sql_migrations.upgrade(engine, "0002")
            with engine.begin() as conn:
                conn.execute(text(
                    "INSERT INTO grants (id, uid, role, starts_at, expires_at, reason, "
                    "granted_by) VALUES ('g0', 'alice', 'billing', 1.0, 2.0, 'INC-0', 'ivan')"))
            sql_migrations.upgrade(engine)
            assert SqlStore(engine).list_grants() == [
                TemporaryGrant("g0", "alice", "billing", 1.0, 2.0, "INC-0", "ivan")]
        finally:
            engine.dispose()

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

    def test_attempts_are_counted_per_key_and_a_success_forgets_them(
        self, store: SqlStore
    ) -> None:
        policy = LockoutPolicy(5, 60.0, 3600.0)
        assert store.attempts("user:alice", AT, policy) == 0

        counts = [store.reserve_attempt("user:alice", AT + n, policy) for n in range(3)]
        store.reserve_attempt("user:bob", AT + 10, policy)

        assert counts == [1, 2, 3]
        assert store.attempts("user:alice", AT + 3, policy) == 3
        assert store.attempts("user:bob", AT + 11, policy) == 1
        store.refund_attempt("user:alice")
        assert store.attempts("user:alice", AT + 3, policy) == 2
        store.release_attempts("user:alice")
        assert store.attempts("user:alice", AT + 3, policy) == 0
        assert store.reserve_attempt("user:alice", AT + 4, policy) == 1
        store.release_attempts("nobody")  # releasing a key without attempts is harmless

    def test_a_locked_key_counts_nothing_until_its_doubling_lock_ends(
        self, store: SqlStore
    ) -> None:
        policy = LockoutPolicy(3, 60.0, 3600.0)
        for n in range(3):
            assert store.reserve_attempt("k", AT + n, policy) == n + 1

        assert store.reserve_attempt("k", AT + 2 + 59, policy) is None
        assert store.attempts("k", AT + 61, policy) == 3  # refusals are not counted
        assert store.reserve_attempt("k", AT + 2 + 60, policy) == 4  # lock over: one more
        assert store.reserve_attempt("k", AT + 62 + 119, policy) is None  # now 120 s
        assert store.reserve_attempt("k", AT + 62 + 120, policy) == 5

    def test_a_quiet_key_starts_again_and_old_counters_are_purged(
        self, store: SqlStore
    ) -> None:
        policy = LockoutPolicy(3, 60.0, 600.0, window_s=900.0)
        for n in range(3):
            store.reserve_attempt("k", AT + n, policy)
        store.reserve_attempt("other", AT + 800, policy)

        assert store.attempts("k", AT + 2 + 900, policy) == 0
        assert store.reserve_attempt("k", AT + 2 + 900, policy) == 1
        assert store.purge_attempts(AT + 850) == 1  # "other"; "k" was just used
        assert store.attempts("k", AT + 903, policy) == 1

    def test_concurrent_wrong_sign_ins_check_at_most_the_limit(
        self, store: SqlStore
    ) -> None:
        # Finding 5: 32 concurrent wrong sign-ins for one user were all checked (limit 5).
        checked: list[str] = []

        class SlowPasswords:
            def verify_password(self, uid: str, password: str) -> bool:
                checked.append(uid)
                time.sleep(0.05)
                return False

        directory = MemoryDirectory([Principal("alice", "Alice", frozenset({"billing"}))])
        service = SessionService(directory, SlowPasswords(), _Seeds(), store,
                                 TokenSigner(b"k" * 32), ManualClock(AT),
                                 lockout=LockoutPolicy(5, 60.0, 3600.0))
        barrier = threading.Barrier(32)
        outcomes: list[str] = []

        def attempt() -> None:
            barrier.wait()
            try:
                service.sign_in("alice", "guess", "000000", source="10.9.9.9")
            except (InvalidCredentials, AccountLocked) as exc:
                outcomes.append(exc.code)

        threads = [threading.Thread(target=attempt) for _ in range(32)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()

        assert len(checked) <= 5
        assert outcomes.count("invalid_credentials") == len(checked)
        assert outcomes.count("account_locked") == 32 - len(checked)

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
                service.sign_in("alice", "wrong", "000000", source="10.1.1.1")

        right = code_at(SEED, clock.now())
        for service in (first, second):
            with pytest.raises(AccountLocked):
                service.sign_in("alice", "alice-pass", right, source="10.1.1.1")
        clock.advance(61)
        assert second.sign_in("alice", "alice-pass", code_at(SEED, clock.now()),
                              source="10.1.1.1").claims.amr
        with pytest.raises(InvalidCredentials):  # the code just used, replayed on worker 1
            first.sign_in("alice", "alice-pass", code_at(SEED, clock.now()), source="10.1.1.1")

    # -- grants -------------------------------------------------------------------------

    def test_a_temporary_grant_is_active_from_its_start_until_just_before_its_expiry(
        self, store: SqlStore
    ) -> None:
        start = time.time() + 3600
        store.add_grant(_grant("g1", "billing", start, start + 600))

        assert _roles(store, "alice", start - 0.001) == frozenset()
        assert _roles(store, "alice", start) == {"billing"}
        assert _roles(store, "alice", start + 599.999) == {"billing"}
        assert _roles(store, "alice", start + 600) == frozenset()
        assert _roles(store, "bob", start) == frozenset()

    def test_overlapping_grants_give_every_role_active_at_the_time(
        self, store: SqlStore
    ) -> None:
        start = time.time() + 3600
        store.add_grant(_grant("g1", "billing", start, start + 600))
        store.add_grant(_grant("g2", "fraud-analyst", start + 300, start + 900))

        assert _roles(store, "alice", start + 100) == {"billing"}
        assert _roles(store, "alice", start + 400) == {"billing", "fraud-analyst"}
        assert _roles(store, "alice", start + 700) == {"fraud-analyst"}

    def test_a_grant_written_by_another_replica_is_read_there(
        self, store: SqlStore, worker2: Engine
    ) -> None:
        reader = SqlStore(worker2)
        start = time.time() + 3600
        assert _roles(reader, "alice", start) == frozenset()

        store.add_grant(_grant("g1", "billing", start, start + 600))

        assert _roles(reader, "alice", start) == {"billing"}

    def test_grants_are_judged_at_the_time_asked_not_the_wall_clock(
        self, store: SqlStore
    ) -> None:
        past_start = 1_700_000_000.0  # 2023: long expired by the wall clock
        store.add_grant(_grant("g-old", "billing", past_start, past_start + 3600))
        assert _roles(store, "alice", past_start + 60) == frozenset({"billing"})

    def test_a_revoked_grant_is_no_longer_read_as_active(
        self, engine: Engine
    ) -> None:
        store = SqlStore(engine)
        start = time.time() - 60
        store.add_grant(_grant("g1", "billing", start, start + 3600))
        store.add_grant(_grant("g2", "fraud-analyst", start, start + 3600))
        assert _roles(store, "alice", start + 120) == {"billing", "fraud-analyst"}

        revoked = store.revoke_grant("g1", AT, "ivan", "left billing")

        assert revoked == TemporaryGrant("g1", "alice", "billing", start, start + 3600, "INC-1",
                                         "ivan", AT, "ivan", "left billing")
        assert _roles(store, "alice", start + 120) == {"fraud-analyst"}
        assert store.get_grant("g1") == revoked
        assert store.revoke_grant("g1", AT + 1, "peggy", "again") is None
        assert store.revoke_grant("nope", AT, "ivan", "x") is None
        assert store.get_grant("nope") is None
        assert [g.revoked for g in store.list_grants()] == [True, False]

    def test_a_grant_revoked_on_another_replica_is_no_longer_read_there(
        self, store: SqlStore, worker2: Engine
    ) -> None:
        reader = SqlStore(worker2)
        start = time.time() - 60
        store.add_grant(_grant("g1", "billing", start, start + 3600))
        assert _roles(reader, "alice", start + 120) == {"billing"}

        store.revoke_grant("g1", AT, "ivan", "no longer needed")

        assert _roles(reader, "alice", start + 120) == frozenset()

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

    # -- invitations to enrol ----------------------------------------------------------

    def test_an_invitation_serves_once_for_its_user_until_it_expires(
        self, mfa: SqlMfaStore, worker2: Engine
    ) -> None:
        mfa.add_invitation("oscar", "d1", "ivan", AT, AT + 600)
        other_worker = SqlMfaStore(worker2, SEALER)

        assert not mfa.use_invitation("mallory", "d1", AT + 1)
        assert not mfa.use_invitation("oscar", "d2", AT + 1)
        assert other_worker.use_invitation("oscar", "d1", AT + 1)
        assert not mfa.use_invitation("oscar", "d1", AT + 2)
        mfa.add_invitation("oscar", "d3", "ivan", AT, AT + 600)
        assert not mfa.use_invitation("oscar", "d3", AT + 600)  # expired

    def test_a_new_invitation_replaces_the_unused_one(self, mfa: SqlMfaStore) -> None:
        mfa.add_invitation("oscar", "d1", "ivan", AT, AT + 600)
        mfa.add_invitation("oscar", "d2", "ivan", AT + 1, AT + 601)

        assert not mfa.use_invitation("oscar", "d1", AT + 2)
        assert mfa.use_invitation("oscar", "d2", AT + 2)

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

        assert _application(keys, "secret-1") == "crm-web"
        assert _application(keys, "nope") is None
        revoked = keys.revoke_key("k1", AT + 5)

        assert revoked == ApiKeyRecord("k1", "crm-web", AT, "ivan", AT + 5)
        assert _application(keys, "secret-1") is None
        assert _application(keys, "secret-2") == "billing"
        assert keys.revoke_key("k1", AT + 6) is None  # already revoked
        assert [(k.id, k.active) for k in keys.list_keys()] == [("k1", False), ("k2", True)]

    def test_a_key_revoked_on_another_replica_is_no_longer_read_as_active(
        self, engine: Engine, worker2: Engine
    ) -> None:
        here = SqlApiKeys(engine)
        there = SqlApiKeys(worker2)
        there.add_key(ApiKeyRecord("k1", "crm-web", AT, "ivan"), _sha("secret-1"))
        assert _application(here, "secret-1") == "crm-web"

        there.revoke_key("k1", AT + 1)

        assert _application(here, "secret-1") is None

    def test_the_applications_file_keys_are_listed_and_revoked_in_the_store(
        self, engine: Engine, worker2: Engine
    ) -> None:
        here = SqlApiKeys(engine, FileApplications(DEMO_APPLICATIONS))
        there = SqlApiKeys(worker2, FileApplications(DEMO_APPLICATIONS))
        here.add_key(ApiKeyRecord("k1", "crm-web", AT, "ivan"), _sha("secret-1"))
        [file_key, store_key] = here.list_keys()
        assert (file_key.name, file_key.source, file_key.active) == ("demo-app", "file", True)
        assert (file_key.created_at, file_key.created_by) == (None, None)
        assert (store_key.id, store_key.source) == ("k1", "store")
        assert _application(there, "demo-app-key") == "demo-app"

        revoked = here.revoke_key(file_key.id, AT + 5)

        assert revoked == ApiKeyRecord(file_key.id, "demo-app", None, None, AT + 5,
                                       KeySource.FILE)
        assert _application(here, "demo-app-key") is None
        assert _application(there, "demo-app-key") is None
        assert _application(here, "secret-1") == "crm-web"
        assert [k.active for k in there.list_keys()] == [False, True]
        assert here.revoke_key(file_key.id, AT + 6) is None  # already revoked
        restarted = SqlApiKeys(engine, FileApplications(DEMO_APPLICATIONS))
        assert _application(restarted, "demo-app-key") is None

    def test_the_clear_key_is_never_stored(self, engine: Engine) -> None:
        SqlApiKeys(engine).add_key(ApiKeyRecord("k1", "crm", AT, "ivan"), _sha("secret-xyz"))
        with engine.connect() as conn:
            rows = [tuple(r) for r in conn.execute(select(metadata.tables["api_keys"]))]
        assert "secret-xyz" not in repr(rows)

    # -- report archive -----------------------------------------------------------------

    def test_reports_are_kept_byte_for_byte_and_listed_newest_first(self, engine: Engine
                                                                    ) -> None:
        from guardian.adapters.sql.reports import SqlReportArchive
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


def _roles(store: SqlStore, uid: str, at: float) -> frozenset[str]:
    """The roles a view loaded from ``store`` now gives ``uid`` at ``at``."""
    return GrantView(store.active_grants()).active_roles(uid, at)


def _application(keys: SqlApiKeys, api_key: str) -> str | None:
    """The application a view loaded from ``keys`` now names for ``api_key``."""
    return KeyView(keys.active_keys()).application_for(api_key)


def _sha(key: str) -> str:
    import hashlib

    return hashlib.sha256(key.encode()).hexdigest()
