"""What refusing duplicate JSON keys costs per request body, beside validating the body.

The decision endpoints validate bodies straight from bytes with pydantic; ``RequestBodyGuard``
first looks for a key written twice (orjson parse + key count against the colons; the exact
``json`` check only when strings hold colons). This times both on the same bodies: a single
decision, the same with an IPv6 client address (colons in a string: the slow path), and a batch
of 100.

    .venv/bin/python bench/body_checks.py [--rounds 20000]
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import orjson

from guardian.api.limits import duplicate_key
from guardian.api.schemas import BatchBody, DecisionBody, RequestRules


def _body(client_ip: str) -> dict[str, object]:
    return {
        "subject": {"id": "alice", "session_token": "v1." + "x" * 180},
        "action": "read",
        "resource": {"database": "crm", "category": "contact", "customer_ids": ["C-1001"]},
        "purpose": "customer-care",
        "justification": "ticket 4711",
        "context": {"client_ip": client_ip, "application": "crm-web"},
    }


def _per_call_us(fn: Callable[[], object], rounds: int) -> float:
    best = float("inf")
    for _ in range(5):
        started = time.perf_counter()
        for _ in range(rounds):
            fn()
        best = min(best, (time.perf_counter() - started) / rounds * 1e6)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=20000)
    args = parser.parse_args()
    rules = RequestRules()
    cases = {
        "single decision": (orjson.dumps(_body("10.2.3.4")), DecisionBody),
        "single, IPv6 client_ip": (orjson.dumps(_body("2001:db8::1")), DecisionBody),
        "batch of 100": (orjson.dumps({"requests": [_body("10.2.3.4")] * 100}), BatchBody),
    }
    print(f"{'body':<24} {'bytes':>7} {'validate µs':>12} {'duplicates µs':>14} {'share':>7}")
    for name, (raw, model) in cases.items():
        rounds = max(1, args.rounds // (100 if model is BatchBody else 1))
        validate = _per_call_us(
            lambda raw=raw, model=model: model.model_validate_json(raw, context=rules), rounds)
        check = _per_call_us(lambda raw=raw: duplicate_key(raw), rounds)
        print(f"{name:<24} {len(raw):>7} {validate:>12.2f} {check:>14.2f} "
              f"{check / validate:>6.0%}")


if __name__ == "__main__":
    main()
