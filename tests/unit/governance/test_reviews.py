"""The access review lifecycle on a fake clock: open → decide (and change one's mind) →
reassign → reminders → deadline → no-answer rules → brake → remediation → sign-off; every
change journalled before it is stored; revoked roles counted out of decisions at once."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from audit_index_contract import records
from audit_support import decision, sqlite_index
from guardian.audit.events import timestamp
from guardian.errors import (
    AuditUnavailable,
    CampaignStateConflict,
    DefinitionNotFound,
    JustificationRequired,
    NotIndependent,
    NotYourItem,
    ReviewerIneligible,
    StageClosed,
)
from guardian.governance.review_definitions import NoAnswer, ReviewerRule, ReviewKind, Scope, Stage
from guardian.governance.review_model import (
    AccessKind,
    AssignedBy,
    CampaignState,
    RecoCode,
    RemediationState,
    ReviewItem,
    Verdict,
)
from guardian.governance.review_opening import snapshot_hash
from guardian.governance.reviews import DecisionInput
from guardian.identity.principal import Principal
from review_support import DAY, NOW, Wired, crm_quarterly, people, wired

KEEP, REVOKE = Verdict.KEEP, Verdict.REVOKE


def _items(w: Wired, campaign_id: str) -> dict[tuple[str, str], ReviewItem]:
    return {(i.subject.uid, i.access.role or ""): i for i in w.store.campaign_items(campaign_id)}


def test_opening_freezes_the_population_and_journals_its_hash_first() -> None:
    w = wired()
    campaign, counts = w.service.open("ivan", "crm-quarterly")

    items = w.store.campaign_items(campaign.id)
    assert sorted((i.subject.uid, i.access.role) for i in items) == [
        ("alice", "customer-care"), ("bob", "billing"), ("carol", "fraud-analyst"),
        ("dave", "marketing"), ("erin", "legal-officer"), ("frank", "customer-care"),
        ("grace", "customer-care"), ("heidi", "customer-care")]
    assert counts.items == 8 and counts.pending == 8
    assert campaign.snapshot_hash == snapshot_hash(items)
    assert campaign.due_at == NOW + 14 * DAY and campaign.state is CampaignState.OPEN
    (opened,) = w.journal.events
    assert opened["event"]["action"] == "review.campaign_opened"
    assert opened["guardian"]["review"]["snapshot_hash"] == campaign.snapshot_hash
    assert opened["guardian"]["review"]["items"] == 8
    by = _items(w, campaign.id)
    assert by[("alice", "customer-care")].reviewer == "nina"
    assert by[("carol", "fraud-analyst")].reviewer == "oscar"
    assert by[("bob", "billing")].access.sensitivity == "high"
    assert by[("heidi", "customer-care")].recommendation.reasons[0] is RecoCode.ACCOUNT_DISABLED
    assert by[("grace", "customer-care")].recommendation.reasons[0] is RecoCode.CLAUSE_MISSING


def test_nothing_is_stored_when_the_journal_refuses() -> None:
    w = wired()
    w.journal.fail = True
    with pytest.raises(AuditUnavailable):
        w.service.open("ivan", "crm-quarterly")
    assert w.store.campaigns == {}


def test_an_unknown_definition_is_refused() -> None:
    with pytest.raises(DefinitionNotFound):
        wired().service.open("ivan", "nope")


def test_usage_evidence_comes_from_the_audit_index(tmp_path: Path) -> None:
    index = sqlite_index(tmp_path / "index.db")
    index.setup()
    used = decision(1, user="alice", at=timestamp(NOW - 5 * DAY))
    used["guardian"]["role"] = "customer-care"
    used["guardian"]["customer_ids"] = ["C-1001", "C-1002"]
    index.index_events(records([used]))
    w = wired(index=index)

    campaign, _ = w.service.open("ivan", "crm-quarterly")

    alice = _items(w, campaign.id)[("alice", "customer-care")]
    assert (alice.usage.permits, alice.usage.customers) == (1, 2)
    assert alice.usage.categories_used == ("contact",)
    assert alice.usage.last_used_at == pytest.approx(NOW - 5 * DAY, abs=1)
    assert alice.recommendation.decision is KEEP
    assert alice.recommendation.reasons == (RecoCode.USED_IN_WINDOW, RecoCode.CATEGORIES_UNUSED)


def test_a_reviewer_sees_only_their_own_items_and_decides_them_in_bulk() -> None:
    w = wired()
    campaign, _ = w.service.open("ivan", "crm-quarterly")
    inbox = w.service.inbox("nina")
    assert {i.subject.uid for i in inbox} == {"alice", "bob", "dave", "frank", "grace", "heidi"}
    assert {i.subject.uid for i in w.service.inbox("oscar")} == {"carol", "erin"}
    by = _items(w, campaign.id)

    decided = w.service.decide("nina", [
        DecisionInput(by[("dave", "marketing")].id, REVOKE),
        DecisionInput(by[("alice", "customer-care")].id, KEEP, "handles customer calls daily")])

    assert [i.decision.decision for i in decided if i.decision] == [REVOKE, KEEP]
    assert w.actions()[-2:] == ["review.item_decided"] * 2
    assert len(w.service.inbox("nina", pending_only=True)) == 4
    with pytest.raises(NotYourItem):
        w.service.decide("nina", [DecisionInput(by[("carol", "fraud-analyst")].id, KEEP)])


def test_a_change_of_mind_keeps_the_history_until_the_stage_closes() -> None:
    w = wired()
    campaign, _ = w.service.open("ivan", "crm-quarterly")
    dave = _items(w, campaign.id)[("dave", "marketing")]
    w.service.decide("nina", [DecisionInput(dave.id, REVOKE)])
    w.clock.advance(60)
    (again,) = w.service.decide("nina", [DecisionInput(
        dave.id, KEEP, "runs the spring campaign", until=NOW + 30 * DAY)])

    assert again.decision is not None and again.decision.decision is KEEP
    assert [h.decision for h in again.history] == [REVOKE, KEEP]
    assert w.journal.events[-1]["guardian"]["review"]["previous"] == "revoke"
    w.closing.close("ivan", campaign.id)
    with pytest.raises(StageClosed):
        w.service.decide("nina", [DecisionInput(dave.id, REVOKE)])


def test_justification_required_for_keeping_unused_or_high_access() -> None:
    w = wired()
    campaign, _ = w.service.open("ivan", "crm-quarterly")
    bob = _items(w, campaign.id)[("bob", "billing")]
    for text in (None, "  ", "ok"):
        with pytest.raises(JustificationRequired):
            w.service.decide("nina", [DecisionInput(bob.id, KEEP, text)])
    assert w.actions() == ["review.campaign_opened"]  # nothing decided, nothing journalled
    w.service.decide("nina", [DecisionInput(bob.id, REVOKE)])  # revoking needs none


def test_bulk_decisions_are_all_or_nothing() -> None:
    w = wired()
    campaign, _ = w.service.open("ivan", "crm-quarterly")
    by = _items(w, campaign.id)
    with pytest.raises(NotYourItem):
        w.service.decide("nina", [DecisionInput(by[("dave", "marketing")].id, REVOKE),
                                  DecisionInput(by[("erin", "legal-officer")].id, REVOKE)])
    assert by[("dave", "marketing")] == w.store.items[by[("dave", "marketing")].id]


def test_reassignment_needs_a_reason_and_an_eligible_reviewer() -> None:
    w = wired()
    campaign, _ = w.service.open("ivan", "crm-quarterly")
    alice = _items(w, campaign.id)[("alice", "customer-care")]
    with pytest.raises(ReviewerIneligible):
        w.service.reassign("nina", alice.id, "alice", "she knows best")
    with pytest.raises(NotYourItem):
        w.service.reassign("oscar", alice.id, "peggy", "holiday")

    moved = w.service.reassign("nina", alice.id, "peggy", "on leave for a month")

    assert moved.reviewer == "peggy" and moved.assignment.assigned_by is AssignedBy.REASSIGNMENT
    assert [a.reviewer for a in moved.assignments] == ["nina", "peggy"]
    assert w.journal.events[-1]["guardian"]["reason"] == "on leave for a month"
    assert alice.id in {i.id for i in w.service.inbox("peggy")}


def test_the_brake_holds_the_campaign_until_an_officer_confirms() -> None:
    w = wired()
    campaign, _ = w.service.open("ivan", "crm-quarterly")  # nothing used: all would go

    held = w.closing.close("ivan", campaign.id)

    assert held.state is CampaignState.CLOSING and held.held is not None
    assert held.held["would_revoke"] == 8
    assert w.view.revoked_roles("dave") == {}  # nothing applied yet
    assert w.actions()[-1] == "review.campaign_held"
    confirmed = w.closing.confirm("ivan", campaign.id)
    assert confirmed.state is CampaignState.REMEDIATING
    assert w.view.revoked_roles("dave") == {"marketing": campaign.id}


def test_no_answer_rules_per_sensitivity_then_remediation_and_sign_off() -> None:
    w = wired(crm_quarterly(brake=1.0))
    campaign, _ = w.service.open("ivan", "crm-quarterly")
    by = _items(w, campaign.id)
    w.service.decide("nina", [DecisionInput(by[("alice", "customer-care")].id, KEEP,
                                            "handles customer calls daily")])
    w.clock.advance(14 * DAY)

    (closed,) = w.closing.run_due(w.clock.now())  # the deadline passed

    assert closed.state is CampaignState.REMEDIATING
    after = _items(w, campaign.id)
    bob = after[("bob", "billing")]  # high: revoke
    assert bob.decision is not None and bob.decision.defaulted and bob.decision.decision is REVOKE
    frank = after[("frank", "customer-care")]  # medium: the recommendation (never used)
    assert frank.decision is not None and frank.decision.decision is REVOKE
    assert after[("alice", "customer-care")].remediation is None
    assert bob.remediation is not None and bob.remediation.state is RemediationState.BLOCKED
    assert w.store.counts(campaign.id).defaulted == 7
    # The directory drops bob's billing: the next check verifies it.
    bob_now = w.directory.get("bob")
    assert bob_now is not None
    w.directory.put(dataclasses.replace(bob_now, roles=frozenset()))
    w.closing.run_due(w.clock.now())
    remediation = _items(w, campaign.id)[("bob", "billing")].remediation
    assert remediation is not None
    assert remediation.state is RemediationState.VERIFIED
    assert "review.remediation_verified" in w.actions()
    with pytest.raises(CampaignStateConflict):
        w.closing.sign_off("peggy", campaign.id)  # others still blocked


def test_sign_off_by_someone_who_reviewed_is_refused() -> None:
    principals = [p for p in people() if p.uid not in {"bob", "carol", "dave", "erin", "frank",
                                                       "grace", "heidi"}]
    w = wired(crm_quarterly(brake=1.0), principals=principals)
    campaign, _ = w.service.open("ivan", "crm-quarterly")
    (alice,) = w.store.campaign_items(campaign.id)
    w.service.decide("nina", [DecisionInput(alice.id, KEEP, "handles customer calls daily")])
    done = w.closing.close("ivan", campaign.id)
    assert done.state is CampaignState.AWAITING_SIGN_OFF

    with pytest.raises(NotIndependent):
        w.closing.sign_off("nina", campaign.id)
    signed = w.closing.sign_off("peggy", campaign.id)
    assert signed.state is CampaignState.CLOSED and signed.signed_off_by == "peggy"
    assert w.actions()[-1] == "review.campaign_signed_off"


def test_restore_by_an_officer_counts_the_role_again() -> None:
    w = wired(crm_quarterly(brake=1.0))
    campaign, _ = w.service.open("ivan", "crm-quarterly")
    dave = _items(w, campaign.id)[("dave", "marketing")]
    w.service.decide("nina", [DecisionInput(dave.id, REVOKE)])
    w.closing.close("ivan", campaign.id)
    assert w.view.revoked_roles("dave") == {"marketing": campaign.id}

    restored = w.closing.restore("ivan", dave.id, "needed for the spring campaign, CHG-12")

    assert w.view.revoked_roles("dave") == {}
    assert restored.remediation is not None
    assert restored.remediation.state is RemediationState.RESTORED
    assert dave.id not in {r.item_id for r in w.store.active_revocations()}
    assert w.actions()[-1] == "review.access_restored"


def test_temporary_grants_are_items_and_a_revoked_grant_is_revoked_through_its_service(
) -> None:
    from guardian.governance.model import TemporaryGrant

    class Grants:
        def list_grants(self, uid: str | None = None) -> list[TemporaryGrant]:
            return [TemporaryGrant("G1", "mallory", "billing", NOW - DAY, NOW + 30 * DAY,
                                   "INC-1", "ivan")]

    w = wired(crm_quarterly(brake=1.0))
    w.deps.grants = Grants()  # type: ignore[assignment]
    campaign, _ = w.service.open("ivan", "crm-quarterly")
    grant = _items(w, campaign.id)[("mallory", "billing")]
    assert grant.access.kind is AccessKind.GRANT and grant.access.granted_by == "ivan"
    assert grant.reviewer == "oscar"  # mallory's manager; never ivan, the grantor
    assert grant.recommendation.reasons == (RecoCode.RECENTLY_GRANTED,)
    w.service.decide("oscar", [DecisionInput(grant.id, REVOKE)])
    w.closing.close("ivan", campaign.id)
    assert w.revoked_grants == ["G1"]


def test_reminders_once_per_reminder_day_never_for_an_empty_inbox() -> None:
    w = wired()
    campaign, _ = w.service.open("ivan", "crm-quarterly")
    w.clock.advance(7 * DAY)
    w.closing.run_due(w.clock.now())
    w.closing.run_due(w.clock.now())
    reminders = [e for e in w.journal.events if e["event"]["action"] == "review.reminder_sent"]
    assert sorted(e["guardian"]["review"]["reviewer"] for e in reminders) == ["nina", "oscar"]
    by = _items(w, campaign.id)
    w.service.decide("oscar", [DecisionInput(by[("carol", "fraud-analyst")].id, REVOKE),
                               DecisionInput(by[("erin", "legal-officer")].id, REVOKE)])
    w.clock.advance(4 * DAY)
    w.closing.run_due(w.clock.now())
    later = [e["guardian"]["review"]["reviewer"] for e in w.journal.events
             if e["event"]["action"] == "review.reminder_sent"][2:]
    assert later == ["nina"]


def test_two_stages_carry_kept_items_to_the_next_reviewer() -> None:
    two = crm_quarterly(stages=(
        Stage(ReviewerRule.MANAGER, 7, fallback=("ivan",)),
        Stage(ReviewerRule.ROLE_OWNER, 7, fallback=("ivan",))), brake=1.0,
        no_answer={"high": NoAnswer.KEEP_FLAGGED})
    w = wired(two)
    campaign, _ = w.service.open("ivan", "crm-quarterly")
    by = _items(w, campaign.id)
    w.service.decide("oscar", [DecisionInput(by[("carol", "fraud-analyst")].id, KEEP,
                                             "investigates SIM swaps weekly")])
    w.service.decide("oscar", [DecisionInput(by[("erin", "legal-officer")].id, REVOKE)])

    second = w.closing.close("ivan", campaign.id)

    assert second.stage == 2 and second.state is CampaignState.OPEN
    carol = _items(w, campaign.id)[("carol", "fraud-analyst")]
    assert carol.stage == 2 and carol.reviewer == "oscar" and carol.decision is None
    assert carol.assignment.assigned_by is AssignedBy.ROLE_OWNER
    assert [h.decision for h in carol.history] == [KEEP]
    assert _items(w, campaign.id)[("erin", "legal-officer")].stage == 1  # revoked: stays
    w.closing.close("ivan", campaign.id)
    flagged = _items(w, campaign.id)[("carol", "fraud-analyst")]
    assert flagged.flagged and flagged.decision is not None and flagged.decision.defaulted


def test_cancel_needs_a_reason_and_an_open_campaign() -> None:
    w = wired()
    campaign, _ = w.service.open("ivan", "crm-quarterly")
    cancelled = w.service.cancel("ivan", campaign.id, "opened by mistake")
    assert cancelled.state is CampaignState.CANCELLED
    with pytest.raises(CampaignStateConflict):
        w.service.cancel("ivan", campaign.id, "again")
    assert w.service.inbox("nina") == []


def test_a_revoked_role_is_not_reviewed_again_by_the_next_campaign() -> None:
    w = wired(crm_quarterly(brake=1.0))
    campaign, _ = w.service.open("ivan", "crm-quarterly")
    dave = _items(w, campaign.id)[("dave", "marketing")]
    w.service.decide("nina", [DecisionInput(dave.id, REVOKE)])
    w.closing.close("ivan", campaign.id)
    nxt, _ = w.service.open("ivan", "crm-quarterly")
    assert ("dave", "marketing") not in _items(w, nxt.id)


def test_the_pipeline_denies_access_revoked_naming_the_campaign() -> None:
    from guardian.adapters.memory.ports import (
        MemoryConsents,
        MemoryDirectory,
        MemoryGrants,
        MemoryJournal,
    )
    from guardian.clock import ManualClock
    from guardian.governance.review_model import Revocation
    from guardian.governance.review_revocations import RevocationView
    from guardian.identity.tokens import TokenSigner
    from guardian.policy.model import Action, DecisionRequest
    from guardian.policy.pipeline import CompiledPolicy, DecisionPipeline
    from review_support import policy

    clock = ManualClock(NOW)
    signer = TokenSigner(b"k" * 32)
    view = RevocationView()
    dave = Principal("dave", "Dave", frozenset({"marketing"}))
    pipeline = DecisionPipeline(CompiledPolicy.of(policy()), MemoryDirectory([dave]),
                                MemoryGrants(), MemoryConsents([("C-1001", "marketing")]),
                                signer, MemoryJournal(), clock, revoked=view)
    from guardian.policy.vocabulary import AuthMethod

    token, _ = signer.issue("dave", (AuthMethod.PASSWORD, AuthMethod.OTP), NOW, NOW, 3600)
    request = DecisionRequest("dave", Action.READ, "crm", "contact", "marketing", ("C-1001",),
                              session_token=token)
    assert pipeline.decide(request).permitted

    view.add([Revocation("dave", "marketing", "CAMP1", "I1", NOW)])
    denied = pipeline.decide(request)

    assert not denied.permitted
    assert denied.reasons[0].code.value == "access_revoked"
    assert "CAMP1" in denied.reasons[0].message


def test_a_second_campaign_of_a_definition_waits_for_the_first() -> None:
    w = wired()
    campaign, _ = w.service.open("ivan", "crm-quarterly")
    with pytest.raises(CampaignStateConflict):
        w.service.open("ivan", "crm-quarterly")
    w.service.cancel("ivan", campaign.id, "wrong quarter")
    w.service.open("ivan", "crm-quarterly")


def test_a_permission_review_revokes_rules_into_a_policy_csv_diff() -> None:
    from review_support import DATA_ROLES

    yearly = crm_quarterly(
        name="roles-yearly", kind=ReviewKind.PERMISSION, scope=Scope(DATA_ROLES),
        stages=(Stage(ReviewerRule.ROLE_OWNER, 30, fallback=("ivan", "peggy")),), brake=1.0,
        no_answer={"high": NoAnswer.KEEP_FLAGGED, "medium": NoAnswer.KEEP_FLAGGED,
                   "low": NoAnswer.KEEP_FLAGGED})
    w = wired(yearly)
    campaign, counts = w.service.open("ivan", "roles-yearly")
    items = w.store.campaign_items(campaign.id)
    assert counts.items == 21 and all(i.access.kind is AccessKind.RULE for i in items)
    assert {i.reviewer for i in items if i.access.role == "marketing"} == {"nina"}
    assert {i.reviewer for i in items if i.access.role == "legal-officer"} == {"oscar"}
    rule = next(i for i in items if i.access.role == "marketing")
    w.service.decide("nina", [DecisionInput(rule.id, REVOKE)])

    done = w.closing.close("ivan", campaign.id)

    assert done.state is CampaignState.AWAITING_SIGN_OFF
    assert done.proposal is not None
    removed = [line for line in done.proposal.splitlines()
               if line.startswith("-p")]
    parts = ["marketing", *(rule.access.ref or "").split("/")]
    assert removed == ["-p, " + ", ".join(parts)]
    flagged = [i for i in w.store.campaign_items(campaign.id) if i.flagged]
    assert len(flagged) == 20
    assert w.view.revoked_roles("dave") == {}  # a rule proposal changes no membership
