"""Benchmark of the monthly periodic report over a large trail (embedded index or OpenSearch).

Generates ``--events`` events over 30 days (the mix of ``tests/report_trail.generated``: ~90 %
decisions, a quarter denied, sign-ins, failures, grants…), loads them through the AuditIndex
port, then, in a fresh child process (so its peak resident memory is the report's alone),
builds the month's report from index aggregations, verifies the trail (the integrity section
walks every event, as ``guardian audit verify`` does) and renders the HTML page. Prints wall
times and the child's peak RSS.

    python bench/reports.py --events 1000000             # embedded SQLite index
    python bench/reports.py --events 1000000 --opensearch http://127.0.0.1:9250

The OpenSearch index goes under a unique ``bench-report-…`` prefix and is removed at the end.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import resource
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from guardian.adapters.opensearch.design import load_design  # noqa: E402
from guardian.audit.chain import GENESIS, seal  # noqa: E402
from guardian.audit.queries import iso_to_millis  # noqa: E402
from guardian.audit.records import JournalRecord  # noqa: E402
from guardian.ports import AuditIndex  # noqa: E402

START = iso_to_millis("2026-11-01T00:00:00Z") / 1000
BATCH = 5000


def records(count: int, users: int) -> Iterator[list[JournalRecord]]:
    from report_trail import generated

    batch: list[JournalRecord] = []
    prev = GENESIS
    for seq, event in enumerate(generated(count, start=START, span_s=30 * 86400,
                                          users=users), start=1):
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


def report_child(args: argparse.Namespace, folder: Path, prefix: str,
                 out: Any) -> None:
    from guardian.audit.checkpoints import CheckpointVerifier
    from guardian.journal.verification import verify_index
    from guardian.reports.periodic import Integrity, Period, ReportContext, build_periodic
    from guardian.reports.periodic_render import periodic_html
    from report_trail import CONTEXT, generated_people

    index = open_index(args, folder, prefix)
    timings: dict[str, float] = {}

    def verify() -> Integrity:
        began = time.perf_counter()
        result = verify_index(index, CheckpointVerifier([]), settle_s=0.0)
        timings["verify_s"] = time.perf_counter() - began
        return Integrity(result.ok, result.events, result.checkpoints)

    context = ReportContext(
        people=generated_people(args.users), data_roles=CONTEXT.data_roles,
        high_categories=CONTEXT.high_categories, justified_purposes=CONTEXT.justified_purposes,
        consent_purposes=CONTEXT.consent_purposes, policy_version="sha256:v2",
        verify=verify if args.verify else None)
    began, cpu = time.perf_counter(), time.process_time()
    report = build_periodic("BENCH", index, Period.of("2026-11-01", "2026-12-01"), context,
                            actor="bench", now=time.time())
    timings["report_s"] = time.perf_counter() - began - timings.get("verify_s", 0.0)
    # CPU seconds of every thread of the process (SQLite runs in it; with --no-verify, only the
    # figures): on a shared machine, what the report cost, whatever the others were doing.
    timings["report_cpu_s"] = time.process_time() - cpu
    began = time.perf_counter()
    html = periodic_html(report.as_dict())
    timings["html_s"] = time.perf_counter() - began
    index.close()
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    out.send({**timings, "peak_rss_mb": rss_mb, "html_bytes": len(html),
              "decisions": report.decisions["total"], "sections": len(report.sections)})


def drop(url: str, prefix: str) -> None:
    """Remove the bench's indices and templates (only those of its own prefix)."""
    from opensearchpy import OpenSearch

    client = OpenSearch([url])
    client.indices.delete(index=f"{prefix}-events-*,{prefix}-checkpoints",
                          params={"ignore_unavailable": "true"})
    for kind, name in (("_index_template", f"{prefix}-events"),
                       ("_index_template", f"{prefix}-checkpoints"),
                       ("_component_template", f"{prefix}-mappings")):
        client.transport.perform_request("DELETE", f"/{kind}/{name}", params={"ignore": 404})


def load(args: argparse.Namespace, folder: Path, prefix: str) -> float:
    """Generate, seal and index the events; the seconds it took."""
    index = open_index(args, folder, prefix)
    index.setup()
    began = time.perf_counter()
    for batch in records(args.events, args.users):
        index.index_events(batch)
    load_s = time.perf_counter() - began
    if args.opensearch:
        index.client.indices.refresh(index=f"{prefix}-events-*")  # type: ignore[attr-defined]
    index.close()
    return load_s


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--users", type=int, default=5000)
    parser.add_argument("--opensearch", help="one OpenSearch node's URL (default: SQLite)")
    parser.add_argument("--no-verify", dest="verify", action="store_false",
                        help="leave the integrity walk out")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--keep", type=Path, metavar="FOLDER",
                        help="SQLite only: keep the loaded index in FOLDER, and reuse it "
                             "(no load) when FOLDER already holds one, to time the report again")
    args = parser.parse_args()
    prefix = f"bench-report-{uuid.uuid4().hex[:8]}"
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.keep if args.keep and not args.opensearch else Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        load_s = 0.0
        try:  # an interrupted load removes its OpenSearch indices too
            if not (folder / "index.db").exists() or args.opensearch:
                load_s = load(args, folder, prefix)
            ctx = multiprocessing.get_context("spawn")
            receive, send = ctx.Pipe(duplex=False)
            child = ctx.Process(target=report_child, args=(args, folder, prefix, send))
            child.start()
            result = receive.recv()
            child.join()
        finally:
            if args.opensearch:
                drop(args.opensearch, prefix)
    result = {"index": "opensearch" if args.opensearch else "sqlite", "events": args.events,
              "load_s": round(load_s, 1), **{k: round(v, 2) if isinstance(v, float) else v
                                              for k, v in result.items()}}
    print(json.dumps(result) if args.json else "\n".join(f"{k}: {v}" for k, v in
                                                        result.items()))


if __name__ == "__main__":
    main()
