"""Second factors in the store: sealed TOTP seeds, recovery codes, WebAuthn keys and challenges.

Seeds are sealed (AES-GCM, :class:`~guardian.identity.sealing.Sealer`) with the user id bound
in, so the database alone never yields one. Everything that must happen once — a recovery code
spent, a WebAuthn challenge answered, a signature counter advanced — is one conditional write
whose row count says whether this caller won, so it holds across API workers and replicas.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence

from sqlalchemy import Connection, Engine, and_, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from guardian.adapters.sql.errors import translated
from guardian.adapters.sql.store import (
    mfa_invitations,
    recovery_codes,
    totp_enrolments,
    webauthn_challenges,
    webauthn_credentials,
)
from guardian.identity.sealing import Sealer
from guardian.identity.security_keys import WebAuthnCredential

PENDING = "pending"
ACTIVE = "active"


class SqlMfaStore:
    """Implements ``MfaSecrets``, ``TotpFactors``, ``RecoveryCodes``, ``MfaInvitations`` and
    ``SecurityKeyStore`` (WebAuthn keys and challenges)."""

    def __init__(self, engine: Engine, sealer: Sealer) -> None:
        self.engine = engine
        self._sealer = sealer

    # -- TOTP ---------------------------------------------------------------------------

    def totp_secret(self, uid: str) -> str | None:
        sealed = self._seed(uid, ACTIVE)
        return None if sealed is None else self._sealer.open(sealed, context=f"totp:{uid}")

    def pending_totp(self, uid: str) -> str | None:
        sealed = self._seed(uid, PENDING)
        return None if sealed is None else self._sealer.open(sealed, context=f"totp:{uid}")

    def begin_totp(self, uid: str, secret: str, recovery_digests: Sequence[str],
                   at: float) -> None:
        enrolment_id = secrets.token_hex(12)
        sealed = self._sealer.seal(secret, context=f"totp:{uid}")
        with translated(), self.engine.begin() as conn:
            _drop_enrolments(conn, uid, PENDING)
            conn.execute(insert(totp_enrolments).values(
                id=enrolment_id, uid=uid, sealed_seed=sealed, state=PENDING, created_at=at))
            if recovery_digests:
                conn.execute(insert(recovery_codes), [
                    {"uid": uid, "digest": d, "enrolment_id": enrolment_id}
                    for d in recovery_digests])

    def activate_totp(self, uid: str, at: float) -> bool:
        with translated(), self.engine.begin() as conn:
            pending = conn.execute(select(totp_enrolments.c.id).where(
                totp_enrolments.c.uid == uid, totp_enrolments.c.state == PENDING)).first()
            if pending is None:
                return False
            _drop_enrolments(conn, uid, ACTIVE)
            done = conn.execute(update(totp_enrolments).where(
                totp_enrolments.c.id == pending[0], totp_enrolments.c.state == PENDING,
            ).values(state=ACTIVE, activated_at=at))
            return done.rowcount == 1

    def has_active_totp(self, uid: str) -> bool:
        return self._seed(uid, ACTIVE) is not None

    def _seed(self, uid: str, state: str) -> str | None:
        with translated(), self.engine.connect() as conn:
            row = conn.execute(select(totp_enrolments.c.sealed_seed).where(
                totp_enrolments.c.uid == uid, totp_enrolments.c.state == state)).first()
        return None if row is None else str(row[0])

    # -- recovery codes -----------------------------------------------------------------

    def use_recovery_code(self, uid: str, digest: str, at: float) -> bool:
        active = select(totp_enrolments.c.id).where(
            totp_enrolments.c.uid == uid, totp_enrolments.c.state == ACTIVE).scalar_subquery()
        with translated(), self.engine.begin() as conn:
            done = conn.execute(update(recovery_codes).where(
                recovery_codes.c.uid == uid, recovery_codes.c.digest == digest,
                recovery_codes.c.used_at.is_(None), recovery_codes.c.enrolment_id == active,
            ).values(used_at=at))
        return done.rowcount == 1

    def recovery_codes_left(self, uid: str) -> int:
        query = select(recovery_codes.c.digest).join(
            totp_enrolments, and_(totp_enrolments.c.id == recovery_codes.c.enrolment_id,
                                  totp_enrolments.c.state == ACTIVE),
        ).where(recovery_codes.c.uid == uid, recovery_codes.c.used_at.is_(None))
        with translated(), self.engine.connect() as conn:
            return len(conn.execute(query).all())

    # -- invitations to enrol ----------------------------------------------------------

    def add_invitation(self, uid: str, digest: str, created_by: str, at: float,
                       expires_at: float) -> None:
        with translated(), self.engine.begin() as conn:
            conn.execute(delete(mfa_invitations).where(
                mfa_invitations.c.uid == uid, mfa_invitations.c.used_at.is_(None)))
            conn.execute(delete(mfa_invitations).where(mfa_invitations.c.expires_at <= at))
            conn.execute(insert(mfa_invitations).values(
                digest=digest, uid=uid, created_by=created_by, created_at=at,
                expires_at=expires_at))

    def use_invitation(self, uid: str, digest: str, at: float) -> bool:
        with translated(), self.engine.begin() as conn:
            done = conn.execute(update(mfa_invitations).where(
                mfa_invitations.c.digest == digest, mfa_invitations.c.uid == uid,
                mfa_invitations.c.used_at.is_(None), mfa_invitations.c.expires_at > at,
            ).values(used_at=at))
        return done.rowcount == 1

    # -- WebAuthn -----------------------------------------------------------------------

    def put_challenge(self, uid: str, purpose: str, challenge: str, expires_at: float) -> None:
        """Keep the one outstanding challenge of ``uid`` for ``purpose`` (replacing any)."""
        where = (webauthn_challenges.c.uid == uid, webauthn_challenges.c.purpose == purpose)
        with translated(), self.engine.begin() as conn:
            conn.execute(delete(webauthn_challenges).where(*where))
            # Decoy challenges of unknown users go too once expired: nothing stays for good.
            conn.execute(delete(webauthn_challenges).where(
                webauthn_challenges.c.expires_at < expires_at - 3600))
            conn.execute(insert(webauthn_challenges).values(
                uid=uid, purpose=purpose, challenge=challenge, expires_at=expires_at))

    def take_challenge(self, uid: str, purpose: str, at: float) -> str | None:
        """The outstanding challenge, removed so that it serves once; ``None`` if there is none
        or it expired."""
        where = (webauthn_challenges.c.uid == uid, webauthn_challenges.c.purpose == purpose)
        with translated(), self.engine.begin() as conn:
            row = conn.execute(select(webauthn_challenges.c.challenge,
                                      webauthn_challenges.c.expires_at).where(*where)).first()
            if row is None:
                return None
            taken = conn.execute(delete(webauthn_challenges).where(
                *where, webauthn_challenges.c.challenge == row[0]))
        if taken.rowcount != 1 or float(row[1]) <= at:
            return None
        return str(row[0])

    def add_credential(self, credential: WebAuthnCredential) -> bool:
        """Store a new key; ``False`` if a key with that id is already registered."""
        with translated(), self.engine.begin() as conn:
            try:
                with conn.begin_nested():
                    conn.execute(insert(webauthn_credentials).values(
                        credential_id=credential.credential_id, uid=credential.uid,
                        public_key=credential.public_key, sign_count=credential.sign_count,
                        created_at=credential.created_at, last_used_at=credential.last_used_at))
            except IntegrityError:
                return False
        return True

    def credentials(self, uid: str) -> list[WebAuthnCredential]:
        query = select(webauthn_credentials).where(webauthn_credentials.c.uid == uid) \
            .order_by(webauthn_credentials.c.created_at)
        with translated(), self.engine.connect() as conn:
            return [WebAuthnCredential(**row) for row in conn.execute(query).mappings()]

    def credential(self, credential_id: str) -> WebAuthnCredential | None:
        query = select(webauthn_credentials).where(
            webauthn_credentials.c.credential_id == credential_id)
        with translated(), self.engine.connect() as conn:
            row = conn.execute(query).mappings().first()
        return None if row is None else WebAuthnCredential(**row)

    def advance_sign_count(self, credential_id: str, seen: int, new: int, at: float) -> bool:
        """Move the counter from ``seen`` to ``new`` unless another worker moved it first."""
        with translated(), self.engine.begin() as conn:
            done = conn.execute(update(webauthn_credentials).where(
                webauthn_credentials.c.credential_id == credential_id,
                webauthn_credentials.c.sign_count == seen,
            ).values(sign_count=new, last_used_at=at))
        return done.rowcount == 1


def _drop_enrolments(conn: Connection, uid: str, state: str) -> None:
    """Remove ``uid``'s enrolment in ``state`` and its recovery codes."""
    ids = select(totp_enrolments.c.id).where(
        totp_enrolments.c.uid == uid, totp_enrolments.c.state == state)
    conn.execute(delete(recovery_codes).where(recovery_codes.c.enrolment_id.in_(ids)))
    conn.execute(delete(totp_enrolments).where(
        totp_enrolments.c.uid == uid, totp_enrolments.c.state == state))
