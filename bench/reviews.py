"""Benchmark of access reviews: opening a campaign over a large population with usage evidence
from a large trail, a reviewer's inbox page, a bulk decision, and revoke → first
``access_revoked`` deny.

Generates ``--people`` people (each holding ``--roles`` of the five data roles, one manager per
1 000 people), ``--events`` decision events over the last 90 days that record the role that
permitted (as the pipeline does), loads them into the audit index (embedded SQLite, or
OpenSearch with ``--opensearch``), then measures, on the SQL store (a SQLite file):

- opening ``crm-quarterly`` (population, usage aggregations, recommendations, reviewers,
  storing every item) — wall time and peak resident memory of the process;
- a manager's inbox page of 500 items (p50/p95 over 50 pages);
- deciding 1 000 items in one call;
- closing (no-answer rules, revocations into the in-memory view) and the time from the revoke
  to the first ``access_revoked`` decision.

    python bench/reviews.py --people 100000 --roles 3 --events 5000000 \
        --opensearch http://127.0.0.1:9250
    python bench/reviews.py --people 10000 --events 200000      # embedded index
"""

from __future__ import annotations

import argparse
import dataclasses
import random
import resource
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any, cast

import orjson

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from guardian.adapters.opensearch.design import load_design  # noqa: E402
from guardian.audit.chain import GENESIS, seal  # noqa: E402
from guardian.audit.events import timestamp  # noqa: E402
from guardian.audit.records import JournalRecord  # noqa: E402
from guardian.ports import AuditIndex  # noqa: E402

ROLES = ("customer-care", "billing", "fraud-analyst", "marketing", "legal-officer")
USE = {"customer-care": ("contact", "customer-care"), "billing": ("economic-financial",
       "billing"), "fraud-analyst": ("location", "fraud-prevention"),
       "marketing": ("contact", "marketing"), "legal-officer": ("content", "legal-requisition")}
BATCH = 5000
DAY = 86400.0


