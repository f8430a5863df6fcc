"""Resident memory of ``guardian serve`` at N users and rules, and where it goes.

Generates the policy of ``bench/vs_opa.py`` (N rules, N users in a directory file; the generator
of ``bench/decide.py``), then:

- **rss**: starts ``guardian serve`` on a free loopback port (journal on, shipping off), waits
  for ``/v1/health``, answers ``--requests`` decisions (so every lazily built structure exists:
  sessions, consent view, the decision route) and reads the server's resident memory
  (``VmRSS``) and peak (``VmHWM``) from ``/proc``;
- **tracemalloc** (``--trace``): in this process, builds the same Guardian (``bootstrap.build``
  + ``create_app``) with ``tracemalloc`` on and prints the live allocations by file (the top
  ``--top``), then by line, so a cut can be aimed.

    python bench/memory.py [--users 100000] [--requests 200] [--trace] [--top 15] [--json]

Loopback only; bounded in time; stops the server it started.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import random
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from decide import generate, requests
from vs_opa import (
    API_KEY,
    free_port,
    guardian_bodies,
    mint_tokens,
    running,
    write_guardian_policy,
)

ROOT = Path(__file__).resolve().parent.parent


def proc_status(pid: int) -> dict[str, float]:
    """VmRSS and VmHWM of ``pid`` in MB."""
    out: dict[str, float] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            out[name] = round(int(value.split()[0]) / 1024, 1)
    return out


def environment(work: Path) -> dict[str, str]:
    return {**os.environ, "GUARDIAN_DATA_DIR": str(work / "var"),
            "GUARDIAN_POLICY_DIR": str(work / "policies"),
            "GUARDIAN_DIRECTORY_FILE": str(work / "directory.yaml"),
            "GUARDIAN_LOG_LEVEL": "error", "GUARDIAN_AUDIT_SHIP": "false"}


def measure_rss(work: Path, env: Mapping[str, str], bodies: list[dict[str, Any]]) -> dict[str, Any]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    guardian_bin = str(Path(sys.executable).with_name("guardian"))
    started = time.monotonic()
    with running([guardian_bin, "serve", "--port", str(port)], env, f"{url}/v1/health",
                 "guardian serve", work / "guardian.log", timeout_s=900) as proc:
        ready_s = time.monotonic() - started
        at_start = proc_status(proc.pid)
        permits = 0
        with httpx.Client(timeout=30) as client:
            for body in bodies:
                answer = client.post(f"{url}/v1/decisions", json=body,
                                     headers={"X-API-Key": API_KEY})
                answer.raise_for_status()
                permits += answer.json()["decision"] == "permit"
            client.post(f"{url}/v1/decisions:batch", json={"requests": bodies[:100]},
                        headers={"X-API-Key": API_KEY}).raise_for_status()
        after = proc_status(proc.pid)
    return {"ready_s": round(ready_s, 1), "rss_mb_ready": at_start["VmRSS"],
            "rss_mb": after["VmRSS"], "peak_rss_mb": after["VmHWM"],
            "decisions": len(bodies), "permits": permits}


def trace(env: Mapping[str, str], top: int) -> dict[str, Any]:
    os.environ.update(env)
    from guardian.api import create_app
    from guardian.bootstrap import build
    from guardian.config import Settings

    gc.collect()
    tracemalloc.start(1)
    before = tracemalloc.take_snapshot()
    guardian = build(Settings(), prepare=True)
    app = create_app(guardian)
    gc.collect()
    snapshot = tracemalloc.take_snapshot()
    tracemalloc.stop()
    total = sum(s.size for s in snapshot.compare_to(before, "filename") if s.size_diff > 0)
    by_file = [(str(s.traceback[0].filename).replace(str(ROOT) + "/", ""),
                round(s.size_diff / 2**20, 1), s.count_diff)
               for s in snapshot.compare_to(before, "filename")[:top]]
    by_line = [(f"{str(s.traceback[0].filename).replace(str(ROOT) + '/', '')}:"
                f"{s.traceback[0].lineno}", round(s.size_diff / 2**20, 1), s.count_diff)
               for s in snapshot.compare_to(before, "lineno")[:top]]
    print(f"\nlive allocations after build + create_app: {total / 2**20:.1f} MB")
    print("by file:")
    for name, mb, count in by_file:
        print(f"  {mb:7.1f} MB {count:>9} blocks  {name}")
    print("by line:")
    for name, mb, count in by_line:
        print(f"  {mb:7.1f} MB {count:>9} blocks  {name}")
    guardian.close()
    del app
    return {"traced_mb": round(total / 2**20, 1), "by_file": by_file, "by_line": by_line}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=100_000, help="users and rules")
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--trace", action="store_true", help="tracemalloc in this process")
    parser.add_argument("--top", type=int, default=15)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    world = generate(args.users, args.users, random.Random(args.seed))
    result: dict[str, Any] = {"users": args.users, "rules": args.users}
    with tempfile.TemporaryDirectory(prefix="guardian-memory-") as tmp:
        work = Path(tmp)
        write_guardian_policy(world, work)
        env = environment(work)
        if args.trace:
            result |= trace(env, args.top)
        else:
            users = sorted({u for u, *_ in requests(world, args.requests, random.Random(1))})
            bodies = guardian_bodies(world, args.requests, mint_tokens(users), random.Random(1))
            result |= measure_rss(work, env, bodies)
            print(f"{args.users} users and rules: ready in {result['ready_s']} s, "
                  f"RSS {result['rss_mb_ready']} MB ready, {result['rss_mb']} MB after "
                  f"{result['decisions']} decisions (peak {result['peak_rss_mb']} MB)")
    if args.json:
        print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
