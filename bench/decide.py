"""Benchmark of in-process decisions: Guardian's decision index against ``casbin.Enforcer``.

Generates a policy of N rules and N users with a realistic shape (N/20 roles, each working on a
few databases for one or two purposes, a few wildcard rules, three tiers of role inheritance,
users holding 1–3 roles), compiles Guardian's index and times, call by call, what the decision
point does in process: look up the user's roles, then ``index.evaluate``. It then times
``casbin.Enforcer.enforce`` on the same policy — casbin scans every rule on every call, so keep
``--casbin-samples`` small at 100 000 rules — and counts disagreements between the two on every
casbin sample and on as many more requests as ``--check-seconds`` allows. Finally it times the
whole pipeline before the journal (``DecisionPipeline.evaluate``: directory, grants, index,
session token, justification, consent) with in-memory ports.

    python bench/decide.py --rules 100000 --casbin-samples 20 --json

With ``--json`` the last line of output is one JSON object with every number.
"""

from __future__ import annotations

import argparse
import gc
import itertools
import json
import platform
import random
import resource
import statistics
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from guardian.adapters.casbin.reference import build_enforcer, casbin_permits
from guardian.audit.records import AuditReceipt
from guardian.identity.principal import Principal
from guardian.identity.tokens import TokenSigner
from guardian.identity.vocabulary import AuthMethod
from guardian.policy.definition import (
    WILDCARD,
    Inheritance,
    JustificationRule,
    PolicyDefinition,
    Purpose,
    Rule,
    Sensitivity,
)
from guardian.policy.index import DecisionIndex
from guardian.policy.model import DecisionRequest
from guardian.policy.pipeline import CompiledPolicy, DecisionPipeline
from guardian.policy.vocabulary import Action

MODEL = Path(__file__).resolve().parent.parent / "policies" / "model.conf"
NOW = 1_790_000_000.0

Request = tuple[str, str, str, str, str]
"""(user, database, category, action, purpose)."""


# --- the generated policy -----------------------------------------------------------------

@dataclass
class World:
    definition: PolicyDefinition
    edges: list[tuple[str, str]]
    user_roles: dict[str, frozenset[str]]
    rules_by_role: dict[str, list[Rule]]


