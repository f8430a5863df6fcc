"""Benchmark of auditors' searches over a large trail, on OpenSearch and on the SQLite index.

Generates ``--events`` decision events over 30 days (100 000 customers, 5 000 employees, the
demo's categories and purposes, about 30 % denies), bulk-loads them through the AuditIndex port
(the shipper's bulk path, without the journal), then times ``--queries`` searches as an auditor
makes them, one at a time, each for the first page of 50 newest events:

* by customer (the GDPR access request), by customer over one week,
* by employee, by decision and reason code, by purpose and category over one day.

    python bench/audit_search.py --url http://127.0.0.1:9250 --events 1000000 --json

The OpenSearch index goes under a unique ``bench-search-…`` prefix and is removed at the end.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import orjson

from guardian.adapters.opensearch.design import load_design
from guardian.adapters.opensearch.index import OpenSearchAuditIndex, make_client
from guardian.adapters.sqlite.audit_index import SqliteAuditIndex
from guardian.audit.chain import GENESIS, seal
from guardian.audit.events import timestamp
from guardian.audit.queries import AuditQuery
from guardian.audit.records import JournalRecord
from guardian.ports import AuditIndex

ROOT = Path(__file__).resolve().parent.parent
START = 1_790_000_000.0
SPAN = 30 * 24 * 3600.0
CATEGORIES = ("contact", "identification", "economic-financial", "location", "products-services")
PURPOSES = ("customer-care", "billing", "fraud-prevention", "marketing", "legal-requisition")
DENY_REASONS = ("not_authorised", "purpose_not_allowed", "consent_missing", "mfa_stale")


def generate(count: int, seed: int = 2024) -> Iterator[JournalRecord]:
    rng = random.Random(seed)
    prev = GENESIS
    for seq in range(1, count + 1):
        at = START + SPAN * seq / count
        deny = rng.random() < 0.3
        event = {
            "@timestamp": timestamp(at),
            "event": {"kind": "event", "category": ["iam"], "action": "access.decision",
                      "outcome": "failure" if deny else "success"},
            "user": {"id": f"user{rng.randrange(5000)}", "roles": ["customer-care"]},
            "source": {"ip": "10.2.3.4"}, "service": {"name": "crm-web"},
            "guardian": {
                "decision_id": f"01JD{seq:022d}", "decision": "deny" if deny else "permit",
                "action": "read", "purpose": rng.choice(PURPOSES), "database": "crm",
                "category": rng.choice(CATEGORIES),
                "customer_ids": [f"C-{rng.randrange(100_000):06d}"],
                "reasons": [rng.choice(DENY_REASONS) if deny else "permitted"],
                "policy_version": "sha256:" + "a" * 64, "mfa_age_s": rng.randrange(900),
            },
        }
        sealed, prev = seal(event, seq, prev)
        yield JournalRecord(seq, orjson.dumps(sealed, option=orjson.OPT_SORT_KEYS), sealed)


def load(index: AuditIndex, count: int, batch: int = 5000) -> float:
    started = time.perf_counter()
    chunk: list[JournalRecord] = []
    for record in generate(count):
        chunk.append(record)
        if len(chunk) == batch:
            assert all(o.status.acknowledged for o in index.index_events(chunk))
            chunk = []
    if chunk:
        index.index_events(chunk)
    return time.perf_counter() - started


def queries(rng: random.Random) -> list[tuple[str, Callable[[], AuditQuery]]]:
    def week() -> tuple[int, int]:
        since = START + rng.random() * (SPAN - 7 * 86400)
        return int(since * 1000), int((since + 7 * 86400) * 1000)

    def day() -> tuple[int, int]:
        since = START + rng.random() * (SPAN - 86400)
        return int(since * 1000), int((since + 86400) * 1000)

    def customer() -> str:
        return f"C-{rng.randrange(100_000):06d}"

    return [
        ("customer", lambda: AuditQuery(customer_id=customer())),
        ("customer_week", lambda: AuditQuery(customer_id=customer(),
                                             since_ms=(w := week())[0], until_ms=w[1])),
        ("employee", lambda: AuditQuery(user_id=f"user{rng.randrange(5000)}")),
        ("deny_reason", lambda: AuditQuery(decision="deny",
                                           reason=rng.choice(DENY_REASONS))),
        ("purpose_category_day", lambda: AuditQuery(
            purpose=rng.choice(PURPOSES), category=rng.choice(CATEGORIES),
            since_ms=(d := day())[0], until_ms=d[1])),
    ]


def time_searches(index: AuditIndex, count: int) -> dict[str, Any]:
    rng = random.Random(7)
    kinds = queries(rng)
    for _ in range(20):  # warm up caches as a running server would have them
        index.search(kinds[rng.randrange(len(kinds))][1]())
    by_kind: dict[str, list[float]] = {name: [] for name, _ in kinds}
    for i in range(count):
        name, make = kinds[i % len(kinds)]
        query = make()
        started = time.perf_counter()
        index.search(query)
        by_kind[name].append((time.perf_counter() - started) * 1000)
    every = sorted(t for times in by_kind.values() for t in times)
    out: dict[str, Any] = {"queries": count, "p50_ms": round(statistics.median(every), 1),
                           "p95_ms": round(every[int(len(every) * 0.95) - 1], 1),
                           "p99_ms": round(every[int(len(every) * 0.99) - 1], 1)}
    for name, times in by_kind.items():
        times.sort()
        out[f"{name}_p95_ms"] = round(times[int(len(times) * 0.95) - 1], 1)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default="http://127.0.0.1:9250")
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--skip-sqlite", action="store_true")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    result: dict[str, Any] = {"events": args.events}
    prefix = f"bench-search-{uuid.uuid4().hex[:6]}"
    design = load_design(ROOT / "audit" / "opensearch", prefix=prefix, retention_days=365,
                         rollover_days=30, replicas=0)
    index = OpenSearchAuditIndex(make_client([args.url], timeout_s=120), design, args.url)
    try:
        index.setup()
        result["opensearch_load_s"] = round(load(index, args.events), 1)
        index.client.indices.refresh(index=design.names.events_alias)
        index.client.indices.forcemerge(index=design.names.events_alias,
                                        params={"max_num_segments": "1"})
        assert index.count() == args.events
        result["opensearch"] = time_searches(index, args.queries)
    finally:
        index.client.indices.delete(index=f"{prefix}-events-*,{prefix}-checkpoints",
                                    params={"ignore_unavailable": "true"})
        for kind, name in (("_index_template", f"{prefix}-events"),
                           ("_index_template", f"{prefix}-checkpoints"),
                           ("_component_template", f"{prefix}-mappings")):
            index.client.transport.perform_request("DELETE", f"/{kind}/{name}",
                                                   params={"ignore": 404})
        index.close()
    if not args.skip_sqlite:
        with tempfile.TemporaryDirectory() as tmp:
            sqlite = SqliteAuditIndex(Path(tmp) / "index.db", design.properties)
            result["sqlite_load_s"] = round(load(sqlite, args.events), 1)
            result["sqlite"] = time_searches(sqlite, args.queries)
            sqlite.close()
    for key, value in result.items():
        print(f"{key}: {value}")
    if args.json:
        print(json.dumps(result))


if __name__ == "__main__":
    main()
