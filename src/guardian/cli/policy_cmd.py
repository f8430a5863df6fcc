"""``guardian policy lint`` and ``guardian policy test``."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from guardian.cli.common import err, settings_from
from guardian.cli.output import Column, Output, OutputOption, render
from guardian.config import Settings

app = typer.Typer(no_args_is_help=True, help="Check and test the policy in policies/.")
console = Console(soft_wrap=True)


@app.command()
def lint(
    policy_dir: Annotated[Path | None, typer.Argument(help="Policy folder")] = None,
) -> None:
    """Report unknown roles, databases, categories, purposes and actions, with file and line;
    also the access review definitions of reviews/*.yaml (unknown roles, reviewers, rules)."""
    from guardian.bootstrap import read_policy, read_review_definitions

    settings = settings_from()
    root = policy_dir or settings.policy_dir
    policy, findings = read_policy(root)
    reviews: Mapping[str, object] = {}
    if policy is not None:
        reviews, review_findings = read_review_definitions(root, policy, _people(settings))
        findings.extend(review_findings)
    for finding in findings:
        console.print(f"[red]{escape(str(finding))}[/]")
    if findings:
        console.print(f"[red]{len(findings)} problem(s)[/]")
        raise typer.Exit(1)
    assert policy is not None
    console.print(f"[green]ok[/] {root}: {len(policy.rules)} rules, {len(policy.roles)} roles, "
                  f"{len(policy.purposes)} purposes, {len(reviews)} review definition(s) "
                  f"({policy.version[:19]}…)")


def _people(settings: Settings) -> frozenset[str] | None:
    """The uids of the directory file, to check reviewers against; ``None`` (not checked)
    for LDAP, which lint does not reach over the network."""
    from guardian.bootstrap import directory_file_uids

    return directory_file_uids(settings)


CASE_COLUMNS = (
    Column("result", styles={"pass": "green", "fail": "red"}), Column("name"),
    Column("where"), Column("failures"), Column("reasons"),
)


@app.command("test")
def test_(
    path: Annotated[Path | None, typer.Argument(help="Test file or folder")] = None,
    verbose: Annotated[bool, typer.Option(
        "--verbose", "-v", help="The table lists the passing cases too")] = False,
    output: OutputOption = Output.TABLE,
) -> None:
    """Run policy tests: each case's request must get the expected decision and reasons.

    The table lists the failures (with -v every case; json and csv always every case);
    exit 1 if any case fails."""
    from guardian.bootstrap import build_what_if, read_policy_cases
    from guardian.policy.testing import run_case

    settings = settings_from()
    files, cases, findings = read_policy_cases(path or settings.policy_dir / "tests")
    for finding in findings:
        err.print(f"[red]{escape(str(finding))}[/]")
    what_if = build_what_if(settings)
    now = what_if.clock.now()
    rows = []
    for case in cases:
        result = run_case(case, what_if.pipeline, what_if.signer, now)
        rows.append({"result": "pass" if result.passed else "fail", "name": case.name,
                     "where": f"{case.source.path}:{case.source.line}",
                     "failures": list(result.failures),
                     "reasons": [r.code.value for r in result.decision.reasons]})
    failed = sum(row["result"] == "fail" for row in rows)
    shown = rows if verbose or output is not Output.TABLE else \
        [row for row in rows if row["result"] == "fail"]
    render(shown, CASE_COLUMNS, output, empty="no failure")
    colour = "green" if not failed and not findings else "red"
    err.print(f"[{colour}]{len(cases) - failed} passed, {failed} failed[/] "
              f"({len(files)} file(s))")
    if failed or findings or not cases:
        raise typer.Exit(1)
