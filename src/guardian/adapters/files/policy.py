"""Reads ``policies/`` (``guardian.yaml``, ``policy.csv``, ``model.conf``) into a policy definition.

Problems of shape (bad YAML, a CSV line with the wrong number of fields, a bad duration) are
collected as lint findings with file and line, like the consistency checks of
:func:`guardian.policy.definition.lint_findings`, so ``guardian policy lint`` reports all of
them at once. The policy version is the SHA-256 of the three files' bytes.
"""

from __future__ import annotations

import hashlib
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from guardian.adapters.files.yaml_lines import LINE_KEY, load_with_lines
from guardian.errors import LintFinding, PolicyLintError
from guardian.policy.definition import (
    Inheritance,
    JustificationRule,
    ObligationRule,
    PolicyDefinition,
    Purpose,
    Rule,
    Sensitivity,
    Source,
    lint_findings,
)
from guardian.policy.model import Obligation

MODEL_FILE = "model.conf"
RULES_FILE = "policy.csv"
SETTINGS_FILE = "guardian.yaml"
_DURATION = re.compile(r"^\s*(\d+)\s*([smhd])\s*$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


@dataclass
class _Builder:
    root: Path
    findings: list[LintFinding] = field(default_factory=list)

    def find(self, path: str, line: int, message: str) -> None:
        self.findings.append(LintFinding(path, line, message))


def load_policy(root: Path) -> PolicyDefinition:
    """Load and lint the policy in ``root``; raise :class:`PolicyLintError` on any finding."""
    policy, findings = read_policy(root)
    if findings:
        raise PolicyLintError(findings)
    assert policy is not None
    return policy


def read_policy(root: Path) -> tuple[PolicyDefinition | None, list[LintFinding]]:
    """The policy in ``root`` (``None`` if it could not be read at all) and every finding."""
    b = _Builder(root)
    for name in (MODEL_FILE, RULES_FILE, SETTINGS_FILE):
        if not (root / name).is_file():
            b.find(str(root / name), 0, "file is missing")
    if b.findings:
        return None, b.findings
    settings = _read_settings(b)
    if settings is None:
        return None, b.findings
    rules, inheritance = _read_rules(b)
    _check_model(b)
    policy = PolicyDefinition(
        databases=settings["databases"], sensitivities=settings["sensitivities"],
        purposes=settings["purposes"], roles=frozenset(settings["roles"]), rules=tuple(rules),
        inheritance=tuple(inheritance), obligations=tuple(settings["obligations"]),
        version=policy_version(root), role_sources=settings["sources"],
        role_owners=settings["owners"],
    )
    b.findings.extend(lint_findings(policy))
    return policy, b.findings


def policy_version(root: Path) -> str:
    digest = hashlib.sha256()
    for name in (MODEL_FILE, RULES_FILE, SETTINGS_FILE):
        data = (root / name).read_bytes()
        digest.update(name.encode() + b"\0" + len(data).to_bytes(8, "big") + data)
    return "sha256:" + digest.hexdigest()


def parse_duration(value: Any) -> int | None:
    """``null`` → None; ``90`` → 90 s; ``"15m"`` → 900 s. Raises ValueError otherwise."""
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    match = _DURATION.match(str(value))
    if match is None:
        raise ValueError(f"bad duration {value!r} (expected e.g. 30s, 15m, 8h, 1d or null)")
    return int(match.group(1)) * _UNITS[match.group(2)]


def _read_settings(b: _Builder) -> dict[str, Any] | None:
    path = b.root / SETTINGS_FILE
    rel = str(path)
    try:
        raw = load_with_lines(path)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        b.find(rel, (mark.line + 1) if mark else 0, f"invalid YAML: {exc}")
        return None
    if not isinstance(raw, dict):
        b.find(rel, 1, "expected a mapping at the top level")
        return None
    out: dict[str, Any] = {"sources": {}}
    sens: dict[str, Sensitivity] = {}
    for name, spec in _entries(raw, "sensitivities"):
        try:
            age = parse_duration(spec.get("mfa_max_age") if isinstance(spec, dict) else spec)
        except ValueError as exc:
            b.find(rel, _line(spec, raw), f"sensitivity {name}: {exc}")
            continue
        sens[name] = Sensitivity(name, age)
    out["sensitivities"] = sens
    dbs: dict[str, dict[str, str]] = {}
    for db, cats in _entries(raw, "databases"):
        if not isinstance(cats, dict):
            b.find(rel, _line(raw.get("databases"), raw), f"database {db}: expected categories")
            continue
        out["sources"][f"db:{db}"] = Source(rel, _line(cats, raw))
        dbs[db] = {str(c): str(s) for c, s in cats.items() if c != LINE_KEY}
    out["databases"] = dbs
    out["purposes"] = {name: _read_purpose(b, rel, name, spec, raw)
                       for name, spec in _entries(raw, "purposes")}
    out["roles"] = [name for name, _ in _entries(raw, "roles")]
    out["owners"] = _read_owners(b, rel, raw, out["sources"])
    out["obligations"] = list(_read_obligations(b, raw, rel))
    return out


_ROLE_KEYS = {"description", "owner", LINE_KEY}


def _read_owners(b: _Builder, rel: str, raw: dict[str, Any], sources: dict[str, Source]
                 ) -> dict[str, str]:
    """A role is a description, or ``{description, owner}``: the owners, by role."""
    owners: dict[str, str] = {}
    for name, spec in _entries(raw, "roles"):
        if isinstance(spec, str) or spec is None:
            continue
        line = _line(spec, raw.get("roles"))
        if not isinstance(spec, dict):
            b.find(rel, line, f"role {name}: expected a description or "
                              "{description: ..., owner: uid}")
            continue
        for key in sorted(set(spec) - _ROLE_KEYS):
            b.find(rel, line, f"role {name}: unknown key {key!r} (expected description, owner)")
        owner = spec.get("owner")
        if owner is not None and (not isinstance(owner, str) or not owner.strip()):
            b.find(rel, line, f"role {name}: owner must be a uid")
        elif owner is not None:
            owners[name] = owner
            sources[f"owner:{name}"] = Source(rel, line)
    return owners


_PURPOSE_KEYS = {"description", "consent", "justification", "bulk", LINE_KEY}
_RULE_KEYS = {"min_length", "pattern", LINE_KEY}


def _read_purpose(b: _Builder, rel: str, name: str, spec: Any, raw: Any) -> Purpose:
    """``{description, consent, bulk, justification}``; ``justification`` is ``true`` (the
    default rule), or ``{min_length: N, pattern: 'REQ-\\d+'}``."""
    line = _line(spec, raw.get("purposes"))
    spec = spec if isinstance(spec, dict) else {}
    for key in sorted(set(spec) - _PURPOSE_KEYS):
        b.find(rel, line, f"purpose {name}: unknown key {key!r} "
                          f"(expected {', '.join(sorted(_PURPOSE_KEYS - {LINE_KEY}))})")
    for key in ("consent", "bulk"):
        if not isinstance(spec.get(key, False), bool):
            b.find(rel, line, f"purpose {name}: {key} must be true or false")
    return Purpose(name, spec.get("consent") is True,
                   _read_justification(b, rel, name, spec.get("justification", False), line),
                   str(spec.get("description", "")), bulk=spec.get("bulk") is True)


def _read_justification(
    b: _Builder, rel: str, name: str, spec: Any, line: int
) -> JustificationRule | None:
    if spec is False or spec is None:
        return None
    if spec is True:
        return JustificationRule()
    if not isinstance(spec, dict):
        b.find(rel, line, f"purpose {name}: justification must be true, false or "
                          "{min_length: N, pattern: REGEX}")
        return JustificationRule()
    line = _line(spec, {LINE_KEY: line})
    for key in sorted(set(spec) - _RULE_KEYS):
        b.find(rel, line, f"purpose {name}: justification: unknown key {key!r} "
                          "(expected min_length, pattern)")
    rule = JustificationRule()
    length = spec.get("min_length", rule.min_length)
    if isinstance(length, bool) or not isinstance(length, int) or not 1 <= length <= 1024:
        b.find(rel, line, f"purpose {name}: justification min_length must be 1 to 1024")
        length = rule.min_length
    pattern = spec.get("pattern")
    compiled = None
    if pattern is not None:
        try:
            compiled = re.compile(str(pattern))
        except re.error as exc:
            b.find(rel, line, f"purpose {name}: justification pattern {pattern!r} is not a "
                              f"valid regular expression: {exc}")
    return JustificationRule(length, compiled)


def _read_obligations(b: _Builder, raw: dict[str, Any], rel: str) -> Iterator[ObligationRule]:
    for item in raw.get("obligations") or []:
        line = _line(item, raw)
        try:
            ob = item["obligation"]
            yield ObligationRule(
                role=item.get("role"), database=str(item["database"]),
                category=str(item["category"]), action=str(item["action"]),
                obligation=Obligation(str(ob["type"]), tuple(str(f) for f in ob.get("fields", ()))),
                source=Source(rel, line),
            )
        except (KeyError, TypeError, AttributeError) as exc:
            b.find(rel, line, f"obligation is missing {exc}")


def _read_rules(b: _Builder) -> tuple[list[Rule], list[Inheritance]]:
    path = b.root / RULES_FILE
    rel = str(path)
    rules: list[Rule] = []
    inheritance: list[Inheritance] = []
    try:
        text_lines = path.read_text("utf-8").splitlines()
    except UnicodeDecodeError as exc:
        b.find(rel, 0, f"not UTF-8 text: {exc.reason} at byte {exc.start}")
        return rules, inheritance
    for number, line in enumerate(text_lines, start=1):
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        fields = [sys.intern(f.strip()) for f in text.split(",")]  # names repeat: one copy
        src = Source(rel, number)
        if fields[0] == "p" and len(fields) == 6:
            role, database, category, action, purpose = fields[1:]
            rules.append(Rule(role, database, category, action, purpose, source=src))
        elif fields[0] == "g" and len(fields) == 3:
            inheritance.append(Inheritance(fields[1], fields[2], source=src))
        else:
            b.find(rel, number, "expected `p, role, database, category, action, purpose` "
                                "or `g, role, parent-role`")
    return rules, inheritance


def _check_model(b: _Builder) -> None:
    path = b.root / MODEL_FILE
    text = path.read_text("utf-8")
    for needed in ("r = sub, db, cat, act, purpose", "p = sub, db, cat, act, purpose", "g = _, _"):
        if needed not in text:
            b.find(str(path), 0, f"model must declare `{needed}` (the index compiles that shape)")


def _entries(raw: dict[str, Any], key: str) -> Iterator[tuple[str, Any]]:
    section = raw.get(key) or {}
    if isinstance(section, dict):
        for name, value in section.items():
            if name != LINE_KEY:
                yield str(name), value


def _line(node: Any, fallback: Any) -> int:
    for candidate in (node, fallback):
        if isinstance(candidate, dict) and LINE_KEY in candidate:
            return int(candidate[LINE_KEY])
    return 0
