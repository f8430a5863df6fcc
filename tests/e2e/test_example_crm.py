"""examples/crm/ through its own TestClient, asking a real ``guardian serve``.

The CRM is the README's "under ten lines" integration: these tests prove that those lines
permit, deny with Guardian's reasons (403) and mask what a permit's obligations say.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from types import ModuleType

import pytest
from fastapi.testclient import TestClient
from guardian_client import AsyncGuardianClient, GuardianClient, RetryPolicy

from serve_support import Served, code, password, start
from support import API_KEY, ROOT

pytestmark = pytest.mark.e2e


def _load_crm() -> ModuleType:
    spec = importlib.util.spec_from_file_location("example_crm", ROOT / "examples/crm/main.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    served = start(tmp_path_factory.mktemp("var"))
    yield served
    served.stop()


@pytest.fixture(scope="module")
def headers(server: Served) -> dict[str, dict[str, str]]:
    with GuardianClient(server.url, api_key=API_KEY) as guardian:
        return {uid: {"X-Guardian-User": uid, "X-Guardian-Session":
                      guardian.sign_in(uid, password(uid), code(uid)).token}
                for uid in ("alice", "bob", "mallory")}


@pytest.fixture
def crm(server: Served) -> Iterator[TestClient]:
    guardian = AsyncGuardianClient(server.url, api_key=API_KEY, application="crm-web",
                                   retry=RetryPolicy(attempts=2, base_delay_s=0.01))
    with TestClient(_load_crm().create_app(guardian)) as client:
        yield client


def test_alice_reads_a_contact(crm: TestClient, headers: dict[str, dict[str, str]]) -> None:
    response = crm.get("/customers/C-1001/contact", headers=headers["alice"])
    assert response.status_code == 200, response.text
    assert response.json()["email"] == "ada@example.org"


def test_mallory_is_refused_with_guardians_reason(
        crm: TestClient, headers: dict[str, dict[str, str]]) -> None:
    response = crm.get("/customers/C-1001/contact", headers=headers["mallory"])
    assert response.status_code == 403
    detail = response.json()["detail"]
    assert detail["code"] == "not_authorised"
    assert [r["code"] for r in detail["reasons"]] == ["not_authorised"]
    assert detail["decision_id"]


def test_bob_reads_billing_with_the_iban_masked(
        crm: TestClient, headers: dict[str, dict[str, str]]) -> None:
    response = crm.get("/customers/C-1002/billing", headers=headers["bob"])
    assert response.status_code == 200, response.text
    assert response.json() == {"customer_id": "C-1002", "name": "Blaise Pascal",
                               "plan": "mobile-s", "iban": "***"}


def test_alice_may_not_read_billing(crm: TestClient,
                                    headers: dict[str, dict[str, str]]) -> None:
    response = crm.get("/customers/C-1002/billing", headers=headers["alice"])
    assert response.status_code == 403
    assert "FR14" not in response.text


def test_a_request_without_an_employee_is_refused(crm: TestClient) -> None:
    response = crm.get("/customers/C-1001/contact")
    assert response.status_code == 403
    assert response.json()["detail"]["code"] == "authentication_required"


def test_a_stolen_token_does_not_pass_for_someone_else(
        crm: TestClient, headers: dict[str, dict[str, str]]) -> None:
    forged = {**headers["bob"], "X-Guardian-User": "alice"}
    response = crm.get("/customers/C-1001/contact", headers=forged)
    assert response.status_code == 403
    assert "authentication_required" in [r["code"] for r in response.json()["detail"]["reasons"]]
