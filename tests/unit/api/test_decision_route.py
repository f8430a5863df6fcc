"""The decision endpoints served in front of FastAPI answer exactly as the framework's routes:
same statuses, codes, bodies (but for fresh ids) and headers, for good and for bad input; the
OpenAPI contract still declares both; other methods on the paths go to the framework."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient

from guardian.api import create_app
from guardian.api.decision_route import GuardianAPI
from guardian.bootstrap import Guardian
from support import API_KEY, Signer, decision_body

H = {"X-API-Key": API_KEY, "Content-Type": "application/json"}


@pytest.fixture
def framework(guardian: Guardian) -> Iterator[TestClient]:
    """The same application with its front route off: FastAPI answers everything."""
    app = create_app(guardian)
    assert isinstance(app, GuardianAPI)
    app.decision_route = None
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


def _cases(token: str) -> list[tuple[str, bytes, dict[str, str]]]:
    good = decision_body("alice", token)
    resource: dict[str, object] = dict(good["resource"])  # type: ignore[call-overload]
    bad_customer = {**good, "resource": {**resource, "customer_ids": ["C 1"]}}
    bad_ip = {**good, "context": {"client_ip": "10.0.0.1%eth0"}}
    return [
        ("/v1/decisions", orjson.dumps(good), H),
        ("/v1/decisions", orjson.dumps(decision_body("mallory", token)), H),
        ("/v1/decisions:batch", orjson.dumps({"requests": [good, good]}), H),
        ("/v1/decisions", b"{", H),
        ("/v1/decisions", b'{"action": "read", "action": "read"}', H),
        ("/v1/decisions", orjson.dumps(good), {"Content-Type": "application/json"}),
        ("/v1/decisions", orjson.dumps(good), {**H, "X-API-Key": "unknown-key-1234"}),
        ("/v1/decisions", orjson.dumps(bad_customer), H),
        ("/v1/decisions", orjson.dumps(bad_ip), H),
        ("/v1/decisions:batch", orjson.dumps({"requests": []}), H),
        ("/v1/decisions:batch", b"[]", H),
        ("/v1/decisions", b"x" * 2_000_000, H),
    ]


def _comparable(body: Any) -> Any:
    if isinstance(body, dict):
        return {k: _comparable(v) for k, v in body.items()
                if k not in ("decision_id", "audit", "evaluated_at")}
    if isinstance(body, list):
        return [_comparable(v) for v in body]
    return body


def test_front_route_and_framework_answer_alike(
    client: TestClient, framework: TestClient, signer: Signer
) -> None:
    token = signer.token("alice")
    for path, body, headers in _cases(token):
        fast = client.post(path, content=body, headers={**headers, "X-Request-ID": "r-7"})
        slow = framework.post(path, content=body, headers={**headers, "X-Request-ID": "r-7"})
        assert (fast.status_code, path) == (slow.status_code, path)
        assert fast.headers["content-type"] == slow.headers["content-type"]
        assert fast.headers["x-request-id"] == slow.headers["x-request-id"] == "r-7"
        assert _comparable(fast.json()) == _comparable(slow.json()), (path, body[:60])
    assert {c[0] for c in _cases(token)} == {"/v1/decisions", "/v1/decisions:batch"}


def test_statuses_of_the_cases_are_the_contract(client: TestClient, signer: Signer) -> None:
    statuses = [client.post(p, content=b, headers=h).status_code
                for p, b, h in _cases(signer.token("alice"))]
    assert statuses == [200, 200, 200, 422, 422, 401, 401, 422, 422, 422, 422, 413]


def test_every_decision_of_the_front_route_is_journalled(
    client: TestClient, guardian: Guardian, signer: Signer
) -> None:
    token = signer.token("alice")
    before = guardian.journal.last_seq  # type: ignore[attr-defined]
    answer = client.post("/v1/decisions", json=decision_body("alice", token),
                         headers={"X-API-Key": API_KEY}).json()
    assert answer["audit"]["seq"] == before + 1 == guardian.journal.last_seq  # type: ignore[attr-defined]


def test_other_methods_and_the_contract_stay_with_the_framework(client: TestClient) -> None:
    assert client.get("/v1/decisions", headers=H).status_code == 405
    paths = client.app.openapi()["paths"]  # type: ignore[attr-defined]
    assert "post" in paths["/v1/decisions"] and "post" in paths["/v1/decisions:batch"]
