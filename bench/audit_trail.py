"""Benchmark of the audit trail: shipping into OpenSearch, shipping lag, chain verification.

* **ship** — a journal of ``--events`` decision events (with a signed checkpoint every 1 000)
  is drained by the shipper into a fresh index on one OpenSearch node: events per second.
* **lag** — the shipper runs as in ``guardian serve`` (its thread, default batch size and
  interval) while decisions are appended at ``--rate`` per second for ``--seconds``; the lag of
  each event is the time from its append to the index's acknowledgement (p50, p99, max).
* **verify** — chain verification with every checkpoint signature, from the journal file (in
  one process, and on every core as ``guardian audit verify`` does for journals over 32 MiB)
  and from OpenSearch (point in time + search_after): events per second (best of 3 for the
  journal).

Everything goes to indices under a unique ``bench-…`` prefix, removed at the end.

    python bench/audit_trail.py --url http://127.0.0.1:9250 --events 200000 --json
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from opensearchpy import OpenSearch

from guardian.adapters.opensearch.design import load_design
from guardian.adapters.opensearch.index import OpenSearchAuditIndex, make_client
from guardian.audit.checkpoints import Checkpointer, CheckpointSigner, CheckpointVerifier
from guardian.audit.records import ItemOutcome, JournalRecord
from guardian.journal.shipper import Shipper, ShipperConfig
from guardian.journal.verification import verify_index, verify_journal
from guardian.journal.writer import FileJournal
from guardian.policy.decision_events import decision_event
from guardian.policy.model import Decision, DecisionRequest, Reason
from guardian.policy.vocabulary import Action, Outcome, ReasonCode

ROOT = Path(__file__).resolve().parent.parent


def events(count: int, at: float) -> list[dict[str, Any]]:
    """Decision events as the pipeline writes them (alternating permits and denies)."""
    out = []
    for n in range(count):
        permit = n % 2 == 0
        request = DecisionRequest(f"user{n % 5000}", Action.READ, "crm", "contact",
                                  "customer-care", (f"C-{n % 100_000:06d}",),
                                  client_ip="10.2.3.4", application="crm-web")
        decision = Decision(
            f"01JD{n:022d}", Outcome.PERMIT if permit else Outcome.DENY,
            (Reason(ReasonCode.PERMITTED if permit else ReasonCode.NOT_AUTHORISED, "m"),),
            "sha256:" + "a" * 64, roles=("customer-care",), mfa_age_s=30)
        out.append(decision_event(request, decision, at))
    return out


def new_journal(path: Path, signer: CheckpointSigner) -> FileJournal:
    checkpointer = Checkpointer(signer, time.time, every_events=1000, every_s=60)
    return FileJournal(path, fsync=True, checkpointer=checkpointer)


def new_index(url: str, prefix: str) -> OpenSearchAuditIndex:
    design = load_design(ROOT / "audit" / "opensearch", prefix=prefix, retention_days=365,
                         rollover_days=30, replicas=0)
    index = OpenSearchAuditIndex(make_client([url], timeout_s=60), design, url)
    index.setup()
    return index


def bench_ship(url: str, work: Path, signer: CheckpointSigner, count: int) -> dict[str, Any]:
    journal = new_journal(work / "ship.jsonl", signer)
    batch = events(1000, time.time())
    for _ in range(count // 1000):
        journal.append_many(batch)
    index = new_index(url, f"bench-ship-{uuid.uuid4().hex[:6]}")
    shipper = Shipper(journal, index, work / "ship.shipped",
                      ShipperConfig(batch_size=5000, trim_bytes=0), time.time)
    started = time.perf_counter()
    result = shipper.drain(max_wait_s=60)
    elapsed = time.perf_counter() - started
    assert result.caught_up
    journal.close()
    return {"events": result.shipped, "seconds": round(elapsed, 2),
            "events_per_s": round(result.shipped / elapsed), "index": index,
            "journal": work / "ship.jsonl"}


class TimedIndex:
    """Records when each event was acknowledged (to measure the lag event by event)."""

    def __init__(self, inner: OpenSearchAuditIndex, appended: dict[int, float]) -> None:
        self.inner = inner
        self.appended = appended
        self.lags: list[float] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def index_events(self, records: Sequence[JournalRecord]) -> list[ItemOutcome]:
        outcomes = self.inner.index_events(records)
        now = time.monotonic()
        self.lags += [now - self.appended[r.seq] for r in records if r.seq in self.appended]
        return outcomes


def bench_lag(url: str, work: Path, signer: CheckpointSigner, rate: int,
              seconds: float) -> dict[str, Any]:
    journal = new_journal(work / "lag.jsonl", signer)
    appended: dict[int, float] = {}
    index = TimedIndex(new_index(url, f"bench-lag-{uuid.uuid4().hex[:6]}"), appended)
    shipper = Shipper(journal, index, work / "lag.shipped",  # type: ignore[arg-type]
                      ShipperConfig(trim_bytes=0), time.time)
    shipper.start()
    tick, per_tick = 0.01, max(1, rate // 100)
    batch = events(per_tick, time.time())
    started = time.monotonic()
    produced = 0
    while time.monotonic() - started < seconds:
        target = started + (produced / rate)
        delay = target - time.monotonic()
        if delay > 0:
            time.sleep(min(delay, tick))
            continue
        receipts = journal.append_many(batch)
        now = time.monotonic()
        for r in receipts:
            appended[r.seq] = now
        produced += len(receipts)
    deadline = time.monotonic() + 30
    while shipper.state.seq < journal.last_seq and time.monotonic() < deadline:
        time.sleep(0.05)
    shipper.stop()
    journal.close()
    lags = sorted(index.lags)
    achieved = produced / seconds
    index.inner.close()
    drop(url, index.inner.design.names.prefix)
    return {"rate_per_s": round(achieved), "events": len(lags),
            "lag_p50_s": round(statistics.median(lags), 3),
            "lag_p99_s": round(lags[int(len(lags) * 0.99) - 1], 3),
            "lag_max_s": round(lags[-1], 3)}


def bench_verify(journal: Path, index: OpenSearchAuditIndex, signer: CheckpointSigner
                 ) -> dict[str, Any]:
    verifier = CheckpointVerifier([signer.public_key])
    out: dict[str, Any] = {}
    for name, run in (("journal_1_process", lambda: verify_journal(journal, verifier,
                                                                   workers=1)),
                      ("journal", lambda: verify_journal(journal, verifier)),
                      ("opensearch", lambda: verify_index(index, verifier))):
        best = None
        for _ in range(1 if name == "opensearch" else 3):
            started = time.perf_counter()
            report = run()
            elapsed = time.perf_counter() - started
            assert report.ok, report.detail
            rate = report.events / elapsed
            best = rate if best is None else max(best, rate)
        out[f"{name}_events"] = report.events
        out[f"{name}_events_per_s"] = round(best or 0)
    out["opensearch_walk"] = index.walk_mode
    return out


def drop(url: str, prefix: str) -> None:
    client = OpenSearch([url])
    client.indices.delete(index=f"{prefix}-events-*,{prefix}-checkpoints",
                          params={"ignore_unavailable": "true"})
    for kind, name in (("_index_template", f"{prefix}-events"),
                       ("_index_template", f"{prefix}-checkpoints"),
                       ("_component_template", f"{prefix}-mappings")):
        client.transport.perform_request("DELETE", f"/{kind}/{name}", params={"ignore": 404})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default="http://127.0.0.1:9250")
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--rate", type=int, default=3000)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    signer = CheckpointSigner(Ed25519PrivateKey.generate(), "bench")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        ship = bench_ship(args.url, work, signer, args.events)
        index, journal = ship.pop("index"), ship.pop("journal")
        time.sleep(1.5)  # let the index refresh before walking it
        try:
            verify = bench_verify(journal, index, signer)
        finally:
            index.close()
            drop(args.url, index.design.names.prefix)
        lag = bench_lag(args.url, work, signer, args.rate, args.seconds)
    result = {"ship": ship, "lag": lag, "verify": verify,
              "python": platform.python_version(), "machine": platform.machine()}
    for section, numbers in result.items():
        print(f"{section}: {numbers}")
    if args.json:
        print(json.dumps(result))
    threading.Event().wait(0)
    sys.stdout.flush()


if __name__ == "__main__":
    main()
