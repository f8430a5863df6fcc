"""Fail-closed denies: the reason code names the dependency that failed, and operators get the
exception in the log, once per distinct failure (rate-limited)."""

from __future__ import annotations

import pytest
from structlog.testing import capture_logs

from guardian.adapters.files.policy import load_policy
from guardian.adapters.memory.ports import MemoryConsents, MemoryDirectory, MemoryJournal
from guardian.clock import ManualClock
from guardian.errors import AuditUnavailable, DirectoryUnavailable, StoreUnavailable
from guardian.identity.principal import Principal
from guardian.identity.tokens import TokenSigner
from guardian.policy.failures import FailureLog, reason_for
from guardian.policy.model import DecisionRequest
from guardian.policy.pipeline import CompiledPolicy, DecisionPipeline
from guardian.policy.vocabulary import Action, AuthMethod, Outcome, ReasonCode
from support import ROOT

POLICY = CompiledPolicy.of(load_policy(ROOT / "policies"))


class Raising:
    """A directory, grant view or consent view that raises ``exc`` on every call."""

    def __init__(self, exc: Exception) -> None:
        self.exc = exc

    def get(self, uid: str) -> Principal | None:
        raise self.exc

    def principals(self) -> list[Principal]:
        raise self.exc

    def active_roles(self, uid: str, at: float) -> frozenset[str]:
        raise self.exc

    def without_consent(self, customer_ids: object, purpose: str) -> tuple[str, ...]:
        raise self.exc


class NoGrants:
    def active_roles(self, uid: str, at: float) -> frozenset[str]:
        return frozenset()


def _pipeline(*, directory: object = None, grants: object = None, consent: object = None,
              journal: MemoryJournal | None = None) -> tuple[DecisionPipeline, TokenSigner]:
    signer = TokenSigner(b"k" * 32)
    people = MemoryDirectory([Principal("dave", "Dave", frozenset({"marketing"}))])
    pipeline = DecisionPipeline(
        POLICY, directory or people, grants or NoGrants(),  # type: ignore[arg-type]
        consent or MemoryConsents([("C-1", "marketing")]), signer,  # type: ignore[arg-type]
        journal or MemoryJournal(), ManualClock())
    return pipeline, signer


def _request(signer: TokenSigner) -> DecisionRequest:
    now = ManualClock().now()
    token, _ = signer.issue("dave", (AuthMethod.PASSWORD, AuthMethod.OTP), now, now, 600)
    return DecisionRequest("dave", Action.READ, "crm", "contact", "marketing", ("C-1",), token)


def test_the_healthy_pipeline_permits_the_request_used_below() -> None:
    pipeline, signer = _pipeline()
    assert pipeline.decide(_request(signer)).outcome is Outcome.PERMIT


@pytest.mark.parametrize(("part", "exc", "code"), [
    ("directory", DirectoryUnavailable("ldap down"), ReasonCode.DIRECTORY_UNAVAILABLE),
    ("grants", StoreUnavailable("store error: OperationalError"), ReasonCode.STORE_UNAVAILABLE),
    ("consent", StoreUnavailable("store error: OperationalError"),
     ReasonCode.STORE_UNAVAILABLE),
    ("directory", KeyError("surprise"), ReasonCode.INTERNAL_ERROR),
])
def test_a_failing_dependency_denies_with_its_own_code_and_is_logged(
        part: str, exc: Exception, code: ReasonCode) -> None:
    pipeline, signer = _pipeline(**{part: Raising(exc)})  # type: ignore[arg-type]
    with capture_logs() as logs:
        decision = pipeline.decide(_request(signer))

    assert decision.outcome is Outcome.DENY
    assert decision.reason_codes == (code,)
    assert decision.audit is not None  # the deny itself is journalled
    [line] = [entry for entry in logs if entry["event"].startswith("decision denied")]
    assert line["reason"] == code.value and line["step"] == "evaluate"
    assert line["error"] == type(exc).__name__ and line["exc_info"] is exc
    assert line["log_level"] == "error"


def test_a_journal_that_fails_denies_audit_unavailable_and_is_logged() -> None:
    journal = MemoryJournal()
    journal.fail = True
    pipeline, signer = _pipeline(journal=journal)
    with capture_logs() as logs:
        decision = pipeline.decide(_request(signer))
    assert decision.reason_codes == (ReasonCode.AUDIT_UNAVAILABLE,)
    [line] = [entry for entry in logs if entry["event"].startswith("decision denied")]
    assert (line["reason"], line["step"], line["error"]) == (
        "audit_unavailable", "journal", "AuditUnavailable")


def test_the_same_failure_is_logged_once_per_period_with_what_was_not_logged() -> None:
    now = [0.0]
    failures = FailureLog(every_s=60.0, monotonic=lambda: now[0])
    with capture_logs() as logs:
        for _ in range(1000):
            failures.failed(ReasonCode.STORE_UNAVAILABLE, StoreUnavailable("down"), "evaluate")
        failures.failed(ReasonCode.DIRECTORY_UNAVAILABLE, DirectoryUnavailable("x"), "evaluate")
        now[0] = 61.0
        failures.failed(ReasonCode.STORE_UNAVAILABLE, StoreUnavailable("down"), "evaluate")

    assert [(e["reason"], e["not_logged_since"]) for e in logs] == [
        ("store_unavailable", 0), ("directory_unavailable", 0), ("store_unavailable", 999)]
    assert failures.logged == 3


def test_reason_codes_by_exception() -> None:
    assert reason_for(AuditUnavailable("x")) is ReasonCode.AUDIT_UNAVAILABLE
    assert reason_for(StoreUnavailable("x")) is ReasonCode.STORE_UNAVAILABLE
    assert reason_for(DirectoryUnavailable("x")) is ReasonCode.DIRECTORY_UNAVAILABLE
    assert reason_for(ValueError("x")) is ReasonCode.INTERNAL_ERROR