def people(count: int, roles: int, seed: int = 3) -> list[Any]:
    from guardian.identity.principal import Principal

    rng = random.Random(seed)
    managers = [Principal(f"m{i}", f"Manager {i}", frozenset({"reviewer"}))
                for i in range(max(1, count // 1000))]
    out = list(managers)
    for i in range(count):
        held = frozenset(rng.sample(ROLES, roles))
        out.append(Principal(f"u{i}", f"User {i}", held, manager=f"m{i // 1000}"))
    return out


def events(count: int, population: list[Any], now: float, seed: int = 5
           ) -> Iterator[list[JournalRecord]]:
    rng = random.Random(seed)
    holders = [p for p in population if not p.uid.startswith("m")]
    batch: list[JournalRecord] = []
    prev = GENESIS
    for seq in range(1, count + 1):
        p = holders[rng.randrange(len(holders) // 2)]  # half the people never use anything
        role = rng.choice(sorted(p.roles))
        category, purpose = USE[role]
        event = {
            "@timestamp": timestamp(now - rng.random() * 90 * DAY),
            "event": {"kind": "event", "category": ["iam"], "action": "access.decision",
                      "outcome": "success"},
            "user": {"id": p.uid, "roles": sorted(p.roles)}, "service": {"name": "crm-web"},
            "guardian": {"decision_id": f"D{seq}", "decision": "permit", "action": "read",
                         "purpose": purpose, "database": "crm", "category": category,
                         "customer_ids": [f"C-{rng.randrange(100000)}"],
                         "reasons": ["permitted"], "policy_version": "sha256:bench",
                         "role": role}}
        sealed, prev = seal(event, seq, prev)
        batch.append(JournalRecord(seq, orjson.dumps(sealed, option=orjson.OPT_SORT_KEYS),
                                   sealed))
        if len(batch) == BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def open_index(args: argparse.Namespace, folder: Path, prefix: str) -> AuditIndex:
    design = load_design(ROOT / "audit" / "opensearch", prefix=prefix, retention_days=365,
                         rollover_days=30, replicas=0)
    if args.opensearch:
        from guardian.adapters.opensearch.index import OpenSearchAuditIndex, make_client

        client = make_client([args.opensearch], timeout_s=120)
        return OpenSearchAuditIndex(client, design, args.opensearch)
    from guardian.adapters.sqlite.audit_index import SqliteAuditIndex

    return SqliteAuditIndex(folder / "index.db", design.properties)


LOAD_SETTINGS = {"refresh_interval": "-1", "translog.durability": "async"}
"""The events index's settings while the bench loads it: no refresh every second (each one
writes a new segment and merges follow), the translog fsynced every 5 s rather than on every
bulk request. Restored to the design's (``load_design``) before anything is read."""


def load_settings(index: AuditIndex, prefix: str, *, loading: bool) -> None:
    """Load-time settings on the bench's own events index, or back to the design's."""
    client = index._client  # type: ignore[attr-defined]
    design = index._design  # type: ignore[attr-defined]
    if loading:
        settings: dict[str, Any] = LOAD_SETTINGS
    else:
        own = design.events_template["template"]["settings"]["index"]
        settings = {"refresh_interval": own.get("refresh_interval", "1s"),
                    "translog.durability": "request"}
    client.indices.put_settings(index=f"{prefix}-events-*", body={"index": settings})


def load(index: AuditIndex, batches: Iterator[list[JournalRecord]], loaders: int) -> None:
    """Bulk requests straight to the index (not through the journal), ``loaders`` in flight
    while the next batch is generated."""
    if loaders <= 1:
        for batch in batches:
            index.index_events(batch)
        return
    with ThreadPoolExecutor(loaders) as pool:
        flight: list[Future[Any]] = []
        for batch in batches:
            flight.append(pool.submit(index.index_events, batch))
            if len(flight) >= 2 * loaders:
                flight.pop(0).result()
        for f in flight:
            f.result()


class Timed:
    """The index as the usage evidence sees it, adding up the wall time of its aggregations
    (several may run at once, so the sum can exceed the time they took together)."""

    def __init__(self, index: AuditIndex) -> None:
        self.index, self.asked, self.busy_s = index, 0, 0.0
        self.first: float | None = None
        self.last = 0.0

    def aggregate(self, query: Any) -> Any:
        started = time.perf_counter()
        self.first = started if self.first is None else min(self.first, started)
        try:
            return self.index.aggregate(query)
        finally:
            ended = time.perf_counter()
            self.asked += 1
            self.last = max(self.last, ended)
            self.busy_s += ended - started

    def summary(self) -> str:
        span = self.last - self.first if self.first is not None else 0.0
        return f"{self.asked} aggregations in {span:.1f} s (their own times add up to " \
            f"{self.busy_s:.1f} s)"


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=10_000)
    parser.add_argument("--roles", type=int, default=3)
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--opensearch", default=None)
    parser.add_argument("--reuse-prefix", default=None,
                        help="an OpenSearch index prefix a previous run loaded: no load")
    parser.add_argument("--keep-index", action="store_true")
    parser.add_argument("--load-only", action="store_true",
                        help="load the index, keep it and stop (then --reuse-prefix)")
    parser.add_argument("--loaders", type=int, default=3,
                        help="bulk requests in flight while loading (OpenSearch)")
    args = parser.parse_args()

    from guardian.adapters.memory.ports import MemoryDirectory, MemoryJournal
    from guardian.adapters.sql.alembic_runner import upgrade
    from guardian.adapters.sql.reviews import SqlReviews
    from guardian.adapters.sql.store import make_engine
    from guardian.clock import ManualClock
    from guardian.governance.review_closing import ReviewClosing
    from guardian.governance.review_model import Verdict
    from guardian.governance.review_revocations import RevocationView
    from guardian.governance.review_usage import UsageEvidence
    from guardian.governance.reviews import DecisionInput, ReviewDeps, ReviewService
    from review_support import crm_quarterly, policy

    now = time.time()
    population = people(args.people, args.roles)
    with tempfile.TemporaryDirectory(prefix="bench-reviews-") as tmp:
        folder = Path(tmp)
        prefix = args.reuse_prefix or f"bench-reviews-{uuid.uuid4().hex[:8]}"
        index = open_index(args, folder, prefix)
        index.setup()
        started = time.perf_counter()
        if not args.reuse_prefix:
            if args.opensearch:
                load_settings(index, prefix, loading=True)
            try:
                load(index, events(args.events, population, now), args.loaders)
            finally:
                if args.opensearch:
                    load_settings(index, prefix, loading=False)
        if args.opensearch:
            client = index._client  # type: ignore[attr-defined]
            client.indices.refresh(index=f"{prefix}-*")
            held = client.count(index=f"{prefix}-events-*")["count"]
            took = time.perf_counter() - started
            rate = "" if args.reuse_prefix else f", {args.events / took:,.0f} events/s"
            print(f"index {prefix}: {held:,} events (loaded in {took:.1f} s{rate})")
        else:
            print(f"loaded {args.events:,} events in {time.perf_counter() - started:.1f} s")
        if args.load_only:
            index.close()
            return

        engine = make_engine(f"sqlite:///{folder / 'store.db'}")
        upgrade(engine)
        store = SqlReviews(engine)
        view = RevocationView(store)
        definition = dataclasses.replace(crm_quarterly(), brake=1.0)
        the_policy = policy()
        clock = ManualClock(now)
        timed = Timed(index)
        deps = ReviewDeps(store, MemoryDirectory(population), lambda: the_policy,
                          lambda: {definition.name: definition}, MemoryJournal(), clock,
                          UsageEvidence(cast(AuditIndex, timed)), view)
        service, closing = ReviewService(deps), ReviewClosing(deps)

        started, cpu_started = time.perf_counter(), time.thread_time()
        campaign, counts = service.open("ivan", "crm-quarterly")
        opened_s = time.perf_counter() - started
        opened_cpu_s = time.thread_time() - cpu_started
        rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"open: {counts.items:,} items over {args.people:,} people in {opened_s:.1f} s "
              f"(CPU of this thread {opened_cpu_s:.1f} s), "
              f"peak RSS {rss_mb:.0f} MB; usage: {timed.summary()}")

        pages, cpu, after = [], [], None
        for _ in range(50):
            t, c = time.perf_counter(), time.thread_time()
            page = service.inbox("m0", limit=500, after_id=after)
            pages.append((time.perf_counter() - t) * 1000)
            cpu.append((time.thread_time() - c) * 1000)
            after = page[-1].id if len(page) == 500 else None
        print(f"inbox page of 500: p50 {statistics.median(pages):.1f} ms, "
              f"p95 {pct(pages, 0.95):.1f} ms (CPU p50 {statistics.median(cpu):.1f} ms, "
              f"p95 {pct(cpu, 0.95):.1f} ms)")

        mine = service.inbox("m0", limit=1000)
        t, c = time.perf_counter(), time.thread_time()
        service.decide("m0", [DecisionInput(i.id, Verdict.REVOKE) for i in mine])
        print(f"decide {len(mine):,} items in one call: "
              f"{(time.perf_counter() - t) * 1000:.0f} ms "
              f"(CPU {(time.thread_time() - c) * 1000:.0f} ms)")

        victim = mine[0]
        t = time.perf_counter()
        closing.close("ivan", campaign.id)
        closed_s = time.perf_counter() - t
        first = time.perf_counter()
        assert view.revoked_roles(victim.subject.uid), "the revocation is in the view"
        print(f"close (no-answer rules, revocations): {closed_s:.1f} s; revoke -> first "
              f"access_revoked look-up {(time.perf_counter() - first) * 1e6:.0f} µs after "
              "the close returned")
        if args.opensearch and not args.keep_index:  # the bench's own indices go with it
            index._client.indices.delete(index=f"{prefix}-*")  # type: ignore[attr-defined]
        index.close()


if __name__ == "__main__":
    main()
