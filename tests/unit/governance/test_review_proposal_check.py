"""A permission review's revoked rules become a ``policy.csv`` diff that is checked like a
policy change: applied with ``patch`` to a copy of the policy folder, the proposal passes
``guardian policy lint`` and ``guardian policy test`` when it breaks nothing, and the campaign
says so (``proposal_problems`` empty); a proposal that removes a rule a policy test relies on
is reported with the failing test, by the campaign and by ``guardian policy test`` alike."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

from typer.testing import CliRunner

from guardian.bootstrap import build_what_if, proposal_checker, read_review_definitions
from guardian.cli.main import app as cli
from guardian.governance.review_closing import ReviewClosing
from guardian.governance.review_model import Campaign, Verdict
from guardian.governance.reviews import DecisionInput
from review_support import ROOT, Wired, policy, wired
from support import demo_settings

HARMLESS = "billing/crm/products-services/export/billing"
TESTED = "billing/crm/economic-financial/read/billing"  # "bob reads economic-financial …"


def _revoke(tmp_path: Path, *rules: str) -> tuple[Wired, Campaign]:
    settings = demo_settings(tmp_path)
    definitions, findings = read_review_definitions(ROOT / "policies", policy())
    assert not findings
    w = wired(definitions["roles-yearly"])
    what_if = build_what_if(settings)
    closing = ReviewClosing(w.deps, policy_csv=lambda: (ROOT / "policies/policy.csv")
                            .read_text("utf-8"),
                            check_policy=proposal_checker(settings, what_if.directory,
                                                          what_if.clock))
    campaign, _ = w.service.open("ivan", "roles-yearly")
    items = w.store.campaign_items(campaign.id)
    chosen = [i for i in items if f"{i.access.role}/{i.access.ref}" in rules]
    assert len(chosen) == len(rules)
    by_reviewer: dict[str, list[DecisionInput]] = {}
    for i in chosen:
        assert i.reviewer is not None
        by_reviewer.setdefault(i.reviewer, []).append(DecisionInput(i.id, Verdict.REVOKE))
    for reviewer, decisions in by_reviewer.items():
        w.service.decide(reviewer, decisions)
    return w, closing.close("ivan", campaign.id)


def _applied(tmp_path: Path, proposal: str) -> Path:
    """The proposal applied with ``patch -p1`` to a copy of the policy folder."""
    root = tmp_path / "proposed"
    shutil.copytree(ROOT / "policies", root / "policies")
    patched = subprocess.run(["patch", "-p1", "--forward"], input=proposal, text=True,
                             cwd=root, capture_output=True, timeout=30)
    assert patched.returncode == 0, patched.stdout + patched.stderr
    return root / "policies"


def _cli(copy: Path, tmp_path: Path, *args: str) -> tuple[int, str]:
    env = {"GUARDIAN_POLICY_DIR": str(copy), "GUARDIAN_DATA_DIR": str(tmp_path / "cli"),
           "GUARDIAN_DIRECTORY_FILE": str(copy / "demo/directory.yaml"),
           "GUARDIAN_CUSTOMERS_FILE": str(copy / "demo/customers.yaml"),
           "GUARDIAN_APPLICATIONS_FILE": str(copy / "demo/applications.yaml")}
    result = CliRunner().invoke(cli, list(args), env=env)
    return result.exit_code, result.output


def test_a_proposal_that_breaks_nothing_passes_policy_lint_and_policy_test(
    tmp_path: Path
) -> None:
    _, campaign = _revoke(tmp_path, HARMLESS)

    assert campaign.proposal is not None
    assert "-p, billing, crm, products-services, export, billing" in campaign.proposal
    assert campaign.proposal_problems == ()
    copy = _applied(tmp_path, campaign.proposal)
    text = (copy / "policy.csv").read_text()
    assert "p, billing, crm, products-services, export, billing" not in text
    assert "p, billing, crm, products-services, read, billing" in text  # only the revoked
    assert _cli(copy, tmp_path, "policy", "lint", str(copy))[0] == 0
    code, out = _cli(copy, tmp_path, "policy", "test", str(copy / "tests"))
    assert code == 0, out


def test_a_proposal_that_breaks_a_policy_test_is_reported_as_such(tmp_path: Path) -> None:
    _, campaign = _revoke(tmp_path, TESTED, HARMLESS)

    assert campaign.proposal is not None and campaign.proposal_problems
    assert all(p.startswith("test: ") for p in campaign.proposal_problems)
    assert any("bob reads economic-financial data for billing" in p
               for p in campaign.proposal_problems)
    copy = _applied(tmp_path, campaign.proposal)
    assert _cli(copy, tmp_path, "policy", "lint", str(copy))[0] == 0  # lints, but …
    code, out = _cli(copy, tmp_path, "policy", "test", str(copy / "tests"), "--output", "json")
    assert code == 1
    failed = [c["name"] for c in json.loads(out[:out.rindex("]") + 1]) if c["result"] == "fail"]
    assert failed == ["bob reads economic-financial data for billing, IBAN masked"]
