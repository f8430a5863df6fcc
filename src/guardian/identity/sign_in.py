"""Signing in and stepping up as use cases: the attempt, its audit event, the session.

:class:`~guardian.identity.sessions.SessionService` checks credentials and issues tokens; this
service is what every entry point (the HTTP API, the console, ``guardian login`` through the
server) calls, so that each attempt, successful or not, is journalled the same way. A refused
attempt is journalled before the refusal is raised; an accepted one before its token is handed
out, so nobody holds a session the trail does not show (the attempt's outcome, which is what
the event records, is only known once the credentials are checked). An unknown user id is
recorded only as its keyed digest: it may be a password typed into the wrong field.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from guardian.audit.events import AuditAction, session_event
from guardian.errors import AuthenticationError
from guardian.identity.sessions import LOCAL, IssuedSession, SessionService
from guardian.ports import AuditJournal, Clock


class SignInService:
    """Sign-in (TOTP, recovery code, invitation or security key) and step-up (TOTP or key),
    journalled."""

    def __init__(self, sessions: SessionService, journal: AuditJournal, clock: Clock) -> None:
        self._sessions = sessions
        self._journal = journal
        self._clock = clock

    def sign_in(
        self, uid: str, password: str, otp: str | None = None, *,
        recovery_code: str | None = None, invitation: str | None = None, source: str = LOCAL,
    ) -> IssuedSession:
        """Password and one second factor (or an invitation: an enrolment-only session)."""
        return self._attempt(uid, {}, lambda: self._sessions.sign_in(
            uid, password, otp, recovery_code=recovery_code, invitation=invitation,
            source=source), invitation_used=invitation is not None)

    def sign_in_webauthn(
        self, uid: str, password: str, credential: dict[str, object], *, source: str = LOCAL,
    ) -> IssuedSession:
        """The password and a security key's answer to the options, checked together."""
        return self._attempt(uid, {"factor": "webauthn"}, lambda: self._sessions.sign_in_webauthn(
            uid, password, credential, source=source))

    def step_up(self, token: str, otp: str, *, source: str = LOCAL) -> IssuedSession:
        """A fresh TOTP code for a new token whose ``auth_time`` is now."""
        return self._step_up(token, {}, lambda: self._sessions.step_up(
            token, otp, source=source))

    def step_up_webauthn(self, token: str, credential: dict[str, object], *,
                         source: str = LOCAL) -> IssuedSession:
        """A security key's answer for a new token whose ``auth_time`` is now."""
        return self._step_up(token, {"factor": "webauthn"}, lambda: (
            self._sessions.step_up_webauthn(token, credential, source=source)))

    def _step_up(self, token: str, extra: dict[str, Any],
                 check: Callable[[], IssuedSession]) -> IssuedSession:
        claims = self._sessions.verify(token)
        now = self._clock.now()
        try:
            issued = check()
        except AuthenticationError as exc:
            self._journal.append(session_event(
                AuditAction.SESSION_FAILED, claims.sub, now, reason=exc.code, step_up=True,
                **extra))
            raise
        self._journal.append(session_event(
            AuditAction.SESSION_STEPPED_UP, claims.sub, now, session_id=issued.claims.sid,
            **extra))
        return issued

    def _attempt(self, uid: str, extra: dict[str, Any], check: Callable[[], IssuedSession],
                 *, invitation_used: bool = False) -> IssuedSession:
        now = self._clock.now()
        subject = self._sessions.subject(uid)
        try:
            issued = check()
        except AuthenticationError as exc:
            self._journal.append(session_event(
                AuditAction.SESSION_FAILED, subject, now, reason=exc.code, **extra))
            raise
        events = [session_event(
            AuditAction.SESSION_CREATED, subject, now, session_id=issued.claims.sid,
            amr=[m.value for m in issued.claims.amr])]
        if invitation_used:
            events.append(session_event(AuditAction.MFA_INVITATION_USED, subject, now,
                                        session_id=issued.claims.sid))
        self._journal.append_many(events)
        return issued
