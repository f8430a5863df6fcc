"""The demo organisation for access reviews (DESIGN.md, "Demo organisation"): nina, oscar and
peggy, every manager link, the same in the directory file and in demo.ldif; role owners and
the two review definitions of policies/."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from guardian.adapters.files.directory import FileDirectory
from guardian.bootstrap import seed_sealer
from guardian.identity.principal import Principal
from ldap_support import ldif_entries as read_ldif
from support import ROOT, demo_secret, demo_settings

MANAGERS = {"alice": "nina", "bob": "nina", "dave": "nina", "frank": "nina", "grace": "nina",
            "heidi": "nina", "carol": "oscar", "erin": "oscar", "mallory": "oscar",
            "nina": "oscar", "ivan": None, "judy": None, "oscar": None, "peggy": None}
LDIF = ROOT / "policies/demo/demo.ldif"


def people(tmp_path: Path) -> tuple[FileDirectory, dict[str, Principal]]:
    directory = FileDirectory(ROOT / "policies/demo/directory.yaml",
                              seed_sealer(demo_settings(tmp_path)))
    return directory, {p.uid: p for p in directory.principals()}


def ldif_entries() -> list[dict[str, list[str]]]:
    return read_ldif(LDIF)


def test_nina_oscar_and_peggy_are_in_the_directory_file(tmp_path: Path) -> None:
    directory, by_uid = people(tmp_path)
    assert len(by_uid) == 14
    assert by_uid["nina"].roles == by_uid["oscar"].roles == frozenset({"reviewer"})
    assert by_uid["peggy"].roles == frozenset({"dpo"})
    assert all(by_uid[u].active and not by_uid[u].is_contractor for u in ("nina", "oscar", "peggy"))
    assert directory.verify_password("nina", "nina-demo-pass")
    assert not directory.verify_password("nina", "oscar-demo-pass")
    assert directory.totp_secret("peggy") == demo_secret("peggy")


def test_every_manager_link_of_the_directory_file(tmp_path: Path) -> None:
    _, by_uid = people(tmp_path)
    assert {uid: p.manager for uid, p in by_uid.items()} == MANAGERS
    assert all(m is None or m in by_uid for m in MANAGERS.values())


def test_demo_ldif_holds_the_same_people_roles_and_managers_as_the_file(tmp_path: Path) -> None:
    _, by_uid = people(tmp_path)
    entries = ldif_entries()
    persons = {e["uid"][0]: e for e in entries if "guardianPerson" in e.get("objectClass", [])}
    assert set(persons) == set(by_uid)
    managers = {uid: re.sub(r"^uid=([^,]+),ou=people,dc=guardian,dc=test$", r"\1",
                            e["manager"][0]) if "manager" in e else None
                for uid, e in persons.items()}
    assert managers == MANAGERS
    members: dict[str, set[str]] = {uid: set() for uid in persons}
    for group in (e for e in entries if "groupOfNames" in e.get("objectClass", [])):
        for dn in group["member"]:
            members[dn.split(",")[0].removeprefix("uid=")].add(group["cn"][0])
    assert members == {uid: set(p.roles) for uid, p in by_uid.items()}


def test_role_owners_are_named_in_the_policy_settings() -> None:
    roles = yaml.safe_load((ROOT / "policies/guardian.yaml").read_text())["roles"]
    owners = {name: spec.get("owner") for name, spec in roles.items() if isinstance(spec, dict)}
    assert owners == {"customer-care": "nina", "billing": "nina", "marketing": "nina",
                      "fraud-analyst": "oscar", "legal-officer": "oscar"}
    assert all(isinstance(spec, str) or spec["description"] for spec in roles.values())


def test_the_two_review_definitions_follow_the_shared_format() -> None:
    quarterly = yaml.safe_load((ROOT / "policies/reviews/crm-quarterly.yaml").read_text())
    yearly = yaml.safe_load((ROOT / "policies/reviews/roles-yearly.yaml").read_text())
    data_roles = ["customer-care", "billing", "fraud-analyst", "marketing", "legal-officer"]
    assert quarterly["kind"] == "membership" and quarterly["every"] == "3 months"
    assert quarterly["scope"] == {"roles": data_roles, "grants": True, "keys": False}
    assert quarterly["stages"] == [{"reviewer": "manager", "fallback": ["ivan", "peggy"],
                                    "days": 14, "reminders": [7, 3, 1], "escalate_to": ["ivan"]}]
    assert quarterly["no_answer"] == {"high": "revoke", "medium": "follow-recommendation",
                                      "low": "follow-recommendation"}
    assert quarterly["usage_window_days"] == 90 and quarterly["brake"] == 0.5
    assert yearly["kind"] == "permission" and yearly["every"] == "12 months"
    assert yearly["scope"]["roles"] == data_roles
    assert yearly["stages"] == [{"reviewer": "role-owner", "fallback": ["ivan", "peggy"],
                                 "days": 30, "reminders": [14, 7, 1]}]
    assert set(yearly["no_answer"].values()) == {"keep-flagged"}
    assert yearly["usage_window_days"] == 365 and yearly["brake"] == 0.5
