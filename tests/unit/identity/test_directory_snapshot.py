"""The directory snapshot diff and its JSON form: pure values, no LDAP."""

from __future__ import annotations

import orjson
import pytest

from guardian.errors import ConfigurationError
from guardian.identity.directory_snapshot import (
    DirectorySnapshot,
    FieldChange,
    diff_snapshots,
)
from guardian.identity.principal import Principal
from guardian.identity.vocabulary import EmployeeType

ALICE = Principal("alice", "Alice Martin", frozenset({"customer-care"}))
BOB = Principal("bob", "Bob Bernard", frozenset({"billing"}))
FRANK = Principal("frank", "Frank Moreau", frozenset({"customer-care"}), EmployeeType.CONTRACTOR,
                  supplier="Acme", contract_clause=True, manager="ivan")


def snap(*principals: Principal, at: float = 1000.0) -> DirectorySnapshot:
    return DirectorySnapshot.of(principals, at, "ldap://127.0.0.1:3389")


def test_the_same_people_give_an_empty_diff_whatever_the_snapshot_times() -> None:
    diff = diff_snapshots(snap(ALICE, BOB, at=1.0), snap(BOB, ALICE, at=2.0))
    assert diff.empty and diff.lines() == [] and diff.summary() == "0 added, 0 removed, 0 changed"


def test_everyone_is_added_when_nothing_was_known_before() -> None:
    diff = diff_snapshots(None, snap(BOB, ALICE))
    assert [p.uid for p in diff.added] == ["alice", "bob"]
    assert diff.removed == () and diff.changed == ()


def test_added_and_removed_users_are_listed_in_uid_order() -> None:
    diff = diff_snapshots(snap(ALICE, FRANK), snap(BOB, ALICE))
    assert [p.uid for p in diff.added] == ["bob"]
    assert [p.uid for p in diff.removed] == ["frank"]
    assert diff.lines()[0].startswith("+ bob: billing; active")
    assert diff.lines()[1].startswith("- frank: customer-care; active, contractor of Acme")


def test_a_disabled_account_and_a_lost_role_are_field_changes() -> None:
    after = Principal("alice", "Alice Martin", frozenset(), active=False)
    diff = diff_snapshots(snap(ALICE), snap(after))
    (change,) = diff.changed
    assert change.uid == "alice"
    assert change.changes == (
        FieldChange("roles", frozenset({"customer-care"}), frozenset()),
        FieldChange("active", True, False),
    )
    assert str(change) == "~ alice: roles: [customer-care] -> []; active: True -> False"


def test_contract_fields_supplier_clause_type_and_manager_are_compared() -> None:
    after = Principal("frank", "Frank Moreau", frozenset({"customer-care"}), EmployeeType.EMPLOYEE,
                      supplier=None, contract_clause=False, manager="judy")
    (change,) = diff_snapshots(snap(FRANK), snap(after)).changed
    assert [c.field for c in change.changes] == [
        "employee_type", "supplier", "contract_clause", "manager"]


def test_a_snapshot_survives_its_json_form_unchanged() -> None:
    odd = Principal("zoë", "Zoë \"Q\" Ünal", frozenset({"billing", "auditor"}), active=False)
    before = snap(ALICE, FRANK, odd, at=1_790_000_000.123456)
    again = DirectorySnapshot.from_dict(orjson.loads(orjson.dumps(before.as_dict())))
    assert again == before
    assert diff_snapshots(before, again).empty


@pytest.mark.parametrize("raw", [
    None, [], {"format": 99}, {"format": 1, "taken_at": 1.0},
    {"format": 1, "taken_at": "yesterday", "principals": []},
    {"format": 1, "taken_at": 1.0, "principals": [{"name": "no uid"}]},
    {"format": 1, "taken_at": 1.0, "principals": [{"uid": "x", "employee_type": "intern"}]},
])
def test_anything_but_a_snapshot_is_refused(raw: object) -> None:
    with pytest.raises(ConfigurationError):
        DirectorySnapshot.from_dict(raw)


def test_a_principal_without_an_explicit_active_flag_is_read_as_disabled() -> None:
    raw = {"format": 1, "taken_at": 1.0, "principals": [{"uid": "x", "roles": ["billing"]}]}
    assert DirectorySnapshot.from_dict(raw).principals["x"].active is False
