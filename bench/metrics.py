"""What counting and logging cost a decision: µs per decision on the decision endpoints' path.

    python bench/metrics.py [--decisions 200000] [--json]

Times, on decisions as the pipeline makes them (90 % permits, 10 % denies over several
reasons), ``GuardianMetrics.decided`` for single calls (one counter increment and one latency
observation per decision) and for batches of 100 (per decision: one counter increment; per
batch: latency and size observations), then the decision log lines of ``api/decisions.py`` at
the default ``info`` level (denies rendered as JSON lines into a discarded stream, permits not
logged below ``debug``), on permits only and with 10 % denies. Each is the best of five rounds,
minus an empty loop over the same decisions.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import sys
import time
from collections.abc import Callable
from typing import Any

from guardian.adapters.prometheus.metrics import GuardianMetrics
from guardian.api import decisions as endpoint
from guardian.audit.records import AuditReceipt
from guardian.logging import configure_logging
from guardian.policy.model import Decision, DecisionRequest, Reason
from guardian.policy.vocabulary import Action, Outcome, ReasonCode


def sample(n: int, deny_every: int = 10) -> list[Decision]:
    deny_codes = (ReasonCode.NOT_AUTHORISED, ReasonCode.MFA_STALE, ReasonCode.CONSENT_MISSING)
    out = []
    for i in range(n):
        permit = i % deny_every != 0
        code = ReasonCode.PERMITTED if permit else deny_codes[i % 3]
        out.append(Decision(f"01M8SQV7129C9K4E5S3Z6W{i % 10000:04d}",
                            Outcome.PERMIT if permit else Outcome.DENY,
                            (Reason(code, "message"),), "sha256:abc",
                            audit=AuditReceipt(i + 1, "0" * 64)))
    return out


def best(fn: Callable[[], None], rounds: int = 5) -> float:
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--decisions", type=int, default=200_000)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    n = args.decisions
    decisions = sample(n)
    singles = [[d] for d in decisions]
    batches = [decisions[i:i + 100] for i in range(0, n, 100)]
    metrics = GuardianMetrics()

    def empty() -> None:
        for _one in singles:
            pass

    def single() -> None:
        for one in singles:
            metrics.decided(one, 0.0004, batch=False)

    def batch() -> None:
        for group in batches:
            metrics.decided(group, 0.004, batch=True)

    sys.stderr = io.StringIO()  # as `guardian serve` configures it (cached loggers)
    configure_logging("json", "info")
    request = DecisionRequest("alice", Action.READ, "crm", "contact", "customer-care",
                              application="crm-web")

    class Pipeline:
        async def decide_many_async(self, requests: Any) -> list[Decision]:
            return current

    class FakeGuardian:
        pipeline = Pipeline()
        metrics = GuardianMetrics()

    current: list[Decision] = []

    only_permits = sample(n, deny_every=n + 1)
    permits = [only_permits[i:i + 100] for i in range(0, n, 100)]

    async def logged(groups: list[list[Decision]]) -> None:
        nonlocal current
        for group in groups:
            current = group
            await endpoint._decided(FakeGuardian(), (request,), batch=True)  # type: ignore[arg-type]

    async def unlogged() -> None:
        nonlocal current
        for group in batches:
            current = group
            await Pipeline().decide_many_async((request,))

    base = best(empty)
    results = {
        "decisions": n,
        "single_us_per_decision": round((best(single) - base) / n * 1e6, 3),
        "batch_us_per_decision": round((best(batch) - base) / n * 1e6, 3),
        "endpoint_permits_count_and_log_us_per_decision": round(
            (best(lambda: asyncio.run(logged(permits))) - best(lambda: asyncio.run(unlogged())))
            / n * 1e6, 3),
        "endpoint_10pct_denies_count_and_log_us_per_decision": round(
            (best(lambda: asyncio.run(logged(batches))) - best(lambda: asyncio.run(unlogged())))
            / n * 1e6, 3),
    }
    sys.stderr = sys.__stderr__
    for key, value in results.items():
        print(f"{key:42} {value}")
    if args.json:
        print(json.dumps(results))


if __name__ == "__main__":
    main()
