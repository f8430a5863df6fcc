"""Benchmark of ``guardian policy impact``: how many recorded decisions a replay gets through.

Generates a policy of ``--rules`` rules and users (``bench/decide.py``'s generator), a candidate
with 1 % of its rules removed and as many added, and ``--decisions`` recorded decisions drawn
like decide.py's requests (half from a rule the user holds). Times, on one core:

* ``replay``: :class:`guardian.policy.impact.Replay` over decisions already in memory (the
  pure replay: both policies, the current directory's roles, the later steps) — target
  ≥ 100 000 decisions/s (issue 12);
* ``sqlite``: the same through the embedded SQLite audit index, ``--indexed`` of them
  (reading pages with the search-after cursor, parsing, replaying) — what
  ``guardian policy impact`` does on the embedded default.

    python bench/impact.py --rules 100000 --decisions 1000000 --indexed 200000 --json

With ``--json`` the last line of output is one JSON object with every number.
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from decide import World, generate, request_stream
from guardian.policy.definition import PolicyDefinition, Rule
from guardian.policy.impact import RecordedDecision, Replay
from guardian.policy.pipeline import CompiledPolicy
from guardian.policy.recorded import recorded_decisions

ROOT = Path(__file__).resolve().parent.parent


def candidate_of(world: World, rng: random.Random) -> PolicyDefinition:
    """1 % of the rules removed, as many new ones (a role given another category)."""
    rules = list(world.definition.rules)
    rng.shuffle(rules)
    cut = max(1, len(rules) // 100)
    kept, removed = rules[cut:], rules[:cut]
    dbs = world.definition.databases
    added = [Rule(r.role, r.database, rng.choice(sorted(dbs[r.database])), r.action, r.purpose)
             for r in removed]
    d = world.definition
    return PolicyDefinition(d.databases, d.sensitivities, d.purposes, d.roles,
                            tuple(dict.fromkeys([*kept, *added])), d.inheritance,
                            version="sha256:candidate")


def recorded(world: World, count: int, rng: random.Random) -> list[RecordedDecision]:
    index = CompiledPolicy.of(world.definition).index
    out = []
    for n, (user, db, cat, act, purpose) in enumerate(request_stream(world, rng)):
        if n == count:
            break
        roles = world.user_roles[user]
        permitted = index.permits(roles, db, cat, act, purpose)
        out.append(RecordedDecision(
            f"D{n:09d}", "2026-12-01T10:00:00.000Z", user, tuple(sorted(roles)), db, cat, act,
            purpose, ("permitted",) if permitted else ("not_authorised",),
            rng.randint(0, 3600), "REQ-1 a justification"))
    return out


def time_replay(world: World, candidate: PolicyDefinition,
                decisions: list[RecordedDecision]) -> dict[str, Any]:
    replay = Replay(CompiledPolicy.of(world.definition), CompiledPolicy.of(candidate),
                    roles_of=world.user_roles.get)
    started = time.perf_counter()
    report = replay.add_all(decisions)
    elapsed = time.perf_counter() - started
    return {"decisions": report.replayed, "seconds": round(elapsed, 3),
            "per_s": round(report.replayed / elapsed), "flips": report.flipped}


def event_of(d: RecordedDecision, at_ms: int) -> dict[str, Any]:
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(at_ms / 1000))
    return {
        "@timestamp": f"{stamp}.{at_ms % 1000:03d}Z",
        "event": {"kind": "event", "category": ["iam"], "action": "access.decision",
                  "outcome": "success" if d.reasons == ("permitted",) else "failure"},
        "user": {"id": d.subject, "roles": list(d.roles)},
        "guardian": {"decision_id": d.decision_id, "decision": "permit"
                     if d.reasons == ("permitted",) else "deny", "action": d.action,
                     "purpose": d.purpose, "database": d.database, "category": d.category,
                     "customer_ids": ["C-1001"], "reasons": list(d.reasons),
                     "policy_version": "sha256:bench", "mfa_age_s": d.mfa_age_s},
    }


def time_sqlite(world: World, candidate: PolicyDefinition, decisions: list[RecordedDecision]
                ) -> dict[str, Any]:
    from audit_index_contract import records
    from audit_support import sqlite_index

    with tempfile.TemporaryDirectory() as tmp:
        index = sqlite_index(Path(tmp) / "index.sqlite")
        index.setup()
        start_ms = int(time.time() * 1000) - len(decisions)
        for first in range(0, len(decisions), 5000):
            chunk = decisions[first:first + 5000]
            index.index_events(records([event_of(d, start_ms + first + i)
                                        for i, d in enumerate(chunk)], first=first + 1))
        replay = Replay(CompiledPolicy.of(world.definition), CompiledPolicy.of(candidate),
                        roles_of=world.user_roles.get)
        started = time.perf_counter()
        report = replay.add_all(recorded_decisions(index, start_ms - 1))
        elapsed = time.perf_counter() - started
        index.close()
    return {"decisions": report.replayed, "seconds": round(elapsed, 3),
            "per_s": round(report.replayed / elapsed), "flips": report.flipped}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rules", type=int, default=100_000)
    parser.add_argument("--decisions", type=int, default=1_000_000)
    parser.add_argument("--indexed", type=int, default=100_000,
                        help="decisions replayed through the SQLite index (0: skip)")
    parser.add_argument("--seed", type=int, default=12)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    rng = random.Random(args.seed)
    world = generate(args.rules, args.rules, rng)
    candidate = candidate_of(world, rng)
    decisions = recorded(world, args.decisions, rng)
    result: dict[str, Any] = {"rules": args.rules, "users": args.rules,
                              "python": platform.python_version(),
                              "replay": time_replay(world, candidate, decisions)}
    if args.indexed:
        result["sqlite"] = time_sqlite(world, candidate, decisions[:args.indexed])
    for name in ("replay", "sqlite"):
        if name in result:
            r = result[name]
            print(f"{name:7s} {r['decisions']:>10,} decisions in {r['seconds']:>7.2f} s = "
                  f"{r['per_s']:>10,}/s ({r['flips']:,} flips)")
    if args.json:
        print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
