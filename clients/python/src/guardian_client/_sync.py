"""``GuardianClient``: the blocking client, one pooled ``httpx.Client`` for the process.

Create it once and share it (it is thread-safe, as ``httpx.Client`` is); close it, or use it as
a context manager, when the application stops.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from types import TracebackType
from typing import Any

import httpx

from guardian_client import _core
from guardian_client._config import DEFAULT_LIMITS, DEFAULT_TIMEOUT, RetryPolicy
from guardian_client._models import Decision, DecisionRequest, Session

log = logging.getLogger("guardian_client")


class GuardianClient:
    """Asks Guardian for decisions (never raising: failures are denies) and opens sessions."""

    def __init__(
        self, base_url: str, *, api_key: str, application: str | None = None,
        timeout: httpx.Timeout = DEFAULT_TIMEOUT, limits: httpx.Limits = DEFAULT_LIMITS,
        retry: RetryPolicy | None = None, transport: httpx.BaseTransport | None = None,
    ) -> None:
        self._api_key = api_key
        self._application = application
        self._retry = retry or RetryPolicy()
        self._http = httpx.Client(base_url=base_url, timeout=timeout, limits=limits,
                                  transport=transport, follow_redirects=False)

    def decide(self, request: DecisionRequest) -> Decision:
        """Guardian's decision, or a deny with a client reason code if none could be had."""
        try:
            response = self._post(_core.DECISIONS, request.to_wire(self._application),
                                  {"X-API-Key": self._api_key})
            return _core.decision_of(response)
        except Exception as exc:  # noqa: BLE001 - fail closed: every failure is a deny
            return _core.deny_for(exc)

    def decide_many(self, requests: Sequence[DecisionRequest]) -> list[Decision]:
        """One decision per request, in the same order (``:batch``, 1 000 per call)."""
        out: list[Decision] = []
        for chunk in _core.chunks(requests):
            try:
                body = {"requests": [r.to_wire(self._application) for r in chunk]}
                response = self._post(_core.BATCH, body, {"X-API-Key": self._api_key})
                out.extend(_core.batch_of(response, len(chunk)))
            except Exception as exc:  # noqa: BLE001 - fail closed, chunk by chunk
                out.extend(_core.deny_for(exc) for _ in chunk)
        return out

    def sign_in(self, user: str, password: str, otp: str) -> Session:
        """Open a session; raises :class:`AuthenticationFailed`, :class:`AccountLocked`, ..."""
        body = {"user": user, "password": password, "otp": otp}
        return _core.session_of(self._post(_core.SESSIONS, body, {}))

    def step_up(self, token: str, otp: str) -> Session:
        """A fresh token for the same session, after a new one-time code."""
        response = self._post(_core.STEP_UP, {"otp": otp}, {"Authorization": f"Bearer {token}"})
        return _core.session_of(response)

    def _post(self, path: str, body: dict[str, Any], headers: dict[str, str]) -> httpx.Response:
        cause = ""
        for attempt in range(1, self._retry.attempts + 1):
            try:
                outcome: httpx.Response | httpx.TransportError = self._http.post(
                    path, json=body, headers=headers)
            except httpx.TransportError as exc:
                outcome = exc
            retry = _core.retry_cause(outcome)
            if retry is None:
                assert isinstance(outcome, httpx.Response)
                return outcome
            cause = retry
            if attempt < self._retry.attempts:
                log.info("retrying Guardian", extra={"path": path, "attempt": attempt,
                                                     "cause": cause})
                time.sleep(self._retry.delay_s(attempt))
        raise _core.unavailable(self._retry.attempts, cause)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> GuardianClient:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
