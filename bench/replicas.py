"""Three replicas: how fast a change is visible everywhere, and decisions/s per replica.

Starts three ``guardian serve`` processes on loopback (separate data folders and writer ids)
on one fresh PostgreSQL schema, so changes travel by LISTEN/NOTIFY; each ships its journal to
its own embedded SQLite index, or with ``--opensearch URLS`` all three to one OpenSearch index
(that needs a writer id per replica in the index ``_id``). Then:

- **changes**: ``--changes`` changes (default 200) made through the replicas in turn — a policy
  applied (``POST /v1/policy``, alternately adding and removing a rule), a grant created or
  revoked, an API key created or revoked, a consent withdrawn or given again — each timed from
  the answer of the replica that made it until *both* others honour it in a decision (each
  watched from its own thread every 20 ms, no decision load meanwhile); p50/p99/max per kind
  and over all, beside one decision's round trip (the floor of what a watcher can see);
- **decisions/s**: wrk on all three replicas at once (``--duration`` s each), single decisions
  then batches of 100; the decisions/s of each replica and of the three together.

    python bench/replicas.py [--changes 200] [--duration 10] [--database-url URL]
                             [--opensearch URLS] [--json]

The database URL defaults to ``GUARDIAN_TEST_DATABASE_URL`` (``scripts/services.sh env``).
Loopback only; the schema is dropped and the servers stopped at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
os.environ.setdefault("GUARDIAN_DEMO_HISTORY", "0")

from guardian.adapters.files.policy_candidates import (  # noqa: E402
    read_policy_files,
    read_test_files,
)
from guardian.bootstrap import build  # noqa: E402
from http_load import decision, wrk  # noqa: E402
from policy_support import ADDED, changed_policy  # noqa: E402
from replica_support import (  # noqa: E402
    Replica,
    decision_of,
    honoured_within,
    replica_env,
    sign_in,
    start_all,
)
from services_support import fresh_schema  # noqa: E402
from support import decision_body, real_settings  # noqa: E402

Check = Callable[[httpx.Client], bool]


class Changes:
    """The four kinds of change, each flipping a decision back and forth; ``next(kind)`` makes
    one through a replica and says what the others must then answer."""

    def __init__(self, replicas: list[Replica], work: Path) -> None:
        one = replicas[0].url
        self.officer = {"Authorization": f"Bearer {sign_in(one, 'ivan')}"}
        self.alice = sign_in(one, "alice")
        self.location = decision_body("alice", self.alice, resource="crm/location")
        self.fraud = decision_body("bob", sign_in(one, "bob"), resource="crm/location",
                                   purpose="fraud-prevention")
        self.marketing = decision_body("dave", sign_in(one, "dave"), purpose="marketing",
                                       customers=["C-1001"])
        self.work = work
        self.turns = {"policy": 0, "grant": 0, "key": 0, "consent": 0}
        self.grant_id: str | None = None
        self.key: tuple[str, str] | None = None
        made = httpx.post(f"{one}/v1/keys", headers=self.officer, timeout=30,
                          json={"name": "bench-consent-hub", "scopes": ["consent"]})
        made.raise_for_status()
        self.consent_key = made.json()["key"]

    def make(self, kind: str, through: Replica) -> Check:
        turn = self.turns[kind]
        self.turns[kind] += 1
        with httpx.Client(base_url=through.url, headers=self.officer, timeout=30) as http:
            return getattr(self, f"_{kind}")(http, turn)

    def _policy(self, http: httpx.Client, turn: int) -> Check:
        # A stored version is never applied twice: a comment line makes each one new.
        rules = [ADDED] if turn % 2 == 0 else []
        folder = changed_policy(self.work / f"policy-{turn}", add=[*rules, f"# bench {turn}"])
        answer = http.post("/v1/policy", json={"files": read_policy_files(folder),
                                               "tests": read_test_files(folder)})
        assert answer.status_code == 200, answer.text
        want = "permit" if turn % 2 == 0 else "deny"
        return lambda c: decision_of(c, self.location) == want

    def _grant(self, http: httpx.Client, turn: int) -> Check:
        if turn % 2 == 0:
            answer = http.post("/v1/grants", json={
                "uid": "bob", "role": "fraud-analyst", "justification": "INC-4711 bench",
                "expires_at": (datetime.now(UTC) + timedelta(hours=2)).isoformat()})
            assert answer.status_code == 201, answer.text
            self.grant_id = answer.json()["id"]
            return lambda c: decision_of(c, self.fraud) == "permit"
        answer = http.request("DELETE", f"/v1/grants/{self.grant_id}", json={"reason": "bench"})
        assert answer.status_code == 200, answer.text
        return lambda c: decision_of(c, self.fraud) == "deny"

    def _key(self, http: httpx.Client, turn: int) -> Check:
        if turn % 2 == 0:
            answer = http.post("/v1/keys", json={"name": f"bench-{turn}"})
            assert answer.status_code == 201, answer.text
            key = answer.json()["key"]
            self.key = (answer.json()["id"], key)
            return lambda c: decision_of(c, self.location, key) in ("permit", "deny")
        assert self.key is not None
        key_id, key = self.key
        answer = http.delete(f"/v1/keys/{key_id}")
        assert answer.status_code == 200, answer.text
        return lambda c: decision_of(c, self.location, key) == "401"

    def _consent(self, http: httpx.Client, turn: int) -> Check:
        granted = turn % 2 == 1
        answer = http.put("/v1/customers/C-1001/consents/marketing",
                          headers={"X-API-Key": self.consent_key},
                          json={"granted": granted, "source": "bench"})
        assert answer.status_code == 200, answer.text
        want = "permit" if granted else "deny"
        return lambda c: decision_of(c, self.marketing) == want


def measure_changes(changes: Changes, replicas: list[Replica], count: int
                    ) -> dict[str, list[float]]:
    kinds = ["policy", "grant", "key", "consent"]
    took: dict[str, list[float]] = {k: [] for k in kinds}
    for n in range(count):
        kind, through = kinds[n % 4], replicas[(n // 4) % len(replicas)]
        check = changes.make(kind, through)
        since = time.monotonic()
        others = [r for r in replicas if r is not through]
        seen = honoured_within(others, check, since)
        took[kind].append(max(seen.values()))
    return took


def round_trips(changes: Changes, replicas: list[Replica], count: int = 50) -> list[float]:
    """One decision's round trip on each replica, as the watchers make it: the floor under
    every "visible everywhere" figure (a change is seen by a decision at the earliest)."""
    took = []
    for replica in replicas:
        with replica.client() as http:
            for _ in range(count):
                started = time.monotonic()
                decision_of(http, changes.location)
                took.append(time.monotonic() - started)
    return took


def summary(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
    return {"count": len(values), "p50_ms": round(1000 * statistics.median(ordered), 1),
            "p99_ms": round(1000 * p99, 1), "max_ms": round(1000 * ordered[-1], 1)}


def throughput(replicas: list[Replica], token: str, seconds: int, work: Path
               ) -> dict[str, Any]:
    """wrk on every replica at once (alice's permitted read): single decisions, then batches
    of 100."""
    one = json.dumps(decision(token, 0))
    batch = json.dumps({"requests": [json.loads(one)] * 100})
    out: dict[str, Any] = {}
    for name, path, body, connections, per in (
            ("single", "/v1/decisions", one, 8, 1),
            ("batch", "/v1/decisions:batch", batch, 2, 100)):
        results: dict[str, dict[str, float]] = {}

        def drive(replica: Replica, path: str = path, body: str = body,
                  connections: int = connections, results: dict[str, Any] = results) -> None:
            folder = work / f"wrk-{replica.name}"
            folder.mkdir(exist_ok=True)
            results[replica.name] = wrk(replica.url + path, body.encode(), seconds, connections,
                                        1, folder)

        threads = [threading.Thread(target=drive, args=(r,)) for r in replicas]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        per_replica = {n: round(per * r["requests"] / r["seconds"]) for n, r in results.items()}
        out[name] = {"per_replica": per_replica, "total": sum(per_replica.values()),
                     "p99_ms": {n: round(r["p99_ms"], 1) for n, r in results.items()},
                     "errors": sum(int(r["errors"] + r["non2xx"]) for r in results.values())}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--changes", type=int, default=200)
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--database-url", default=os.environ.get("GUARDIAN_TEST_DATABASE_URL"))
    parser.add_argument("--opensearch", default=None, help="comma-separated OpenSearch URLs")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if not args.database_url:
        raise SystemExit("a PostgreSQL URL is needed: --database-url or "
                         "eval \"$(scripts/services.sh env)\"")
    with tempfile.TemporaryDirectory() as tmp, fresh_schema(args.database_url) as schema:
        work = Path(tmp)
        # migrate and seed once, before three processes would race for it
        build(real_settings(work / "setup", database_url=schema), prepare=True).close()
        prefix = f"zz-bench-replicas-{os.getpid()}"
        replicas = [Replica(f"replica-{n}", work / f"replica-{n}", replica_env(
            work / f"replica-{n}", f"replica-{n}", database_url=schema,
            opensearch_urls=args.opensearch, prefix=prefix)) for n in (1, 2, 3)]
        try:
            start_all(replicas)
            changes = Changes(replicas, work)
            floor = round_trips(changes, replicas)
            took = measure_changes(changes, replicas, args.changes)
            rates = throughput(replicas, changes.alice, args.duration, work)
        finally:
            for replica in replicas:
                replica.stop()
    everything = [t for values in took.values() for t in values]
    result = {"changes": {k: summary(v) for k, v in took.items()} | {
        "all": summary(everything)}, "decision_round_trip": summary(floor),
        "decisions": rates}
    for kind, s in result["changes"].items():
        print(f"{kind:8} {s['count']:4} changes  visible everywhere p50 {s['p50_ms']} ms  "
              f"p99 {s['p99_ms']} ms  max {s['max_ms']} ms")
    s = result["decision_round_trip"]
    print(f"one decision's round trip (the floor of the above) p50 {s['p50_ms']} ms  "
          f"p99 {s['p99_ms']} ms")
    for name, r in rates.items():
        print(f"{name:6} decisions/s per replica {r['per_replica']}  together {r['total']}  "
              f"p99 ms {r['p99_ms']}  errors {r['errors']}")
    if args.json:
        print(json.dumps(result))


if __name__ == "__main__":
    main()
