"""Reads the access review definitions of ``policies/reviews/*.yaml`` (one per file, named by
its stem), with the line of every mapping, into :class:`ReviewDefinition`s and lint findings.

A definition's version is the SHA-256 of its file's bytes, so a campaign records exactly which
text it followed.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Collection
from pathlib import Path

import yaml

from guardian.adapters.files.yaml_lines import LINE_KEY, load_with_lines
from guardian.errors import LintFinding
from guardian.governance.review_definitions import (
    ReviewDefinition,
    check_definition,
    parse_definition,
)
from guardian.policy.definition import PolicyDefinition

REVIEWS_DIR = "reviews"
_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")


def review_files(policy_root: Path) -> list[Path]:
    folder = policy_root / REVIEWS_DIR
    return sorted(folder.glob("*.yaml")) if folder.is_dir() else []


def read_review_definitions(
    policy_root: Path, policy: PolicyDefinition | None = None,
    people: Collection[str] | None = None,
) -> tuple[dict[str, ReviewDefinition], list[LintFinding]]:
    """Every definition that parses, and every finding (checked against ``policy`` and the
    directory's ``people`` when given)."""
    definitions: dict[str, ReviewDefinition] = {}
    findings: list[LintFinding] = []
    for path in review_files(policy_root):
        rel = str(path)
        if not _NAME.match(path.stem):
            findings.append(LintFinding(rel, 0, "a definition's file name is 1 to 64 lowercase "
                                                "letters, digits, '-' or '_'"))
            continue
        try:
            data = path.read_bytes()
            raw = load_with_lines(path)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            findings.append(LintFinding(rel, (mark.line + 1) if mark else 0,
                                        f"invalid YAML: {exc}"))
            continue
        version = "sha256:" + hashlib.sha256(data).hexdigest()
        definition, found = parse_definition(path.stem, raw, rel, line_key=LINE_KEY,
                                             version=version)
        findings.extend(found)
        if definition is None:
            continue
        if policy is not None:
            findings.extend(check_definition(definition, policy, people))
        definitions[definition.name] = definition
    if policy is not None and people is not None:
        for role, owner in sorted(policy.role_owners.items()):
            if owner not in people:
                src = policy.role_sources.get(f"owner:{role}")
                findings.append(LintFinding(src.path if src else "guardian.yaml",
                                            src.line if src else 0,
                                            f"role {role}: owner {owner!r} is not in the "
                                            "directory"))
    return definitions, findings


def load_review_definitions(
    policy_root: Path, policy: PolicyDefinition, people: Collection[str] | None = None,
) -> dict[str, ReviewDefinition]:
    """The definitions that lint clean (a definition with a finding is left out)."""
    definitions, findings = read_review_definitions(policy_root, policy, people)
    bad = {f.path for f in findings}
    return {n: d for n, d in definitions.items() if d.source.path not in bad}
