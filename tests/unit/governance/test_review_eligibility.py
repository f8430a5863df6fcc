"""Who reviews: the rule's person, else the first eligible fallback; never the person
reviewed, never the grantor, never a report of the person reviewed, never a disabled or unknown
account; everyone passed over is recorded."""

from __future__ import annotations

from guardian.adapters.memory.ports import MemoryDirectory
from guardian.governance.review_definitions import ReviewerRule, Stage
from guardian.governance.review_eligibility import assign, ineligibility
from guardian.governance.review_model import Access, AccessKind, AssignedBy
from guardian.identity.principal import Principal
from review_support import NOW, OWNERS, people

DIRECTORY = MemoryDirectory(people())
ROLE = Access(AccessKind.ROLE, "customer-care", "directory")
MANAGER = Stage(ReviewerRule.MANAGER, 14, fallback=("ivan", "peggy"))


def _who(uid: str) -> Principal:
    found = DIRECTORY.get(uid)
    assert found is not None
    return found


def _assign(stage: Stage, subject: Principal | None, access: Access = ROLE,
            directory: MemoryDirectory = DIRECTORY) -> tuple[str | None, AssignedBy, tuple[object, ...]]:
    a = assign(stage, 1, subject, access, directory, OWNERS, ("peggy",), NOW)
    return a.reviewer, a.assigned_by, a.skipped


def test_the_manager_reviews_by_the_rule() -> None:
    assert _assign(MANAGER, _who("alice"))[:2] == ("nina", AssignedBy.MANAGER)


def test_no_manager_falls_back_to_the_first_fallback() -> None:
    oscar = Principal("oscar", "Oscar", frozenset({"fraud-analyst"}))
    assert _assign(MANAGER, oscar) == ("ivan", AssignedBy.FALLBACK, ("manager: none",))


def test_a_disabled_manager_falls_back() -> None:
    disabled = [p if p.uid != "nina" else Principal("nina", "Nina", p.roles, active=False)
                for p in people()]
    reviewer, how, skipped = _assign(MANAGER, _who("alice"), directory=MemoryDirectory(disabled))
    assert (reviewer, how) == ("ivan", AssignedBy.FALLBACK)
    assert skipped == ("manager nina: account disabled",)


def test_a_manager_not_in_the_directory_falls_back() -> None:
    ghost = Principal("zed", "Zed", frozenset({"billing"}), manager="gone")
    assert _assign(MANAGER, ghost)[2] == ("manager gone: not in the directory",)


def test_never_oneself_even_from_the_fallback_list() -> None:
    ivan = Principal("ivan", "Ivan", frozenset({"billing"}))
    assert _assign(MANAGER, ivan) == ("peggy", AssignedBy.FALLBACK, (
        "manager: none", "fallback ivan: is the person reviewed"))


def test_never_the_officer_who_granted_the_grant() -> None:
    grant = Access(AccessKind.GRANT, "billing", "grant", "G1", granted_by="ivan")
    oscar = Principal("oscar", "Oscar", frozenset())
    assert _assign(MANAGER, oscar, grant)[:2] == ("peggy", AssignedBy.FALLBACK)
    assert "fallback ivan: granted this access" in _assign(MANAGER, oscar, grant)[2]


def test_never_a_report_reviewing_their_own_manager() -> None:
    # oscar holds a data role; nina reports to oscar, so nina may not review him.
    stage = Stage(ReviewerRule.MANAGER, 14, fallback=("nina", "peggy"))
    oscar = Principal("oscar", "Oscar", frozenset({"fraud-analyst"}))
    reviewer, _, skipped = _assign(stage, oscar)
    assert reviewer == "peggy"
    assert "fallback nina: reports to the person reviewed" in skipped
    assert ineligibility("nina", "oscar", ROLE, DIRECTORY) == "reports to the person reviewed"


def test_role_owner_dpo_and_named_rules() -> None:
    owner = Stage(ReviewerRule.ROLE_OWNER, 30, fallback=("ivan",))
    rule = Access(AccessKind.RULE, "fraud-analyst", "policy", "crm/location/read/fraud")
    assert _assign(owner, None, rule)[:2] == ("oscar", AssignedBy.ROLE_OWNER)
    dpo = Stage(ReviewerRule.DPO, 10)
    assert _assign(dpo, _who("alice"))[:2] == ("peggy", AssignedBy.DPO)
    named = Stage(ReviewerRule.NAMED, 10, named=("alice", "judy"))
    assert _assign(named, _who("alice")) == ("judy", AssignedBy.NAMED, (
        "named reviewer alice: is the person reviewed",))


def test_nobody_eligible_leaves_the_item_unassigned_with_every_reason() -> None:
    stage = Stage(ReviewerRule.MANAGER, 14, fallback=("heidi", "zed"))
    zed = Principal("zed", "Zed", frozenset({"billing"}), manager="heidi")
    reviewer, how, skipped = _assign(stage, zed)
    assert (reviewer, how) == (None, AssignedBy.UNASSIGNED)
    assert skipped == ("manager heidi: account disabled", "fallback heidi: account disabled",
                       "fallback zed: not in the directory")
