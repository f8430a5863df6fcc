"""What refusing duplicate JSON keys costs per request body, beside validating the body.

The decision endpoints validate bodies straight from bytes with pydantic; ``RequestBodyGuard``
first looks for a key written twice (orjson parse + key count against the colons; the exact
``json`` check only when strings hold colons). This times both on the same bodies: a single
decision, the same with an IPv6 client address (colons in a string: the slow path), and a batch
of 100. With ``--asgi`` it also times whole ``POST /v1/decisions`` requests through the ASGI
application (demo organisation in a temporary folder, journal without fsync, no HTTP server),
with the check and with it switched off, so the share is of everything the server does above
the socket.

    .venv/bin/python bench/body_checks.py [--rounds 20000] [--asgi 3000]
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson

from guardian.api import limits
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
    parser.add_argument("--asgi", type=int, default=0, metavar="REQUESTS")
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
    if args.asgi:
        with_check, without = _asgi_request_us(args.asgi)
        print(f"whole POST /v1/decisions through ASGI: {with_check:.1f} µs with the check, "
              f"{without:.1f} µs without ({(with_check - without) / without:+.1%})")


def _asgi_request_us(requests: int) -> tuple[float, float]:
    """Per-request µs through the ASGI app: (with the duplicate check, without it)."""
    from guardian.api import create_app
    from guardian.bootstrap import build
    from guardian.config import Settings
    from guardian.identity.vocabulary import AuthMethod

    root = Path(__file__).resolve().parent.parent
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(policy_dir=root / "policies", data_dir=Path(tmp),
                            directory_file=root / "policies/demo/directory.yaml",
                            applications_file=root / "policies/demo/applications.yaml",
                            customers_file=root / "policies/demo/customers.yaml",
                            journal_fsync=False, audit_ship=False, demo_history=False)
        guardian = build(settings, prepare=True)
        try:
            app = create_app(guardian)
            now = time.time()
            token, _ = guardian.signer.issue("alice", (AuthMethod.PASSWORD, AuthMethod.OTP),
                                             now, now, 3600)
            body = _body("10.2.3.4")
            body["subject"] = {"id": "alice", "session_token": token}
            raw = orjson.dumps(body)
            scope: dict[str, Any] = {
                "type": "http", "method": "POST", "path": "/v1/decisions", "raw_path": b"",
                "query_string": b"", "root_path": "", "scheme": "http", "http_version": "1.1",
                "server": ("127.0.0.1", 8000), "client": ("127.0.0.1", 1),
                "headers": [(b"x-api-key", b"demo-app-key"), (b"content-length",
                                                              str(len(raw)).encode())]}

            async def one() -> None:
                async def receive() -> dict[str, Any]:
                    return {"type": "http.request", "body": raw, "more_body": False}

                async def send(message: dict[str, Any]) -> None:
                    if message["type"] == "http.response.start":
                        assert message["status"] == 200

                await app(dict(scope), receive, send)

            async def timed() -> float:
                started = time.perf_counter()
                for _ in range(requests):
                    await one()
                return (time.perf_counter() - started) / requests * 1e6

            async def alternate() -> tuple[float, float]:
                # Interleaved, best of 7 each: the machine's load drifts between runs.
                for _ in range(200):
                    await one()
                original, on, off = limits.duplicate_key, [], []
                try:
                    for _ in range(7):
                        limits.duplicate_key = original
                        on.append(await timed())
                        limits.duplicate_key = lambda raw: None
                        off.append(await timed())
                finally:
                    limits.duplicate_key = original
                return min(on), min(off)

            with_check, without = asyncio.run(alternate())
            return with_check, without
        finally:
            guardian.close()


if __name__ == "__main__":
    main()
