"""A decision touches nothing but the journal: with every store call and every directory
(re)load made to raise, decisions over HTTP — single and batch — still come out right, because
API keys, grants, consent and people are served from in-memory views (DESIGN "The decision
pipeline"; issue 8 "Done when")."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from guardian.adapters.files.directory import FileDirectory
from guardian.bootstrap import Guardian
from guardian.clock import ManualClock
from guardian.governance.consent import ConsentCaller
from guardian.governance.grants import GrantRequest
from support import API_KEY, Signer, decision_body

H = {"X-API-Key": API_KEY}


class Tripwire:
    """Counts (and refuses) every call that would reach the store or reload the directory."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    def trip(self, what: str) -> Any:
        def refuse(*_args: Any, **_kwargs: Any) -> Any:
            self.calls.append(what)
            raise RuntimeError(f"{what} called during a decision")

        return refuse


@pytest.fixture
def armed(guardian: Guardian, client: TestClient, signer: Signer, clock: ManualClock,
          monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Tripwire, dict[str, str]]]:
    """Tokens, a grant, a key revoked and a consent withdrawn — then the tripwire armed, the
    background threads stopped (their own reads would trip it, and are allowed)."""
    tokens = {uid: signer.token(uid) for uid in ("alice", "bob", "dave")}
    guardian.grants.grant("ivan", GrantRequest("bob", "fraud-analyst", clock.now() + 3600,
                                               "INC-4711 fraud wave"))
    made = guardian.api_keys.create("batch-job", "ivan")
    guardian.api_keys.revoke(made.record.id, "ivan")
    tokens["revoked-key"] = made.key
    guardian.consent.record("C-1002", "marketing", False, "preference-centre",
                            ConsentCaller("consent-hub"))
    guardian.stop_background()
    wire = Tripwire()
    for name in ("connect", "begin", "raw_connection", "execute"):
        monkeypatch.setattr(Engine, name, wire.trip(f"Engine.{name}"), raising=False)
    for name in ("reload", "reload_if_changed"):
        monkeypatch.setattr(FileDirectory, name, wire.trip(f"FileDirectory.{name}"))
    yield wire, tokens


def test_the_tripwire_trips_on_a_store_read(armed: tuple[Tripwire, dict[str, str]],
                                            guardian: Guardian) -> None:
    wire, _ = armed
    with pytest.raises(RuntimeError):
        guardian.grants.list()
    assert wire.calls == ["Engine.connect"]


def test_single_decisions_come_out_right_without_touching_store_or_directory(
    armed: tuple[Tripwire, dict[str, str]], client: TestClient,
) -> None:
    wire, tokens = armed
    wire.calls.clear()
    cases = [
        (decision_body("alice", tokens["alice"]), "permit", ["permitted"]),
        (decision_body("bob", tokens["bob"], resource="crm/location",
                       purpose="fraud-prevention"), "permit", ["permitted"]),  # the grant
        (decision_body("nobody-here", None), "deny", ["unknown_subject"]),
        (decision_body("dave", tokens["dave"], purpose="marketing",
                       customers=["C-1001"]), "permit", ["permitted"]),
        (decision_body("dave", tokens["dave"], purpose="marketing",
                       customers=["C-1002"]), "deny", ["consent_missing"]),
    ]
    for body, outcome, codes in cases:
        response = client.post("/v1/decisions", headers=H, json=body)
        assert response.status_code == 200, response.text
        assert response.json()["decision"] == outcome
        assert [r["code"] for r in response.json()["reasons"]] == codes
    refused = client.post("/v1/decisions", headers={"X-API-Key": tokens["revoked-key"]},
                          json=decision_body("alice", tokens["alice"]))
    assert refused.status_code == 401
    assert wire.calls == []


def test_a_batch_comes_out_right_without_touching_store_or_directory(
    armed: tuple[Tripwire, dict[str, str]], client: TestClient,
) -> None:
    wire, tokens = armed
    wire.calls.clear()
    requests = [
        decision_body("alice", tokens["alice"]),
        decision_body("bob", tokens["bob"], resource="crm/location", purpose="fraud-prevention"),
        decision_body("dave", tokens["dave"], purpose="marketing", customers=["C-1002"]),
        decision_body("alice", tokens["alice"], action="delete"),
    ]
    response = client.post("/v1/decisions:batch", headers=H, json={"requests": requests})

    assert response.status_code == 200, response.text
    decisions = response.json()["decisions"]
    assert [d["decision"] for d in decisions] == ["permit", "permit", "deny", "deny"]
    assert [d["reasons"][0]["code"] for d in decisions[2:]] == ["consent_missing",
                                                               "not_authorised"]
    assert all(d["audit"]["seq"] > 0 for d in decisions)
    assert wire.calls == []
