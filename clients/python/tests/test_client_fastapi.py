"""The FastAPI dependency and decorator, with a scripted Guardian behind an httpx MockTransport.

The real server is exercised in the main repository's tests/e2e/; these cover what the
integration itself decides: where the subject and customers come from, 403 on every kind of
deny, masking of return values, and a permit whose obligations cannot be honoured.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Annotated, Any

import httpx
import pytest
from fastapi import Depends, FastAPI, Request
from fastapi.testclient import TestClient
from pydantic import BaseModel

from guardian_client import NO_RETRY, AsyncGuardianClient, Decision
from guardian_client.fastapi import install, permit, requires

BILLING = {"database": "crm", "category": "economic-financial", "action": "read",
           "purpose": "billing"}
BillingPermit = Annotated[Decision, Depends(permit(**BILLING))]
HEADERS = {"X-Guardian-User": "bob", "X-Guardian-Session": "token-of-bob"}


class Billing(BaseModel):
    customer_id: str
    iban: str


class Guardian:
    """Answers every decision with ``answer`` and keeps what it was asked."""

    def __init__(self) -> None:
        self.asked: list[dict[str, Any]] = []
        self.answer: dict[str, Any] | None = {
            "decision_id": "01J", "decision": "permit", "reasons": [], "policy_version": "p",
            "obligations": [{"type": "mask", "fields": ["iban"]}], "audit": None}

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.asked.append(json.loads(request.content))
        if self.answer is None:
            raise httpx.ConnectError("refused")
        return httpx.Response(200, json=self.answer)


@pytest.fixture
def guardian() -> Guardian:
    return Guardian()


@pytest.fixture
def app(guardian: Guardian) -> Iterator[TestClient]:
    app = FastAPI()
    install(app, AsyncGuardianClient("http://guardian.test", api_key="k", retry=NO_RETRY,
                                     transport=httpx.MockTransport(guardian)))

    @app.get("/customers/{customer_id}/billing")
    @requires(**BILLING)
    async def read(customer_id: str) -> Billing:
        return Billing(customer_id=customer_id, iban="GB33BUKB")

    @app.get("/sync/{customer_id}")
    @requires(**BILLING)
    def read_sync(customer_id: str, decision: Decision, request: Request) -> dict[str, str]:
        return {"iban": "GB33", "decision": decision.decision_id or "", "path": request.url.path}

    @app.get("/many")
    @requires(**BILLING, customers=lambda r: r.query_params.getlist("c"))
    async def many() -> list[dict[str, str]]:
        return [{"iban": "x"}]

    @app.get("/misnamed/{cid}")
    @requires(**BILLING)
    async def misnamed(cid: str) -> dict[str, str]:
        return {"iban": "x"}

    @app.get("/dep/{customer_id}")
    async def dep(decision: BillingPermit) -> dict[str, Any]:
        return {"masked": sorted(decision.masked_fields)}

    with TestClient(app) as client:
        yield client


def test_a_permit_runs_the_endpoint_and_masks_its_answer(app: TestClient,
                                                         guardian: Guardian) -> None:
    response = app.get("/customers/C-1002/billing", headers=HEADERS)
    assert response.status_code == 200
    assert response.json() == {"customer_id": "C-1002", "iban": "***"}
    assert guardian.asked == [{
        "subject": {"id": "bob", "session_token": "token-of-bob"}, "action": "read",
        "resource": {"database": "crm", "category": "economic-financial",
                     "customer_ids": ["C-1002"]}, "purpose": "billing"}]


def test_a_sync_endpoint_gets_the_decision_and_its_own_request(app: TestClient) -> None:
    response = app.get("/sync/C-1", headers=HEADERS)
    assert response.json() == {"iban": "***", "decision": "01J", "path": "/sync/C-1"}


def test_customers_can_come_from_a_callable(app: TestClient, guardian: Guardian) -> None:
    assert app.get("/many?c=C-1&c=C-2", headers=HEADERS).json() == [{"iban": "***"}]
    assert guardian.asked[0]["resource"]["customer_ids"] == ["C-1", "C-2"]


def test_a_deny_is_a_403_with_guardians_reasons(app: TestClient, guardian: Guardian) -> None:
    guardian.answer = {"decision_id": "01K", "decision": "deny", "reasons": [
        {"code": "consent_missing", "message": "no", "customer_ids": ["C-1007"]}]}
    response = app.get("/customers/C-1007/billing", headers=HEADERS)
    assert response.status_code == 403
    assert response.json()["detail"] == {
        "code": "consent_missing", "message": "no", "decision_id": "01K",
        "reasons": [{"code": "consent_missing", "message": "no", "customer_ids": ["C-1007"]}]}


def test_guardian_down_is_a_403_not_a_500(app: TestClient, guardian: Guardian) -> None:
    guardian.answer = None
    response = app.get("/customers/C-1/billing", headers=HEADERS)
    assert response.status_code == 403
    assert response.json()["detail"]["code"] == "guardian_unavailable"
    assert "GB33" not in response.text


def test_a_permit_with_an_obligation_it_cannot_honour_is_a_403(app: TestClient,
                                                               guardian: Guardian) -> None:
    assert guardian.answer is not None
    guardian.answer["obligations"] = [{"type": "notify-dpo", "fields": []}]
    response = app.get("/customers/C-1/billing", headers=HEADERS)
    assert response.status_code == 403
    assert response.json()["detail"]["code"] == "unsupported_obligation"
    assert app.get("/dep/C-1", headers=HEADERS).status_code == 403


def test_no_employee_in_the_request_is_refused_without_asking(app: TestClient,
                                                              guardian: Guardian) -> None:
    response = app.get("/customers/C-1/billing")
    assert response.status_code == 403
    assert response.json()["detail"]["code"] == "authentication_required"
    assert guardian.asked == []


def test_the_dependency_hands_the_permit_to_the_endpoint(app: TestClient) -> None:
    assert app.get("/dep/C-1", headers=HEADERS).json() == {"masked": ["iban"]}


def test_a_misnamed_customer_parameter_is_refused_without_asking(app: TestClient,
                                                                 guardian: Guardian) -> None:
    response = app.get("/misnamed/C-1", headers=HEADERS)
    assert response.status_code == 403
    assert response.json()["detail"]["code"] == "client_error"
    assert guardian.asked == []
