"""``AsyncGuardianClient``: the asyncio client, one pooled ``httpx.AsyncClient`` per event loop.

The same methods as :class:`guardian_client.GuardianClient`, awaited. Create it once per event
loop (an application's lifespan is the place) and ``await aclose()`` it when the loop stops:
pooled connections belong to the loop that opened them.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from types import TracebackType
from typing import Any

import httpx

from guardian_client import _core
from guardian_client._config import DEFAULT_LIMITS, DEFAULT_TIMEOUT, RetryPolicy
from guardian_client._models import Decision, DecisionRequest, Session

log = logging.getLogger("guardian_client")


class AsyncGuardianClient:
    """Asks Guardian without blocking: decisions never raise (failures are denies)."""

    def __init__(
        self, base_url: str, *, api_key: str, application: str | None = None,
        timeout: httpx.Timeout = DEFAULT_TIMEOUT, limits: httpx.Limits = DEFAULT_LIMITS,
        retry: RetryPolicy | None = None, transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._api_key = api_key
        self._application = application
        self._retry = retry or RetryPolicy()
        self._http = httpx.AsyncClient(base_url=base_url, timeout=timeout, limits=limits,
                                  transport=transport, follow_redirects=False)

    async def decide(self, request: DecisionRequest) -> Decision:
        """Guardian's decision, or a deny with a client reason code if none could be had."""
        try:
            response = await self._post(_core.DECISIONS, request.to_wire(self._application),
                                  {"X-API-Key": self._api_key})
            return _core.decision_of(response)
        except Exception as exc:  # noqa: BLE001 - fail closed: every failure is a deny
            return _core.deny_for(exc)

    async def decide_many(self, requests: Sequence[DecisionRequest]) -> list[Decision]:
        """One decision per request, in the same order (``:batch``, 1 000 per call)."""
        out: list[Decision] = []
        for chunk in _core.chunks(requests):
            try:
                body = {"requests": [r.to_wire(self._application) for r in chunk]}
                response = await self._post(_core.BATCH, body, {"X-API-Key": self._api_key})
                out.extend(_core.batch_of(response, len(chunk)))
            except Exception as exc:  # noqa: BLE001 - fail closed, chunk by chunk
                out.extend(_core.deny_for(exc) for _ in chunk)
        return out

    async def sign_in(self, user: str, password: str, otp: str) -> Session:
        """Open a session; raises :class:`AuthenticationFailed`, :class:`AccountLocked`, ..."""
        body = {"user": user, "password": password, "otp": otp}
        return _core.session_of(await self._post(_core.SESSIONS, body, {}))

    async def step_up(self, token: str, otp: str) -> Session:
        """A fresh token for the same session, after a new one-time code."""
        headers = {"Authorization": f"Bearer {token}"}
        return _core.session_of(await self._post(_core.STEP_UP, {"otp": otp}, headers))

    async def _post(
        self, path: str, body: dict[str, Any], headers: dict[str, str],
    ) -> httpx.Response:
        cause = ""
        for attempt in range(1, self._retry.attempts + 1):
            try:
                outcome: httpx.Response | httpx.TransportError = await self._http.post(
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
                await asyncio.sleep(self._retry.delay_s(attempt))
        raise _core.unavailable(self._retry.attempts, cause)

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> AsyncGuardianClient:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()
