"""``guardian.policy.versions``: a version hashes as the files on disk do, and the diff names
the rules added and removed (not their order or spacing) and the settings lines changed."""

from __future__ import annotations

from guardian.adapters.files.policy import policy_version
from guardian.adapters.files.policy_candidates import read_policy_files
from guardian.policy.versions import policy_diff, version_of
from policy_support import DEMO


def test_a_version_is_the_hash_decisions_carry() -> None:
    assert version_of(read_policy_files(DEMO)) == policy_version(DEMO)


def test_the_diff_names_rules_added_and_removed_not_reordering() -> None:
    old = read_policy_files(DEMO)
    rules = old["policy.csv"].splitlines()
    new = {**old, "policy.csv": "\n".join([
        "p,  billing , crm, location, read, billing", *reversed(rules[1:])]) + "\n"}
    diff = policy_diff(old, new)
    assert diff.rules_added == ("p, billing, crm, location, read, billing",)
    assert diff.rules_removed == ()  # the first line is a comment
    assert diff.settings == () and diff.model == () and not diff.empty


def test_the_diff_shows_settings_lines_changed() -> None:
    old = read_policy_files(DEMO)
    new = {**old, "guardian.yaml": old["guardian.yaml"].replace("mfa_max_age: 15m",
                                                                "mfa_max_age: 5m", 1)}
    diff = policy_diff(old, new)
    assert any(line.startswith("-") and "15m" in line for line in diff.settings)
    assert any(line.startswith("+") and "5m" in line for line in diff.settings)
    assert policy_diff(old, old).empty
