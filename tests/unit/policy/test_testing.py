"""Every case of policies/tests (one per demo user and reason code) holds through the pipeline."""

from __future__ import annotations

from pathlib import Path

import pytest

from guardian.adapters.files.policy_tests import load_cases, policy_test_files
from guardian.bootstrap import build_what_if
from guardian.policy.testing import PolicyCase, run_case
from guardian.policy.vocabulary import ReasonCode
from support import ROOT, demo_settings

CASES, FINDINGS = load_cases(policy_test_files(ROOT / "policies/tests"))


def test_policy_test_files_parse_cleanly() -> None:
    assert FINDINGS == []
    assert len(CASES) >= 20


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_policy_case(case: PolicyCase, tmp_path: Path) -> None:
    what_if = build_what_if(demo_settings(tmp_path))
    result = run_case(case, what_if.pipeline, what_if.signer, what_if.clock.now())
    assert result.passed, result.failures


def test_every_decidable_reason_code_has_a_policy_case() -> None:
    expected = {c for case in CASES for c in (case.reasons or ())}
    # audit_unavailable, internal_error and the dependency failures (directory_unavailable,
    # store_unavailable) cannot be provoked from a policy file; they are covered in
    # test_pipeline.py and test_failures.py. Nor can directory_stale (the age of a synced LDAP
    # snapshot, not a policy matter): test_pipeline_directory_freshness.py covers it. access_revoked comes
    # from an access review, not the policy: tests/unit/governance/test_reviews*.py cover it.
    decidable = {c.value for c in ReasonCode} - {
        "audit_unavailable", "internal_error", "directory_stale", "directory_unavailable",
        "store_unavailable", "access_revoked"}
    assert decidable <= expected, decidable - expected
