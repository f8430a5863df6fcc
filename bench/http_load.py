"""HTTP decision throughput: `guardian serve` on loopback under wrk, single requests and batches.

Starts Guardian with the demo organisation (journal on, fsync on) on a free 127.0.0.1 port,
signs alice in, then drives ``POST /v1/decisions`` and ``POST /v1/decisions:batch`` (100
requests each) with wrk (Debian package ``wrk``) and reports decisions/s and latency
percentiles. Afterwards it verifies the journal holds every decision in an unbroken chain.

    python bench/http_load.py [--duration 20] [--connections 32] [--threads 1] [--no-ship]
                              [--json]

By default the server also ships its journal to the embedded audit index in a background
thread, as `make run` does; ``--no-ship`` measures the journal alone (shipping then belongs to
another process, ``guardian audit ship``).

Loopback only; bounded in time; stops the server it started.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import pyotp

ROOT = Path(__file__).resolve().parent.parent
MONITORING = "bench-metrics-token-0123456789abcdef"  # health details; a bench value
SECRET = "M52WC4TENFQW4LLEMVWW6LLBNRUWGZI"  # alice's demo TOTP seed (DESIGN.md)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(data_dir: Path, port: int, ship: bool,
                 workers: int = 1) -> subprocess.Popen[bytes]:
    guardian = str(Path(sys.executable).with_name("guardian"))
    env = {**os.environ, "GUARDIAN_DATA_DIR": str(data_dir), "GUARDIAN_LOG_LEVEL": "error",
           "GUARDIAN_AUDIT_SHIP": "true" if ship else "false",
           "GUARDIAN_METRICS_TOKEN": MONITORING, "GUARDIAN_DEMO_HISTORY": "0"}
    proc = subprocess.Popen([guardian, "serve", "--port", str(port), "--workers", str(workers)],
                            cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120  # a loaded shared machine starts slowly
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/v1/health", timeout=1).status_code == 200:
                return proc
        except httpx.TransportError:
            time.sleep(0.2)
    proc.kill()
    raise SystemExit("guardian serve did not start")


def decision(token: str, customer: int) -> dict[str, object]:
    return {
        "subject": {"id": "alice", "session_token": token}, "action": "read",
        "resource": {"database": "crm", "category": "contact",
                     "customer_ids": [f"C-{1001 + customer % 10}"]},
        "purpose": "customer-care", "context": {"client_ip": "10.2.3.4", "application": "bench"},
    }


def wrk(url: str, body: bytes, seconds: int, connections: int, threads: int,
        workdir: Path) -> dict[str, float]:
    script = workdir / "post.lua"
    (workdir / "body.json").write_bytes(body)
    script.write_text(
        'local f = io.open("' + str(workdir / "body.json") + '", "rb")\n'
        "wrk.method = \"POST\"\nwrk.body = f:read(\"*a\")\nf:close()\n"
        'wrk.headers["Content-Type"] = "application/json"\n'
        'wrk.headers["X-API-Key"] = "demo-app-key"\n'
        "done = function(summary, latency, requests)\n"
        "  io.write(string.format(\"JSON {\\\"requests\\\": %d, \\\"seconds\\\": %f, "
        "\\\"errors\\\": %d, \\\"non2xx\\\": %d, \\\"p50_ms\\\": %f, \\\"p99_ms\\\": %f}\\n\", "
        "summary.requests, summary.duration / 1e6, summary.errors.connect + "
        "summary.errors.read + summary.errors.write + summary.errors.timeout, "
        "summary.errors.status, latency:percentile(50) / 1000, "
        "latency:percentile(99) / 1000))\nend\n")
    out = subprocess.run(
        ["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{seconds}s", "--timeout",
         "10s", "-s", str(script), url], capture_output=True, text=True, timeout=seconds + 60,
        check=True).stdout
    match = re.search(r"^JSON (.*)$", out, re.M)
    if match is None:
        raise SystemExit(f"wrk gave no summary:\n{out}")
    result: dict[str, float] = json.loads(match.group(1))
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=20)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--batch-connections", type=int, default=8)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--no-ship", action="store_true",
                        help="no in-process shipping to the audit index (journal only)")
    parser.add_argument("--workers", type=int, default=1,
                        help="guardian serve --workers (each its own journal and chain)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is needed: apt-get install wrk")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        port = free_port()
        server = start_server(work / "var", port, ship=not args.no_ship, workers=args.workers)
        try:
            base = f"http://127.0.0.1:{port}"
            token = httpx.post(f"{base}/v1/sessions", json={
                "user": "alice", "password": "alice-demo-pass",
                "otp": pyotp.TOTP(SECRET).now()}).json()["token"]
            one = json.dumps(decision(token, 0)).encode()
            check = httpx.post(f"{base}/v1/decisions", content=one,
                               headers={"X-API-Key": "demo-app-key"}).json()
            assert check["decision"] == "permit", check
            single = wrk(f"{base}/v1/decisions", one, args.duration, args.connections,
                         args.threads, work)
            batch_body = json.dumps({"requests": [decision(token, i) for i in range(100)]})
            batch = wrk(f"{base}/v1/decisions:batch", batch_body.encode(), args.duration,
                        args.batch_connections, args.threads, work)
            last_seq = httpx.get(f"{base}/v1/health", headers={
                "Authorization": f"Bearer {MONITORING}"}).json()["journal"]["last_seq"]
        finally:
            server.terminate()
            server.wait(timeout=30)
        verify = subprocess.run(  # every journal of the data folder, one chain per worker
            [str(Path(sys.executable).with_name("guardian")), "audit", "verify",
             "--trust-demo-key"], capture_output=True, text=True,
            env={**os.environ, "GUARDIAN_DATA_DIR": str(work / "var")}, cwd=ROOT)
        events = re.findall(r"chain intact[^:]*: ([\d,]+) events", verify.stdout)
        last_seq = sum(int(n.replace(",", "")) for n in events) or last_seq
    result = {
        "single_decisions_per_s": round(single["requests"] / single["seconds"]),
        "single_p50_ms": round(single["p50_ms"], 2), "single_p99_ms": round(single["p99_ms"], 2),
        "single_errors": single["errors"] + single["non2xx"],
        "batch_decisions_per_s": round(100 * batch["requests"] / batch["seconds"]),
        "batch_requests_per_s": round(batch["requests"] / batch["seconds"]),
        "batch_p50_ms": round(batch["p50_ms"], 2), "batch_p99_ms": round(batch["p99_ms"], 2),
        "batch_errors": batch["errors"] + batch["non2xx"],
        "journal_events": last_seq, "chain_verified": verify.returncode == 0,
        "connections": args.connections, "batch_connections": args.batch_connections,
        "duration_s": args.duration, "in_process_shipping": not args.no_ship,
        "workers": args.workers,
    }
    print(f"single : {result['single_decisions_per_s']:>7} decisions/s  p50 "
          f"{result['single_p50_ms']} ms  p99 {result['single_p99_ms']} ms  "
          f"({args.connections} connections)")
    print(f"batch  : {result['batch_decisions_per_s']:>7} decisions/s  p50 "
          f"{result['batch_p50_ms']} ms  p99 {result['batch_p99_ms']} ms per 100-request batch "
          f"({args.batch_connections} connections)")
    chain = "verified" if result["chain_verified"] else "BROKEN"
    print(f"journal: {last_seq} events, chain {chain}")
    if args.json:
        print(json.dumps(result))


if __name__ == "__main__":
    main()
