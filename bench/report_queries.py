"""Each aggregation of the periodic report timed alone, on an index ``bench/reports.py --keep``
left behind: wall time and thread CPU per query, heaviest first, with one prefetch worker so
the queries do not overlap.

    python bench/report_queries.py /tmp/bench-1m            # the folder holding index.db
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from guardian.adapters.opensearch.design import load_design  # noqa: E402
from guardian.adapters.sqlite.audit_index import SqliteAuditIndex  # noqa: E402
from guardian.audit.aggregations import AggregateQuery  # noqa: E402
from guardian.reports import periodic  # noqa: E402
from guardian.reports.periodic import Period, ReportContext, build_periodic  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()
    from report_trail import CONTEXT, generated_people

    design = load_design(ROOT / "audit" / "opensearch", prefix="bench", retention_days=365,
                         rollover_days=30, replicas=0)
    index = SqliteAuditIndex(args.folder / "index.db", design.properties)
    timed: list[tuple[float, float, str]] = []
    aggregate = index.aggregate

    def timed_aggregate(query: AggregateQuery) -> Any:
        began, cpu = time.perf_counter(), time.thread_time()
        out = aggregate(query)
        where = [(f.value, v) for f, v in query.where]
        timed.append((time.perf_counter() - began, time.thread_time() - cpu,
                      f"{[f.value for f in query.group_by]} where={where} "
                      f"by_day={query.by_day}"))
        return out

    index.aggregate = timed_aggregate  # type: ignore[method-assign]
    periodic.PREFETCH_WORKERS = args.workers
    context = ReportContext(
        people=generated_people(5000), data_roles=CONTEXT.data_roles,
        high_categories=CONTEXT.high_categories, justified_purposes=CONTEXT.justified_purposes,
        consent_purposes=CONTEXT.consent_purposes, policy_version="sha256:v2")
    began, cpu = time.perf_counter(), time.process_time()
    build_periodic("BENCH", index, Period.of("2026-11-01", "2026-12-01"), context,
                   actor="bench", now=time.time())
    print(f"report: {time.perf_counter() - began:.2f} s wall, "
          f"{time.process_time() - cpu:.2f} s CPU")
    for wall, cpu_s, what in sorted(timed, reverse=True):
        print(f"{wall:7.2f} s wall {cpu_s:6.2f} s CPU  {what}")
    index.close()


if __name__ == "__main__":
    main()
