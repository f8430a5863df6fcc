"""guardian-client against a real ``guardian serve``: decisions, obligations, batches, sessions.

Nothing is mocked: the server is the process a user starts with ``make run``, on the demo
organisation. Each demo user signs in once per server (a TOTP step is accepted only once).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from guardian_client import (
    AsyncGuardianClient,
    AuthenticationFailed,
    DecisionRequest,
    GuardianClient,
    GuardianUnavailable,
    Obligation,
    RetryPolicy,
)

from serve_support import Served, code, password, start
from support import API_KEY

pytestmark = pytest.mark.e2e
FAST = RetryPolicy(attempts=2, base_delay_s=0.01)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    served = start(tmp_path_factory.mktemp("var"))
    yield served
    served.stop()


@pytest.fixture(scope="module")
def client(server: Served) -> Iterator[GuardianClient]:
    with GuardianClient(server.url, api_key=API_KEY, application="crm-web", retry=FAST) as c:
        yield c


@pytest.fixture(scope="module")
def tokens(client: GuardianClient) -> dict[str, str]:
    return {uid: client.sign_in(uid, password(uid), code(uid)).token
            for uid in ("alice", "bob", "mallory")}


def ask(uid: str, token: str | None, *, category: str = "contact",
        purpose: str = "customer-care", action: str = "read",
        customers: tuple[str, ...] = ("C-1001",)) -> DecisionRequest:
    return DecisionRequest(subject=uid, session_token=token, action=action, database="crm",
                           category=category, purpose=purpose, customer_ids=customers,
                           client_ip="10.2.3.4")


def test_alice_is_permitted_with_an_audit_receipt(client: GuardianClient,
                                                  tokens: dict[str, str]) -> None:
    decision = client.decide(ask("alice", tokens["alice"]))
    assert decision.permitted, decision
    assert decision.reason_codes == ("permitted",)
    assert decision.origin == "guardian"
    assert decision.decision_id
    assert decision.policy_version and decision.policy_version.startswith("sha256:")
    assert decision.audit is not None and decision.audit.seq > 0 and len(decision.audit.hash) == 64


def test_mallory_is_denied_not_authorised(client: GuardianClient,
                                          tokens: dict[str, str]) -> None:
    decision = client.decide(ask("mallory", tokens["mallory"]))
    assert not decision.permitted
    assert decision.reason_codes == ("not_authorised",)
    assert decision.audit is not None  # a deny is journalled too


def test_billing_read_carries_the_iban_mask_but_export_does_not(
        client: GuardianClient, tokens: dict[str, str]) -> None:
    read = client.decide(ask("bob", tokens["bob"], category="economic-financial",
                             purpose="billing"))
    assert read.permitted, read
    assert read.obligations == (Obligation(type="mask", fields=("iban",)),)
    assert read.masked_fields == {"iban"}
    export = client.decide(ask("bob", tokens["bob"], category="economic-financial",
                               purpose="billing", action="export"))
    assert export.permitted and export.obligations == ()


def test_decide_many_answers_in_the_order_asked(client: GuardianClient,
                                                tokens: dict[str, str]) -> None:
    requests = [
        ask("alice", tokens["alice"]),
        ask("mallory", None),
        ask("bob", tokens["bob"]),  # bob is billing, not customer care
        ask("alice", tokens["alice"], customers=("C-1002", "C-1003")),
        ask("bob", tokens["bob"], category="economic-financial", purpose="billing"),
    ]
    decisions = client.decide_many(requests)
    assert [d.decision for d in decisions] == ["permit", "deny", "deny", "permit", "permit"]
    assert decisions[1].reason_codes == ("not_authorised", "authentication_required")
    assert decisions[2].reason_codes == ("purpose_not_allowed",)
    assert decisions[4].masked_fields == {"iban"}
    seqs = [d.audit.seq for d in decisions if d.audit is not None]
    assert len(seqs) == 5 and len({d.decision_id for d in decisions}) == 5


def test_the_async_client_decides_the_same(server: Served, tokens: dict[str, str]) -> None:
    async def scenario() -> tuple[list[str], list[str], frozenset[str]]:
        async with AsyncGuardianClient(server.url, api_key=API_KEY, retry=FAST) as guardian:
            one = await guardian.decide(ask("alice", tokens["alice"]))
            many = await guardian.decide_many([ask("mallory", tokens["mallory"]),
                                               ask("alice", tokens["alice"])])
            billing = await guardian.decide(ask("bob", tokens["bob"],
                                                category="economic-financial",
                                                purpose="billing"))
            return [one.decision, *(d.decision for d in many)], \
                list(many[0].reason_codes), billing.masked_fields

    outcomes, mallory, masked = asyncio.run(scenario())
    assert outcomes == ["permit", "deny", "permit"]
    assert mallory == ["not_authorised"]
    assert masked == {"iban"}


def test_a_request_guardian_refuses_is_a_client_error_deny(server: Served,
                                                           client: GuardianClient,
                                                           tokens: dict[str, str]) -> None:
    refused = client.decide(ask("alice", tokens["alice"], action="fly"))
    assert not refused.permitted and refused.origin == "client"
    assert refused.reason_codes == ("client_error",)
    assert "422 invalid_request" in refused.reasons[0].message
    with GuardianClient(server.url, api_key="not-a-key", retry=FAST) as stranger:
        wrong_key = stranger.decide(ask("alice", tokens["alice"]))
    assert wrong_key.reason_codes == ("client_error",)
    assert "invalid_api_key" in wrong_key.reasons[0].message


def test_a_wrong_password_raises_authentication_failed(client: GuardianClient) -> None:
    with pytest.raises(AuthenticationFailed) as failed:
        client.sign_in("carol", "not-her-password", code("carol"))
    assert failed.value.status == 401
    assert failed.value.code == "invalid_credentials"


def test_step_up_gives_a_fresh_token_that_decides(client: GuardianClient,
                                                  tokens: dict[str, str]) -> None:
    fresh = client.step_up(tokens["alice"], code("alice", step_offset=1))
    assert fresh.user == "alice" and fresh.token != tokens["alice"]
    assert "otp" in fresh.amr
    assert client.decide(ask("alice", fresh.token)).permitted


def test_a_stopped_guardian_is_a_deny_not_an_exception(tmp_path: Path) -> None:
    served = start(tmp_path / "var")
    with GuardianClient(served.url, api_key=API_KEY, retry=FAST) as guardian:
        token = guardian.sign_in("alice", password("alice"), code("alice")).token
        assert guardian.decide(ask("alice", token)).permitted
        served.stop()
        down = guardian.decide(ask("alice", token))
        many = guardian.decide_many([ask("alice", token), ask("bob", None)])
        with pytest.raises(GuardianUnavailable):
            guardian.sign_in("bob", password("bob"), code("bob"))
    assert down.decision == "deny" and down.origin == "client"
    assert down.reason_codes == ("guardian_unavailable",)
    assert "ConnectError" in down.reasons[0].message
    assert [d.reason_codes for d in many] == [("guardian_unavailable",)] * 2

    async def async_down() -> tuple[str, ...]:
        async with AsyncGuardianClient(served.url, api_key=API_KEY, retry=FAST) as guardian:
            return (await guardian.decide(ask("alice", token))).reason_codes

    assert asyncio.run(async_down()) == ("guardian_unavailable",)
