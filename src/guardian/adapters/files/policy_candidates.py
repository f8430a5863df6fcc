"""Candidate policies as text: read from a folder, checked and compiled from their content.

``guardian policy apply`` sends a policy as the text of its three files (and of its test
cases); the server checks and compiles that content, never a path of the caller's machine.
:class:`FilePolicyCompiler` writes the content to a private temporary folder and reads it with
the same code as ``policies/`` (:func:`~guardian.adapters.files.policy.read_policy`), so a
candidate lints exactly as ``guardian policy lint`` would; findings name the file, not the
temporary folder.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path

from guardian.adapters.files.policy import read_policy
from guardian.adapters.files.policy_tests import policy_test_files
from guardian.errors import LintFinding, PolicyLintError, PolicyTestsFailed
from guardian.policy.pipeline import CompiledPolicy
from guardian.policy.versions import POLICY_FILES

TestRunner = Callable[[CompiledPolicy, list[Path]], list[str]]
"""Runs the test-case files against a compiled policy; answers each failure, described."""


def read_policy_files(root: Path) -> dict[str, str]:
    """The three policy files of ``root`` as text (a missing one is left out: lint says so)."""
    return {name: (root / name).read_bytes().decode("utf-8")
            for name in POLICY_FILES if (root / name).is_file()}


def read_test_files(root: Path) -> dict[str, str]:
    """The test-case files of ``root/tests`` (none if there is no such folder)."""
    folder = root / "tests"
    if not folder.is_dir():
        return {}
    return {path.name: path.read_text("utf-8") for path in policy_test_files(folder)}


class FilePolicyCompiler:
    """Implements :data:`guardian.policy.apply.PolicyCompiler`."""

    def __init__(self, run_tests: TestRunner) -> None:
        self._run_tests = run_tests

    def __call__(self, files: Mapping[str, str], tests: Mapping[str, str]) -> CompiledPolicy:
        with tempfile.TemporaryDirectory(prefix="guardian-policy-") as tmp:
            root = Path(tmp)
            for name in POLICY_FILES:
                if name in files:
                    (root / name).write_bytes(files[name].encode("utf-8"))
            try:
                policy, findings = read_policy(root)
            except UnicodeDecodeError as exc:
                raise PolicyLintError([LintFinding("policy", 0, f"not UTF-8: {exc}")]) from exc
            if findings or policy is None:
                raise PolicyLintError([_relative(f, root) for f in findings])
            compiled = CompiledPolicy.of(policy)
            if not tests:
                return compiled
            (root / "tests").mkdir()
            for name, text in tests.items():
                (root / "tests" / Path(name).name).write_text(text, "utf-8")
            failures = self._run_tests(compiled, policy_test_files(root / "tests"))
        if failures:
            raise PolicyTestsFailed([f.replace(f"{root}/", "") for f in failures])
        return compiled


def _relative(finding: LintFinding, root: Path) -> LintFinding:
    return LintFinding(finding.path.replace(f"{root}/", ""), finding.line, finding.message)
