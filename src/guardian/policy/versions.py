"""Policy versions: the three files of ``policies/`` as applied, their hash and what changed.

A version is the content of ``model.conf``, ``policy.csv`` and ``guardian.yaml`` with the
SHA-256 over them (the same ``sha256:…`` every decision carries as ``policy_version``), who
applied it and when. :func:`policy_diff` says what an apply changes, for the
``policy.changed`` audit event and for the officer about to confirm: the permission lines of
``policy.csv`` added and removed (order and comments do not count), and the changed lines of
``guardian.yaml`` and ``model.conf``. Pure: nothing here reads files.
"""

from __future__ import annotations

import difflib
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

MODEL_FILE = "model.conf"
RULES_FILE = "policy.csv"
SETTINGS_FILE = "guardian.yaml"
POLICY_FILES = (MODEL_FILE, RULES_FILE, SETTINGS_FILE)
MAX_FILE_CHARS = 4_000_000
"""Largest policy file accepted (a policy of 100 000 rules is about 5 MB in all)."""


@dataclass(frozen=True, slots=True)
class PolicyVersion:
    """One applied policy: its files, their hash, who applied it and when."""

    version: str
    files: Mapping[str, str]
    applied_at: float
    applied_by: str
    previous: str | None = None

    def summary(self) -> dict[str, Any]:
        return {"version": self.version, "applied_at": self.applied_at,
                "applied_by": self.applied_by, "previous": self.previous}


def version_of(files: Mapping[str, str]) -> str:
    """``sha256:…`` over the three files, as :func:`policy_version` hashes them on disk."""
    digest = hashlib.sha256()
    for name in POLICY_FILES:
        data = files[name].encode("utf-8")
        digest.update(name.encode() + b"\0" + len(data).to_bytes(8, "big") + data)
    return "sha256:" + digest.hexdigest()


@dataclass(frozen=True, slots=True)
class PolicyDiff:
    rules_added: tuple[str, ...]
    rules_removed: tuple[str, ...]
    settings: tuple[str, ...]
    """Changed lines of ``guardian.yaml``, ``+``/``-`` prefixed (no context)."""
    model: tuple[str, ...]

    @property
    def empty(self) -> bool:
        return not (self.rules_added or self.rules_removed or self.settings or self.model)

    def as_dict(self) -> dict[str, list[str]]:
        return {"rules_added": list(self.rules_added), "rules_removed": list(self.rules_removed),
                "settings": list(self.settings), "model": list(self.model)}


def policy_diff(old: Mapping[str, str] | None, new: Mapping[str, str]) -> PolicyDiff:
    """What ``new`` changes from ``old`` (``None``: no previous version, everything is new)."""
    before = old or {}
    old_rules = _rule_lines(before.get(RULES_FILE, ""))
    new_rules = _rule_lines(new.get(RULES_FILE, ""))
    return PolicyDiff(
        rules_added=tuple(sorted(new_rules - old_rules)),
        rules_removed=tuple(sorted(old_rules - new_rules)),
        settings=_changed_lines(before.get(SETTINGS_FILE, ""), new.get(SETTINGS_FILE, "")),
        model=_changed_lines(before.get(MODEL_FILE, ""), new.get(MODEL_FILE, "")),
    )


def _rule_lines(text: str) -> set[str]:
    """The ``p``/``g`` lines, normalised (``p, a,b`` and ``p,a, b`` are the same rule)."""
    lines = set()
    for line in text.splitlines():
        stripped = line.strip()
        if stripped and not stripped.startswith("#"):
            lines.add(", ".join(f.strip() for f in stripped.split(",")))
    return lines


def _changed_lines(old: str, new: str) -> tuple[str, ...]:
    diff = difflib.unified_diff(old.splitlines(), new.splitlines(), lineterm="", n=0)
    return tuple(line for line in diff
                 if line[:1] in "+-" and not line.startswith(("+++", "---")))
