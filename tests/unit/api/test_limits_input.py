"""Malformed, oversized and wrongly typed input: always a 4xx with a code, never a 500 or a permit."""

from __future__ import annotations

import copy
import json
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from guardian.bootstrap import Guardian
from guardian.clock import ManualClock
from guardian.identity.vocabulary import AuthMethod
from support import API_KEY, decision_body

H = {"X-API-Key": API_KEY}


def _valid(guardian: Guardian, clock: ManualClock) -> dict[str, Any]:
    token, _ = guardian.signer.issue("alice", (AuthMethod.PASSWORD, AuthMethod.OTP),
                                     clock.now(), clock.now(), 3600)
    return decision_body("alice", token)


def _mutate(body: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    out = copy.deepcopy(body)
    *parents, leaf = path.split(".")
    node = out
    for p in parents:
        node = node[p]
    if value is _DELETE:
        del node[leaf]
    else:
        node[leaf] = value
    return out


_DELETE = object()
BAD_FIELDS = [
    ("subject.id", "alice\x00"),
    ("subject.id", "al\nice"),
    ("subject.id", ""),
    ("subject.id", "a" * 129),
    ("subject.id", 42),
    ("subject", _DELETE),
    ("action", "fly"),
    ("action", _DELETE),
    ("resource.database", None),
    ("resource.category", ["contact"]),
    ("resource.customer_ids", "C-1001"),
    ("resource.customer_ids", [1001]),
    ("resource.customer_ids", ["C-1"] * 1001),
    ("purpose", _DELETE),
    ("purpose", "x" * 200),
    ("unexpected", "field"),
    ("justification", "x" * 2000),
]


@pytest.mark.parametrize(("path", "value"), BAD_FIELDS, ids=[f"{p}={v!r:.20}" for p, v in BAD_FIELDS])
def test_schema_violations_are_422_with_a_code_and_not_decided(
    client: TestClient, guardian: Guardian, clock: ManualClock, path: str, value: Any
) -> None:
    before = guardian.journal.last_seq  # type: ignore[attr-defined]
    body = _mutate(_valid(guardian, clock), path, value)
    response = client.post("/v1/decisions", content=orjson.dumps(body), headers=H)
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "invalid_request"
    assert error["message"]
    assert guardian.journal.last_seq == before  # type: ignore[attr-defined]


@pytest.mark.parametrize("content", [b"", b"{", b"null", b"[]", b"\xff\xfe", b'{"a":1}' * 3])
def test_non_json_or_wrong_shape_is_422(client: TestClient, content: bytes) -> None:
    response = client.post("/v1/decisions", content=content, headers=H)
    assert response.status_code == 422
    assert response.json()["error"]["code"] in {"malformed_json", "invalid_request"}


def test_a_body_over_one_mebibyte_is_413(client: TestClient) -> None:
    response = client.post("/v1/decisions", content=b" " * (1024 * 1024 + 1), headers=H)
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"


def test_a_streamed_body_over_the_limit_is_413(client: TestClient) -> None:
    def chunks() -> Any:
        for _ in range(20):
            yield b" " * 65536

    response = client.post("/v1/decisions", content=chunks(), headers=H)
    assert response.status_code == 413


def test_a_batch_over_the_limit_or_empty_is_422(
    client: TestClient, guardian: Guardian, clock: ManualClock
) -> None:
    one = _valid(guardian, clock)
    assert client.post("/v1/decisions:batch", json={"requests": []}, headers=H).status_code == 422
    too_many = {"requests": [one] * 1001}
    assert client.post("/v1/decisions:batch", json=too_many, headers=H).status_code == 422


def test_one_bad_item_refuses_the_whole_batch(
    client: TestClient, guardian: Guardian, clock: ManualClock
) -> None:
    good = _valid(guardian, clock)
    bad = _mutate(good, "action", "fly")
    response = client.post("/v1/decisions:batch", json={"requests": [good, bad]}, headers=H)
    assert response.status_code == 422
    assert "requests.1.action" in response.json()["error"]["message"]


def test_refused_input_is_logged_for_operators(
    client: TestClient, capsys: pytest.CaptureFixture[str]
) -> None:
    client.post("/v1/decisions", content=b'{"subject": 1}', headers=H)
    out = capsys.readouterr()
    assert "invalid request" in out.out + out.err


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner,
                                                                max_size=4),
    max_leaves=12,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(path=st.sampled_from([p for p, _ in BAD_FIELDS] + ["resource", "context", "subject.session_token"]),
       value=json_values)
def test_fuzzed_fields_never_500_never_permit(
    client: TestClient, guardian: Guardian, clock: ManualClock, path: str, value: Any
) -> None:
    valid = _valid(guardian, clock)
    body = _mutate(valid, path, value)
    # The standard library encoder, so integers beyond 64 bits reach the server too.
    response = client.post("/v1/decisions", content=json.dumps(body), headers=H)
    assert response.status_code in {200, 422}, response.text
    if response.status_code == 200 and response.json()["decision"] == "permit":
        # Only a mutation that leaves every decisive field as it was may still be permitted.
        assert _decisive(body) == _decisive(valid)


def _decisive(body: dict[str, Any]) -> tuple[Any, ...]:
    return (body["subject"]["id"], body["subject"].get("session_token"), body["action"],
            body["resource"]["database"], body["resource"]["category"], body["purpose"])
