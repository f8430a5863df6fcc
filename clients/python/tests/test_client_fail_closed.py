"""Failures become denies, and retries happen on connection errors and 5xx only (MockTransport)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable

import httpx
import pytest

from guardian_client import (
    AccountLocked,
    AsyncGuardianClient,
    DecisionRequest,
    GuardianClient,
    GuardianUnavailable,
    RetryPolicy,
    Session,
)

QUICK = RetryPolicy(attempts=3, base_delay_s=0.001, max_delay_s=0.002)
REQUEST = DecisionRequest(subject="alice", session_token="t", action="read", database="crm",
                          category="contact", purpose="customer-care", customer_ids=("C-1001",))
PERMIT = {"decision_id": "01J", "decision": "permit",
          "reasons": [{"code": "permitted", "message": "ok"}], "obligations": [],
          "policy_version": "sha256:x", "audit": {"seq": 7, "hash": "ab" * 32}}


class Counting:
    """A transport handler that answers from a script and counts the calls."""

    def __init__(self, *answers: httpx.Response | Exception) -> None:
        self.answers = list(answers)
        self.calls: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.calls.append(request)
        answer = self.answers[min(len(self.calls), len(self.answers)) - 1]
        if isinstance(answer, Exception):
            raise answer
        return answer


def sync_client(handler: Callable[[httpx.Request], httpx.Response]) -> GuardianClient:
    return GuardianClient("http://guardian.test", api_key="k", retry=QUICK,
                          transport=httpx.MockTransport(handler))


def async_decide(handler: Callable[[httpx.Request], httpx.Response]) -> tuple[str, ...]:
    async def run() -> tuple[str, ...]:
        async with AsyncGuardianClient("http://guardian.test", api_key="k", retry=QUICK,
                                       transport=httpx.MockTransport(handler)) as guardian:
            return (await guardian.decide(REQUEST)).reason_codes
    return asyncio.run(run())


def test_a_5xx_is_retried_then_denied_guardian_unavailable() -> None:
    handler = Counting(httpx.Response(503, json={"error": {"code": "x", "message": "y"}}))
    decision = sync_client(handler).decide(REQUEST)
    assert decision.reason_codes == ("guardian_unavailable",)
    assert decision.origin == "client" and decision.decision_id is None
    assert len(handler.calls) == 3
    assert "HTTP 503" in decision.reasons[0].message


def test_the_async_client_retries_a_5xx_as_often() -> None:
    handler = Counting(httpx.Response(500))
    assert async_decide(handler) == ("guardian_unavailable",)
    assert len(handler.calls) == 3


def test_a_5xx_followed_by_an_answer_gives_the_answer() -> None:
    handler = Counting(httpx.Response(502), httpx.Response(200, json=PERMIT))
    decision = sync_client(handler).decide(REQUEST)
    assert decision.permitted and decision.audit is not None and decision.audit.seq == 7
    assert len(handler.calls) == 2


def test_a_4xx_is_never_retried() -> None:
    handler = Counting(httpx.Response(422, json={"error": {"code": "invalid_request",
                                                           "message": "action: bad"}}))
    decision = sync_client(handler).decide(REQUEST)
    assert decision.reason_codes == ("client_error",)
    assert len(handler.calls) == 1


def test_timeouts_and_connection_errors_are_retried_then_denied() -> None:
    handler = Counting(httpx.ConnectError("refused"), httpx.ReadTimeout("slow"))
    decision = sync_client(handler).decide(REQUEST)
    assert decision.reason_codes == ("guardian_unavailable",)
    assert "ReadTimeout" in decision.reasons[0].message
    assert len(handler.calls) == 3
    assert async_decide(Counting(httpx.ConnectTimeout("no"))) == ("guardian_unavailable",)


@pytest.mark.parametrize("answer", [
    httpx.Response(200, text="<html>proxy</html>"),
    httpx.Response(200, json={"decision": "maybe"}),
    httpx.Response(200, json=[PERMIT]),
])
def test_an_answer_that_is_not_a_decision_is_a_deny(answer: httpx.Response) -> None:
    decision = sync_client(Counting(answer)).decide(REQUEST)
    assert decision.reason_codes == ("invalid_response",)


def test_a_batch_with_the_wrong_number_of_decisions_denies_every_request() -> None:
    handler = Counting(httpx.Response(200, json={"decisions": [PERMIT]}))
    decisions = sync_client(handler).decide_many([REQUEST, REQUEST])
    assert [d.reason_codes for d in decisions] == [("invalid_response",)] * 2


def test_a_batch_keeps_the_order_and_splits_past_guardians_limit() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        asked = json.loads(request.content)["requests"]
        return httpx.Response(200, json={"decisions": [
            {**PERMIT, "decision_id": r["resource"]["customer_ids"][0]} for r in asked]})

    requests = [REQUEST.model_copy(update={"customer_ids": (f"C-{i}",)}) for i in range(1500)]
    decisions = sync_client(handler).decide_many(requests)
    assert [d.decision_id for d in decisions] == [f"C-{i}" for i in range(1500)]
    assert sync_client(handler).decide_many([]) == []


def test_the_wire_body_is_the_contracts() -> None:
    handler = Counting(httpx.Response(200, json=PERMIT))
    GuardianClient("http://guardian.test", api_key="demo-app-key", application="crm-web",
                   transport=httpx.MockTransport(handler)).decide(
        REQUEST.model_copy(update={"client_ip": "10.2.3.4", "justification": "INC-1"}))
    sent = handler.calls[0]
    assert sent.url.path == "/v1/decisions" and sent.headers["X-API-Key"] == "demo-app-key"
    assert json.loads(sent.content) == {
        "subject": {"id": "alice", "session_token": "t"}, "action": "read",
        "resource": {"database": "crm", "category": "contact", "customer_ids": ["C-1001"]},
        "purpose": "customer-care", "justification": "INC-1",
        "context": {"client_ip": "10.2.3.4", "application": "crm-web"}}


def test_tokens_do_not_show_in_reprs() -> None:
    assert "session_token" not in repr(REQUEST)
    assert "secret-token" not in repr(Session(token="secret-token", user="alice", auth_time="t",
                                              amr=("pwd", "otp"), expires_at="t"))


def test_sessions_raise_typed_errors() -> None:
    locked = Counting(httpx.Response(429, json={"error": {"code": "account_locked",
                                                          "message": "later"}}))
    with pytest.raises(AccountLocked) as caught:
        sync_client(locked).sign_in("alice", "pw", "123456")
    assert caught.value.code == "account_locked" and len(locked.calls) == 1
    with pytest.raises(GuardianUnavailable):
        sync_client(Counting(httpx.Response(503))).step_up("token", "123456")


def test_back_off_doubles_and_is_capped() -> None:
    policy = RetryPolicy(attempts=10, base_delay_s=0.1, max_delay_s=0.5, jitter=0)
    assert [policy.delay_s(n) for n in (1, 2, 3, 4, 9)] == [0.1, 0.2, 0.4, 0.5, 0.5]
    jittered = RetryPolicy(base_delay_s=1, max_delay_s=1, jitter=0.5)
    assert all(0.5 <= jittered.delay_s(1) <= 1 for _ in range(50))
    with pytest.raises(ValueError, match="attempts"):
        RetryPolicy(attempts=0)