def generate(n_rules: int, n_users: int, rng: random.Random) -> World:
    databases = {f"db-{d:02d}": {f"cat-{c:02d}": rng.choice(("low", "medium", "high"))
                                 for c in range(12)} for d in range(20)}
    purposes = {name: Purpose(name, needs_consent=name == "marketing",
                              justification=JustificationRule()
                              if name in ("legal-requisition", "break-glass") else None)
                for name in ("customer-care", "billing", "fraud-prevention", "marketing",
                             "legal-requisition", "data-subject-request", "break-glass",
                             "collections")}
    actions = [a.value for a in Action]
    roles = [f"role-{i:05d}" for i in range(max(5, n_rules // 20))]
    rules: dict[tuple[str, str, str, str, str], Rule] = {}
    rules_by_role: dict[str, list[Rule]] = {}
    # Each role works on one to three databases for one or two purposes, reading mostly.
    scope = {role: (rng.sample(sorted(databases), rng.randint(1, 3)),
                    rng.sample(sorted(purposes), rng.randint(1, 2))) for role in roles}
    while len(rules) < n_rules:
        role = rng.choice(roles)
        dbs, role_purposes = scope[role]
        db = rng.choice(dbs)
        category = WILDCARD if rng.random() < 0.03 else rng.choice(sorted(databases[db]))
        action = rng.choices(actions, weights=(6, 2, 2, 1))[0]
        key = (role, db, category, action, rng.choice(role_purposes))
        if key not in rules:
            rules[key] = rule = Rule(*key)
            rules_by_role.setdefault(role, []).append(rule)
    # Three tiers: a role may inherit from one or two roles of a lower tier (depth ≤ 3).
    edges: list[tuple[str, str]] = []
    tier_size = max(1, len(roles) // 4)
    for i, role in enumerate(roles[tier_size:], start=tier_size):
        if rng.random() < 0.3:
            lower = roles[: (i // tier_size) * tier_size]
            edges.extend((role, parent) for parent in rng.sample(lower, rng.randint(1, 2)))
    edges = list(dict.fromkeys(edges))
    user_roles = {f"u{u:06d}": frozenset(rng.sample(roles, rng.randint(1, 3)))
                  for u in range(n_users)}
    definition = PolicyDefinition(
        databases=databases,
        sensitivities={"low": Sensitivity("low", None), "medium": Sensitivity("medium", 8 * 3600),
                       "high": Sensitivity("high", 15 * 60)},
        purposes=purposes, roles=frozenset(roles), rules=tuple(rules.values()),
        inheritance=tuple(Inheritance(role, parent) for role, parent in edges),
    )
    return World(definition, edges, user_roles, rules_by_role)


def requests(world: World, count: int, rng: random.Random) -> list[Request]:
    return list(itertools.islice(request_stream(world, rng), count))


def request_stream(world: World, rng: random.Random) -> Iterator[Request]:
    """Half drawn from a rule the user holds (mostly permits), half at random (mostly denies)."""
    users = list(world.user_roles)
    dbs = {db: sorted(cats) for db, cats in world.definition.databases.items()}
    db_names = sorted(dbs)
    purposes = list(world.definition.purposes)
    actions = [a.value for a in Action]
    while True:
        user = rng.choice(users)
        rules = world.rules_by_role.get(rng.choice(sorted(world.user_roles[user])))
        if rules and rng.random() < 0.5:
            rule = rng.choice(rules)
            category = rule.category
            if category == WILDCARD:
                category = rng.choice(dbs[rule.database])
            yield (user, rule.database, category, rule.action, rule.purpose)
        else:
            db = rng.choice(db_names)
            yield (user, db, rng.choice(dbs[db]), rng.choice(actions), rng.choice(purposes))


# --- timing -------------------------------------------------------------------------------

def percentiles_us(samples_ns: Sequence[int]) -> tuple[float, float]:
    ordered = sorted(samples_ns)
    p50 = ordered[len(ordered) // 2]
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return p50 / 1000, p99 / 1000


def time_calls(call: Callable[[Request], object], reqs: Iterable[Request]) -> list[int]:
    clock = time.perf_counter_ns
    out: list[int] = []
    for req in reqs:
        start = clock()
        call(req)
        out.append(clock() - start)
    return out


def rss_mb() -> float:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# --- in-memory ports for the pipeline -----------------------------------------------------

class MemoryDirectory:
    def __init__(self, principals: Mapping[str, Principal]) -> None:
        self._principals = principals

    def get(self, uid: str) -> Principal | None:
        return self._principals.get(uid)

    def principals(self) -> Iterable[Principal]:
        return self._principals.values()


class NoGrants:
    def active_roles(self, uid: str, at: float) -> frozenset[str]:
        return frozenset()


class EveryoneConsents:
    def without_consent(self, customer_ids: Sequence[str], purpose: str) -> tuple[str, ...]:
        return ()


class UnusedJournal:
    """``evaluate`` never journals; ``decide`` would, and is not what is timed here."""

    def append(self, event: Mapping[str, Any]) -> AuditReceipt:
        raise NotImplementedError

    def append_many(self, events: Sequence[Mapping[str, Any]]) -> list[AuditReceipt]:
        raise NotImplementedError

    async def append_many_async(
        self, events: Sequence[Mapping[str, Any]]
    ) -> list[AuditReceipt]:
        raise NotImplementedError

    def close(self) -> None:
        pass


class FixedClock:
    def now(self) -> float:
        return NOW


def time_pipeline(world: World, index: DecisionIndex, reqs: Sequence[Request]) -> list[int]:
    signer = TokenSigner(b"x" * 32)
    directory = MemoryDirectory({
        uid: Principal(uid=uid, name=uid, roles=roles) for uid, roles in world.user_roles.items()})
    pipeline = DecisionPipeline(
        CompiledPolicy(world.definition, index), directory, NoGrants(), EveryoneConsents(),
        signer, UnusedJournal(), FixedClock())
    tokens: dict[str, str] = {}
    prepared: list[DecisionRequest] = []
    for user, db, cat, act, purpose in reqs:
        if user not in tokens:
            tokens[user] = signer.issue(user, (AuthMethod.PASSWORD, AuthMethod.OTP),
                                        auth_time=NOW - 60, now=NOW - 60, ttl_s=8 * 3600)[0]
        prepared.append(DecisionRequest(
            subject_id=user, action=Action(act), database=db, category=cat, purpose=purpose,
            customer_ids=("C-1001",), session_token=tokens[user],
            justification="ticket 4711", client_ip="127.0.0.1", application="bench"))
    evaluate = pipeline.evaluate
    clock = time.perf_counter_ns
    out: list[int] = []
    for request in prepared:
        start = clock()
        evaluate(request, NOW)
        out.append(clock() - start)
    return out


# --- the run ------------------------------------------------------------------------------

def run(args: argparse.Namespace) -> dict[str, Any]:
    rng = random.Random(args.seed)
    n_users = args.users or args.rules
    world = generate(args.rules, n_users, rng)
    gc.collect()
    start = time.perf_counter()
    index = DecisionIndex.compile(world.definition)
    index_build_s = time.perf_counter() - start
    gc.collect()
    resident = rss_mb()

    reqs = requests(world, args.samples, rng)
    user_roles, none = world.user_roles, frozenset[str]()
    evaluate = index.evaluate

    def guardian(req: Request) -> bool:
        return evaluate(user_roles.get(req[0], none), req[1], req[2], req[3], req[4]).permitted

    time_calls(guardian, reqs[: min(len(reqs), 20_000)])  # warm-up
    guardian_ns = time_calls(guardian, reqs)
    timer_ns = time_calls(lambda req: None, reqs[:20_000])
    permit_share = sum(map(guardian, reqs)) / len(reqs)
    pipeline_ns = time_pipeline(world, index, reqs[: args.pipeline_samples])

    start = time.perf_counter()
    enforcer = build_enforcer(MODEL, world.definition.rules, world.edges, user_roles)
    casbin_build_s = time.perf_counter() - start
    casbin_reqs = requests(world, args.casbin_samples, rng)
    answers: dict[Request, bool] = {}

    def casbin(req: Request) -> None:
        answers[req] = casbin_permits(enforcer, *req)

    casbin_ns = time_calls(casbin, casbin_reqs)
    checked, disagreements = 0, []
    deadline = time.perf_counter() + args.check_seconds
    extra = request_stream(world, rng) if args.check_seconds > 0 else iter(())
    for req in casbin_reqs:
        checked += 1
        if answers[req] != guardian(req):
            disagreements.append(req)
    for req in extra:
        if time.perf_counter() > deadline:
            break
        checked += 1
        if casbin_permits(enforcer, *req) != guardian(req):
            disagreements.append(req)

    g50, g99 = percentiles_us(guardian_ns)
    c50, c99 = percentiles_us(casbin_ns)
    p50, p99 = percentiles_us(pipeline_ns)
    return {
        "rules": len(world.definition.rules), "users": n_users,
        "roles": len(world.definition.roles), "inheritance_edges": len(world.edges),
        "index_keys": index.size, "index_build_s": round(index_build_s, 3),
        "rss_mb": round(resident, 1), "samples": len(guardian_ns),
        "permit_share": round(permit_share, 3),
        "guardian_p50_us": round(g50, 3), "guardian_p99_us": round(g99, 3),
        "guardian_mean_us": round(statistics.fmean(guardian_ns) / 1000, 3),
        "timer_overhead_us": round(percentiles_us(timer_ns)[0], 3),
        "pipeline_samples": len(pipeline_ns),
        "pipeline_p50_us": round(p50, 3), "pipeline_p99_us": round(p99, 3),
        "casbin_build_s": round(casbin_build_s, 3), "casbin_samples": len(casbin_ns),
        "casbin_p50_us": round(c50, 1), "casbin_p99_us": round(c99, 1),
        "ratio_p50": round(c50 / g50), "checked": checked,
        "disagreements": len(disagreements), "disagreement_examples": disagreements[:5],
        "rss_peak_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "python": platform.python_version(),
    }


def print_table(result: Mapping[str, Any]) -> None:
    rows = [
        ("policy", f"{result['rules']:,} rules, {result['users']:,} users, "
                   f"{result['roles']:,} roles, {result['inheritance_edges']:,} inheritance edges"),
        ("index", f"{result['index_keys']:,} keys, built in {result['index_build_s']} s, "
                  f"RSS {result['rss_mb']} MB"),
        ("guardian index", f"p50 {result['guardian_p50_us']} µs, p99 {result['guardian_p99_us']} µs"
                           f"  ({result['samples']:,} requests, {result['permit_share']:.0%} "
                           f"permits; timer overhead {result['timer_overhead_us']} µs included)"),
        ("pipeline 1-8", f"p50 {result['pipeline_p50_us']} µs, p99 {result['pipeline_p99_us']} µs"
                         f"  ({result['pipeline_samples']:,} requests)"),
        ("casbin enforce", f"p50 {result['casbin_p50_us']:,} µs, p99 {result['casbin_p99_us']:,} µs"
                           f"  ({result['casbin_samples']} requests; built in "
                           f"{result['casbin_build_s']} s)"),
        ("casbin / index", f"{result['ratio_p50']:,}× at p50"),
        ("disagreements", f"{result['disagreements']} in {result['checked']:,} requests checked"),
        ("peak RSS", f"{result['rss_peak_mb']} MB (with casbin loaded)"),
    ]
    width = max(len(name) for name, _ in rows)
    for name, value in rows:
        print(f"{name:<{width}}  {value}")
    for req in result["disagreement_examples"]:
        print("DISAGREEMENT", req, file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rules", type=int, required=True)
    parser.add_argument("--users", type=int, default=0, help="default: as many as rules")
    parser.add_argument("--samples", type=int, default=200_000, help="index requests timed")
    parser.add_argument("--pipeline-samples", type=int, default=50_000)
    parser.add_argument("--casbin-samples", type=int, default=200,
                        help="casbin requests timed; casbin is O(rules): use ~20 at 100 000")
    parser.add_argument("--check-seconds", type=float, default=10.0,
                        help="extra time spent comparing casbin and the index on more requests")
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--json", action="store_true", help="end with one line of JSON")
    args = parser.parse_args(argv)
    result = run(args)
    print_table(result)
    if args.json:
        print(json.dumps(result))
    return 1 if result["disagreements"] else 0


if __name__ == "__main__":
    sys.exit(main())
