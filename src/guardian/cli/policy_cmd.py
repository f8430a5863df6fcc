"""``guardian policy lint``, ``test``, ``impact`` (what a candidate would flip) and ``apply``."""

from __future__ import annotations

import time
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer
from rich.console import Console
from rich.markup import escape

from guardian.cli.common import built, err, fail, settings_from
from guardian.cli.output import Column, Output, OutputOption, render
from guardian.config import Settings
from guardian.errors import GuardianError, PolicyLintError, PolicyTestsFailed

if TYPE_CHECKING:
    from guardian.policy.impact import ImpactReport
    from guardian.policy.pipeline import CompiledPolicy
    from guardian.policy.versions import PolicyDiff
    from guardian.ports import AuditIndex, Directory

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


IMPACT_COLUMNS = (
    Column("direction", styles={"permit→deny": "red", "deny→permit": "yellow"}),
    Column("by"), Column("value"), Column("flips"), Column("examples"),
)
Since = Annotated[str, typer.Option("--since", help="How far back to replay, e.g. 30d, 12h")]


def _since_ms(since: str, now: float) -> int:
    from guardian.bootstrap import parse_duration

    try:
        seconds = parse_duration(since)
    except ValueError as exc:
        fail(f"--since: {exc}")
    return int((now - float(seconds or 0)) * 1000)


def _replay(index: AuditIndex, baseline: CompiledPolicy, candidate: CompiledPolicy,
            directory: Directory, since_ms: int) -> ImpactReport:
    """Replay the window with a progress bar on stderr (it shows on long replays only)."""
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from guardian.policy.impact import Replay
    from guardian.policy.recorded import recorded_decisions

    def roles_of(uid: str) -> frozenset[str] | None:
        principal = directory.get(uid)
        return None if principal is None else principal.roles

    replay = Replay(baseline, candidate, roles_of=roles_of)
    with Progress(SpinnerColumn(), TextColumn("replaying {task.completed:,} decisions"),
                  TimeElapsedColumn(), console=err, transient=True) as bar:
        task = bar.add_task("replay", total=None)
        decisions = recorded_decisions(index, since_ms,
                                       progress=lambda n: bar.advance(task, n))
        return replay.add_all(decisions)


def _print_impact(report: ImpactReport, output: Output) -> None:
    render(report.rows(), IMPACT_COLUMNS, output, empty="no decision would flip")
    err.print(f"{report.replayed:,} decisions replayed: "
              f"[red]{report.flips['permit→deny']:,} permit→deny[/], "
              f"[yellow]{report.flips['deny→permit']:,} deny→permit[/]"
              + (f" ({report.skipped} events skipped: not whole decisions)"
                 if report.skipped else ""))


@app.command()
def impact(
    since: Since = "30d",
    policy_dir: Annotated[Path | None, typer.Option(
        "--policy", help="Candidate policy folder (default: GUARDIAN_POLICY_DIR)")] = None,
    output: OutputOption = Output.TABLE,
) -> None:
    """Replay the decisions recorded since --since against a candidate policy and say what
    would flip (permit→deny, deny→permit) by role, person, category and purpose."""
    from guardian.bootstrap import build_impact, read_policy
    from guardian.policy.pipeline import CompiledPolicy

    settings = settings_from()
    root = policy_dir or settings.policy_dir
    candidate, findings = read_policy(root)
    if findings or candidate is None:
        _print_findings([str(f) for f in findings])
    sources = build_impact(settings)
    try:
        report = _replay(sources.index, sources.baseline, CompiledPolicy.of(candidate),
                         sources.directory, _since_ms(since, time.time()))
    except GuardianError as exc:
        fail(f"{exc.code}: {exc.message}")
    finally:
        sources.close()
    _print_impact(report, output)


@app.command()
def apply(
    policy_dir: Annotated[Path | None, typer.Argument(help="Policy folder")] = None,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Apply without asking")] = False,
    since: Since = "30d",
    actor: Annotated[str, typer.Option("--actor", help="Who applies, for the audit trail")]
    = "cli",
) -> None:
    """Lint, test and compile a policy, show what changes and what it would flip, then (once
    confirmed) make it the policy in force: stored, journalled, swapped in running servers.

    The journal must be writable: while a server holds it, POST /v1/policy as a security
    officer instead (the server swaps at once, the others through the change feed)."""
    from guardian.bootstrap import read_policy_files, read_test_files

    settings = settings_from()
    root = policy_dir or settings.policy_dir
    files, tests = read_policy_files(root), read_test_files(root)
    with built() as guardian:
        service = guardian.policies
        assert service is not None
        try:
            candidate = service.check(files, tests)
        except (PolicyLintError, PolicyTestsFailed) as exc:
            _print_findings([str(f) for f in exc.findings] if isinstance(exc, PolicyLintError)
                            else list(exc.failures), exc.code)
        _print_diff(candidate.diff)
        try:
            _print_impact(_replay(guardian.audit.index, guardian.pipeline.policy,
                                  candidate.policy, guardian.directory,
                                  _since_ms(since, guardian.clock.now())), Output.TABLE)
        except GuardianError as exc:
            err.print(f"[yellow]impact not known ({exc.code}): {escape(exc.message)}[/]")
        if not yes and not typer.confirm(f"Apply {candidate.version[:19]}…?"):
            err.print("not applied")
            raise typer.Exit(1)
        applied = service.apply(actor, files, tests)
    console.print(f"[green]applied[/] {applied.version.version} (was "
                  f"{applied.version.previous})")


def _print_findings(lines: list[str], code: str = "policy_lint_error") -> NoReturn:
    for line in lines:
        err.print(f"[red]{escape(line)}[/]")
    err.print(f"[red]{code}: {len(lines)} problem(s); the policy in force stays[/]")
    raise typer.Exit(1)


def _print_diff(diff: PolicyDiff) -> None:
    if diff.empty:
        err.print("no change from the policy in force")
    for line in diff.rules_added:
        console.print(f"[green]+ {escape(line)}[/]")
    for line in diff.rules_removed:
        console.print(f"[red]- {escape(line)}[/]")
    for name, lines in (("guardian.yaml", diff.settings), ("model.conf", diff.model)):
        if lines:
            console.print(f"[bold]{name}[/]")
        for line in lines:
            colour = "green" if line.startswith("+") else "red"
            console.print(f"[{colour}]{escape(line)}[/]")
