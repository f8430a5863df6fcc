"""The sections of the periodic audit report, in the order DESIGN.md lists them.

Each function asks the index for a few aggregations (:class:`~guardian.reports.periodic.
Figures`) and turns the buckets into tables. Sections whose events Guardian does not record
yet (review campaigns, consent changes, retention) are computed the same way, from the event
actions the period holds: they say "none recorded in this period" because none is there, not
because the text is fixed.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import Any

from guardian.audit.aggregations import AggregateQuery, Field
from guardian.audit.events import AuditAction
from guardian.audit.queries import AuditQuery, Order
from guardian.audit.records import CHECKPOINT_ACTION
from guardian.clock import iso_utc
from guardian.reports.periodic import CUBES, Figures, ReportContext, Section, Table

DECISIONS = ((Field.ACTION, AuditAction.ACCESS_DECISION.value),)
PERMITS = (*DECISIONS, (Field.DECISION, "permit"))
NONE = "none recorded in this period"
TOP_READERS = 10
OUTLIER_FACTOR = 3.0
OUTLIER_MIN = 10
MAX_LISTED = 100
# Event actions of capabilities that may or may not record anything yet, by prefix.
CAMPAIGN_PREFIXES = ("campaign.", "review.")
CONSENT_PREFIXES = ("consent.",)
RETENTION_PREFIXES = ("audit.retention",)
POLICY_PREFIXES = ("policy.",)


def _split(buckets: Mapping[tuple[str, ...], int]) -> dict[str, list[int]]:
    """``(value, decision) -> n`` as ``value -> [permits, denies]``."""
    out: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for (value, decision), n in buckets.items():
        out[value][0 if decision == "permit" else 1] += n
    return dict(sorted(out.items()))


def _pd_rows(split: Mapping[str, list[int]]) -> tuple[tuple[Any, ...], ...]:
    return tuple((k, p, d, p + d) for k, (p, d) in split.items())


def _by(figures: Figures, group: Field, key: str, title: str, why: str) -> Section:
    split = _split(figures.counts(group, Field.DECISION, where=DECISIONS))
    rows = _pd_rows(split)
    summary = f"{len(rows)} value(s)." if rows else NONE + "."
    return Section(key, title, why, summary,
                   (Table(key, (group.value.split(".")[-1], "permits", "denies", "total"), rows),))


def _actions(figures: Figures) -> dict[str, int]:
    return {k[0]: n for k, n in figures.counts(Field.ACTION).items()}


def _prefixed(actions: Mapping[str, int], prefixes: Iterable[str]) -> dict[str, int]:
    return {a: n for a, n in actions.items() if a.startswith(tuple(prefixes))}


def decisions(figures: Figures) -> Section:
    days = _split({b.key: b.count for b in figures.buckets(
        Field.DECISION, where=DECISIONS, by_day=True)})
    permits, denies = sum(p for p, _ in days.values()), sum(d for _, d in days.values())
    return Section(
        "decisions", "Decisions over time",
        "Every access decision of the period by day, permits and denies: the volume of access "
        "to customer data and any day that stands out is where an audit starts.",
        f"{permits + denies:,} decision(s): {permits:,} permitted, {denies:,} denied.",
        (Table("decisions_by_day", ("day", "permits", "denies", "total"), _pd_rows(days)),),
        {"total": permits + denies, "permits": permits, "denies": denies})


def reasons(figures: Figures) -> Section:
    split = _split(figures.counts(Field.REASONS, Field.DECISION, where=DECISIONS))
    by_reason = {k: p + d for k, (p, d) in split.items()}
    refused = {k: v for k, v in by_reason.items() if k != "permitted"}
    return Section(
        "reasons", "Permits and denies by reason",
        "Why access was granted or refused: refusals for missing consent, contract or MFA show "
        "controls working, and a rise in one of them shows where people or tools go wrong.",
        f"{len(refused)} refusal reason(s) seen." if refused else "No refusal in this period.",
        (Table("by_reason", ("reason", "permits", "denies", "total"), _pd_rows(split)),),
        {"by_reason": by_reason})


def high_sensitivity(figures: Figures, context: ReportContext) -> Section:
    split = _split(figures.counts(Field.CATEGORY, Field.DECISION, where=DECISIONS))
    rows = _pd_rows({k: v for k, v in split.items() if k in context.high_categories})
    total = sum(r[1] for r in rows)
    return Section(
        "high_sensitivity", "High-sensitivity access",
        "Access to the categories the policy rates high (financial, location, content...): the "
        "data whose misuse harms customers most, so each access deserves a look.",
        f"{total} permitted access(es) to high-sensitivity categories." if rows else NONE + ".",
        (Table("high_sensitivity", ("category", "permits", "denies", "total"), rows),),
        {"permits": total})


def justified_uses(figures: Figures, context: ReportContext) -> Section:
    rows: list[tuple[Any, ...]] = []
    counts: list[tuple[Any, ...]] = []
    for purpose in context.justified_purposes:
        split = _split(figures.counts(Field.PURPOSE, Field.DECISION,
                                      where=(*DECISIONS, (Field.PURPOSE, purpose))))
        p, d = split.get(purpose, [0, 0])
        counts.append((purpose, p, d, p + d))
        query = AuditQuery(purpose=purpose, action=AuditAction.ACCESS_DECISION.value,
                           since_ms=figures.period.since_ms, until_ms=figures.period.until_ms,
                           size=MAX_LISTED, order=Order.OLDEST_FIRST)
        for e in figures.index.search(query).events:
            g = e.get("guardian", {})
            rows.append((e.get("@timestamp"), e.get("user", {}).get("id"), purpose,
                         f"{g.get('database')}/{g.get('category')}", g.get("decision"),
                         g.get("justification", "")))
    used = sum(c[3] for c in counts)
    return Section(
        "justified_uses", "Legal requisitions, data-subject requests and break-glass",
        "The uses that bypass the usual need-to-know on the strength of a justification: an "
        "auditor checks each justification against its requisition or request.",
        (f"{used:,} justified use(s); the first {len(rows)} listed with their justification."
         if used else NONE + "."),
        (Table("justified_uses_by_purpose", ("purpose", "permits", "denies", "total"),
               tuple(counts)),
         Table("justified_uses", ("at", "user", "purpose", "data", "decision",
                                  "justification"), tuple(rows))),
        {"uses": used, "listed": len(rows)})


def exports(figures: Figures) -> Section:
    split = _split(figures.counts(Field.USER, Field.DECISION,
                                  where=(*DECISIONS, (Field.ACCESS, "export"))))
    total = sum(p for p, _ in split.values())
    return Section(
        "exports", "Exports",
        "Who exported customer data: an export leaves Guardian's control, so each exporter "
        "should have a job that needs it.",
        f"{total} permitted export(s) by {len(split)} person(s)." if split else NONE + ".",
        (Table("exports", ("user", "permits", "denies", "total"), _pd_rows(split)),),
        {"permits": total})


def contractors(figures: Figures, context: ReportContext, by_user: Mapping[str, list[int]]
                ) -> Section:
    suppliers: dict[str, list[Any]] = {}
    for person in context.people:
        if not person.is_contractor:
            continue
        name = person.supplier or "(no supplier)"
        row = suppliers.setdefault(name, [name, "yes" if person.contract_clause else "no",
                                          0, 0, 0])
        p, d = by_user.get(person.uid, [0, 0])
        row[2], row[3], row[4] = row[2] + 1, row[3] + p, row[4] + d
    rows = tuple(tuple(r) for _, r in sorted(suppliers.items()))
    return Section(
        "contractors", "Contractors' access by supplier",
        "Suppliers' staff may touch customer data only under a data-protection clause: any "
        "permit for a supplier without one would be a breach of the commitment.",
        f"{len(rows)} supplier(s) with contractors in the directory." if rows else NONE + ".",
        (Table("contractors", ("supplier", "clause signed", "people", "permits", "denies"),
               rows),))


def marketing(figures: Figures, context: ReportContext) -> Section:
    rows, missing = [], 0
    for purpose in context.consent_purposes:
        split = _split(figures.counts(Field.REASONS, Field.DECISION,
                                      where=(*DECISIONS, (Field.PURPOSE, purpose))))
        p, d = sum(v[0] for v in split.values()), sum(v[1] for v in split.values())
        refused = sum(split.get("consent_missing", [0, 0]))
        missing += refused
        rows.append((purpose, p, d, refused))
    return Section(
        "marketing", "Marketing decisions and consent",
        "Personal data is never used commercially without consent: denies for consent_missing "
        "show the rule enforced, and every marketing permit is backed by a consent.",
        f"{missing} refusal(s) for missing consent.",
        (Table("marketing", ("purpose", "permits", "denies", "consent_missing"),
               tuple(rows)),),
        {"consent_missing": missing})


def sign_ins(figures: Figures, actions: Mapping[str, int]) -> Section:
    failures = {k[0]: n for k, n in figures.counts(
        Field.REASON, where=((Field.ACTION, AuditAction.SESSION_FAILED.value),)).items()}
    factors = {k[0]: n for k, n in figures.counts(
        Field.AMR, where=((Field.ACTION, AuditAction.SESSION_CREATED.value),)).items()}
    created = actions.get(AuditAction.SESSION_CREATED.value, 0)
    failed = actions.get(AuditAction.SESSION_FAILED.value, 0)
    stepped = actions.get(AuditAction.SESSION_STEPPED_UP.value, 0)
    locked = failures.get("account_locked", 0)
    summary_rows = (("sign-ins", created), ("failed sign-ins", failed),
                    ("refused while locked out", locked), ("step-ups", stepped))
    return Section(
        "sign_ins", "Sign-ins, failures, lockouts, step-ups and factors",
        "Strong authentication is a commitment: failures and lockouts reveal guessing, and the "
        "factors used show that every session had a second factor.",
        f"{created} sign-in(s), {failed} failure(s), {locked} refused while locked out, "
        f"{stepped} step-up(s).",
        (Table("sign_ins", ("what", "count"), summary_rows),
         Table("failures_by_reason", ("reason", "count"), tuple(sorted(failures.items()))),
         Table("factors", ("factor", "sign-ins"), tuple(sorted(factors.items())))),
        {"sign_ins": created, "failures": failed, "lockouts": locked, "step_ups": stepped})


def readers(context: ReportContext, by_user: Mapping[str, list[int]]) -> Section:
    permits = {uid: pd[0] for uid, pd in by_user.items() if pd[0]}
    people = {p.uid: p for p in context.people}
    heaviest = sorted(permits.items(), key=lambda kv: (-kv[1], kv[0]))[:TOP_READERS]
    medians: dict[str, float] = {}
    for role in sorted(context.data_roles):
        holders = [p.uid for p in context.people if role in p.roles]
        if holders:
            medians[role] = statistics.median(permits.get(uid, 0) for uid in holders)
    outliers = []
    for uid, n in sorted(permits.items()):
        for role in sorted(people[uid].roles if uid in people else ()):
            median = medians.get(role)
            if median is not None and n >= OUTLIER_MIN and n > OUTLIER_FACTOR * max(median, 1):
                outliers.append((uid, role, n, median))
    return Section(
        "readers", "Heaviest readers and readers far above their role's median",
        "Need-to-know means similar jobs read similar amounts: someone reading far more than "
        "the colleagues of their role is the first person to ask why.",
        f"{len(outliers)} reader(s) above {OUTLIER_FACTOR:g}x their role's median.",
        (Table("heaviest_readers", ("user", "roles", "permits"), tuple(
            (uid, ", ".join(sorted(people[uid].roles)) if uid in people else "(not in "
             "directory)", n) for uid, n in heaviest)),
         Table("role_medians", ("role", "median permits"), tuple(medians.items())),
         Table("outliers", ("user", "role", "permits", "role median"), tuple(outliers))),
        {"outliers": len(outliers)})


def dormant(figures: Figures, context: ReportContext) -> Section:
    used = {k for k in figures.counts(Field.USER, Field.ROLES, where=PERMITS)}
    rows = tuple((p.uid, role, "yes" if p.active else "no")
                 for p in sorted(context.people, key=lambda p: p.uid)
                 for role in sorted(p.roles & context.data_roles) if (p.uid, role) not in used)
    return Section(
        "dormant", "Dormant access",
        "Roles held in the directory but not used once in the period: access nobody needs is "
        "risk without benefit, and the first candidate for removal in the next review.",
        f"{len(rows)} role(s) held and unused." if rows else "Every role held was used.",
        (Table("dormant", ("user", "role", "account active"), rows),), {"dormant": len(rows)})


def grants(figures: Figures, context: ReportContext, by_user: Mapping[str, list[int]],
           actions: Mapping[str, int]) -> Section:
    issued = figures.counts(Field.ROLE, Field.GRANTEE,
                            where=((Field.ACTION, AuditAction.GRANT_CREATED.value),))
    period = figures.period
    expired = [g for g in context.grants
               if period.since_ms <= g.expires_at * 1000 < period.until_ms]
    rows = tuple((grantee, role, n, "yes" if by_user.get(grantee, [0])[0] else "no")
                 for (role, grantee), n in sorted(issued.items()))
    refused = actions.get(AuditAction.GRANT_REFUSED.value, 0)
    return Section(
        "grants", "Temporary grants issued, used and expired",
        "Temporary access widens need-to-know for a while: each grant should have been used "
        "for its purpose and then have ended.",
        f"{sum(issued.values())} grant(s) issued, {refused} refused, {len(expired)} expired.",
        (Table("grants_issued", ("grantee", "role", "grants", "grantee read data"), rows),
         Table("grants_expired", ("grantee", "role", "expired at", "granted by"), tuple(
             (g.uid, g.role, iso_utc(g.expires_at), g.granted_by) for g in expired))),
        {"issued": sum(issued.values()), "refused": refused, "expired": len(expired)})


def keys(actions: Mapping[str, int]) -> Section:
    created = actions.get(AuditAction.API_KEY_CREATED.value, 0)
    revoked = actions.get(AuditAction.API_KEY_REVOKED.value, 0)
    return Section(
        "keys", "Application keys created and revoked",
        "Every application that asks for decisions holds a key: new keys are new callers, and "
        "keys of retired applications should be revoked.",
        f"{created} created, {revoked} revoked.",
        (Table("keys", ("what", "count"), (("created", created), ("revoked", revoked))),),
        {"created": created, "revoked": revoked})


def by_prefix(key: str, title: str, why: str, actions: Mapping[str, int],
              prefixes: Iterable[str]) -> Section:
    found = _prefixed(actions, prefixes)
    return Section(key, title, why,
                   f"{sum(found.values())} event(s) recorded." if found else NONE + ".",
                   (Table(key, ("event", "count"), tuple(sorted(found.items()))),),
                   {"events": sum(found.values())})


def policy(figures: Figures, context: ReportContext, actions: Mapping[str, int]) -> Section:
    versions = figures.buckets(Field.POLICY_VERSION, where=DECISIONS)
    rows = tuple((b.key[0], b.count, iso_utc(b.first_ms / 1000), iso_utc(b.last_ms / 1000))
                 for b in sorted(versions, key=lambda b: (b.first_ms, b.key)))
    changes = _prefixed(actions, POLICY_PREFIXES)
    return Section(
        "policy", "Policy versions in force and changes",
        "Which rules decided: each decision names the policy version it was made under, so a "
        "change of rules during the period shows here with when it took effect.",
        f"{len(rows)} version(s) decided in the period; in force now: {context.policy_version}.",
        (Table("policy_versions", ("version", "decisions", "first", "last"), rows),
         Table("policy_changes", ("event", "count"), tuple(sorted(changes.items())))),
        {"versions": len(rows), "in_force": context.policy_version})


def integrity(figures: Figures, context: ReportContext, actions: Mapping[str, int]) -> Section:
    span = figures.index.span(figures.period.since_ms, figures.period.until_ms)
    covered = 0 if span.first_seq is None or span.last_seq is None else \
        span.last_seq - span.first_seq + 1
    gaps = max(0, covered - span.events)
    checkpoints = actions.get(CHECKPOINT_ACTION, 0)
    check = context.verify() if context.verify is not None else None
    verified = bool(check and check.verified)
    result = check.as_dict() if check else {"verified": False, "detail": "not verified"}
    figures_out = {**result, "verified": verified, "events": span.events,
                   "first_seq": span.first_seq, "last_seq": span.last_seq, "gaps": gaps,
                   "checkpoints": checkpoints,
                   "shipping_lag": "not recorded in the trail (see the shipper's metrics)"}
    return Section(
        "integrity", "Integrity of the trail over the period",
        "The report is only as good as the trail behind it: the chain must verify, checkpoints "
        "must be signed and no sequence number may be missing.",
        ("The trail verifies with the pinned keys" if verified
         else "The chain holds but is not authenticated (no trust file)"
         if result.get("chain_intact") and not result.get("authenticated")
         else "The trail does NOT verify")
        + f"; {span.events} event(s), seq {span.first_seq}-{span.last_seq}, {gaps} gap(s), "
        f"{checkpoints} checkpoint(s) in the period.",
        (Table("integrity", ("what", "value"), tuple(
            (k, "" if v is None else v) for k, v in figures_out.items())),), figures_out)


def customer_reports(figures: Figures) -> Section:
    rows = tuple((uid, action, n) for action in (AuditAction.CUSTOMER_REPORT_PRODUCED.value,
                                                  AuditAction.TRAIL_SEARCHED.value)
                 for (uid,), n in figures.counts(Field.USER,
                                                 where=((Field.ACTION, action),)).items())
    made = sum(r[2] for r in rows if r[1] == AuditAction.CUSTOMER_REPORT_PRODUCED.value)
    return Section(
        "customer_reports", "Customer access reports produced and trail searches",
        "Customers have a right to know who accessed their data; this shows those reports were "
        "produced, and who looked into the trail itself.",
        f"{made} customer access report(s) produced." if made else NONE + ".",
        (Table("trail_reads", ("user", "event", "count"), rows),), {"produced": made})


def _heaviest(figures: Figures) -> list[AggregateQuery]:
    """The aggregations that pass over every decision of the period (asked at once)."""
    return [figures.query(*CUBES[0], where=DECISIONS), figures.query(*CUBES[1], where=DECISIONS),
            figures.query(Field.USER, Field.ROLES, where=PERMITS),
            figures.query(Field.REASONS, Field.DECISION, where=DECISIONS),
            figures.query(Field.APPLICATION, Field.DECISION, where=DECISIONS),
            figures.query(Field.ACTION),
            figures.query(Field.DECISION, where=DECISIONS, by_day=True)]


def all_sections(figures: Figures, context: ReportContext) -> list[Section]:
    figures.prefetch(_heaviest(figures))
    actions = _actions(figures)
    by_user = _split(figures.counts(Field.USER, Field.DECISION, where=DECISIONS))
    return [
        decisions(figures), reasons(figures),
        _by(figures, Field.DATABASE, "by_database", "Decisions by database",
            "Which databases of customer data were asked for: a database nobody should use "
            "appearing here is a finding."),
        _by(figures, Field.CATEGORY, "by_category", "Decisions by category",
            "Which kinds of personal data were read: the categories are what the need-to-know "
            "rules protect."),
        _by(figures, Field.PURPOSE, "by_purpose", "Decisions by purpose",
            "Why data was read: purposes tie every access to a job, and purpose limitation is a "
            "GDPR principle."),
        _by(figures, Field.APPLICATION, "by_application", "Decisions by application",
            "Which applications asked (as authenticated by their key): an application reading "
            "outside its function shows here."),
        high_sensitivity(figures, context), justified_uses(figures, context),
        exports(figures), contractors(figures, context, by_user),
        marketing(figures, context), sign_ins(figures, actions), readers(context, by_user),
        dormant(figures, context), grants(figures, context, by_user, actions), keys(actions),
        by_prefix("campaigns", "Access review campaigns",
                  "Campaigns done, overdue and what they revoked, with the time to revoke: "
                  "access must be recertified regularly.", actions, CAMPAIGN_PREFIXES),
        policy(figures, context, actions),
        by_prefix("consent_changes", "Consent changes",
                  "Consents given and withdrawn: a withdrawal must stop marketing use at once.",
                  actions, CONSENT_PREFIXES),
        integrity(figures, context, actions), customer_reports(figures),
        by_prefix("retention", "Retention applied",
                  "Data and logs are kept no longer than their period: what was erased, and "
                  "when.", actions, RETENTION_PREFIXES),
    ]
