"""Benchmark of the console's pages on the demo organisation with 90 days of history.

Builds a demo data folder whose trail holds ``--days`` days of history (people signing in each
working day and deciding on the demo customers, through the real API in-process with a manual
clock, so every event is chained, signed and shipped like any other), unless ``--data-dir``
names one that already has history. Then starts ``guardian serve`` on it on a free loopback
port, makes sure a crm-quarterly review campaign is open (the demo's, or ivan opens one), signs
ivan (officer), nina (reviewer: her inbox) and judy (auditor) in through the console's own
form, and times
``--rounds`` loads of each main page over HTTP, one at a time, reporting p50 and p95 in ms.

    python bench/console.py --days 90 --rounds 40 --json
"""

from __future__ import annotations

import argparse
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from guardian.api import create_app  # noqa: E402
from guardian.bootstrap import build  # noqa: E402
from guardian.clock import ManualClock  # noqa: E402
from guardian.config import Settings  # noqa: E402
from guardian.identity.totp import code_at  # noqa: E402
from support import API_KEY, decision_body, demo_secret  # noqa: E402

WORKERS = {"alice": ("crm/contact", "customer-care"), "bob": ("crm/economic-financial", "billing"),
           "carol": ("crm/location", "fraud-prevention"), "dave": ("crm/contact", "marketing"),
           "frank": ("crm/contact", "customer-care"), "grace": ("crm/contact", "customer-care")}
PAGES = {
    "ivan": ["/console/", "/console/grants", "/console/keys", "/console/policy",
             "/console/reports", "/console/integrity", "/console/campaigns",
             "/console/campaigns/{campaign}"],
    "nina": ["/console/reviews", "/console/reviews?show=all"],
    "judy": ["/console/trail", "/console/trail?search=1&user=alice",
             "/console/trail?search=1&customer=C-1001&decision=deny",
             "/console/customers?customer=C-1001&from=2026-11-01"],
}


def make_history(data_dir: Path, days: int, per_day: int) -> int:
    """``days`` of decisions ending now, in ``data_dir``; returns how many."""
    from fastapi.testclient import TestClient

    os.environ["GUARDIAN_DATA_DIR"] = str(data_dir)
    clock = ManualClock(start=float(int((time.time() - days * 86400) // 30 * 30)))
    guardian = build(Settings(), clock=clock, prepare=True)
    count = 0
    with TestClient(create_app(guardian)) as client:
        for day in range(days):
            clock.set(float(int((time.time() - (days - day) * 86400) // 30 * 30)) + 8 * 3600)
            for uid, (resource, purpose) in WORKERS.items():
                clock.advance(30)
                answer = client.post("/v1/sessions", json={
                    "user": uid, "password": f"{uid}-demo-pass",
                    "otp": code_at(demo_secret(uid), clock.now())})
                token = answer.json().get("token") if answer.status_code == 201 else None
                bodies = [decision_body(uid, token, resource=resource, purpose=purpose,
                                        customers=[f"C-10{(day + n) % 10 + 1:02d}"])
                          for n in range(per_day)]
                client.post("/v1/decisions:batch", headers={"X-API-Key": API_KEY},
                            json={"requests": bodies})
                count += len(bodies)
    guardian.audit.shipper.drain(max_wait_s=60)
    guardian.close()
    return count


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def serve(data_dir: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {**os.environ, "GUARDIAN_DATA_DIR": str(data_dir), "GUARDIAN_LOG_LEVEL": "warning"}
    guardian_bin = str(Path(sys.executable).with_name("guardian"))
    proc = subprocess.Popen([guardian_bin, "serve", "--port", str(port)], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/v1/health", timeout=1).status_code == 200:
                return proc, url
        except httpx.TransportError:
            time.sleep(0.2)
    proc.kill()
    raise SystemExit("guardian serve did not start")


def signed_in(url: str, uid: str) -> httpx.Client:
    client = httpx.Client(base_url=url, timeout=30)
    form = client.get("/console/sign-in").text
    found = re.search(r'name="csrf" value="([^"]+)"', form)
    assert found is not None
    step = int(time.time() // 30) + 1  # a step the history never claimed for these people
    answer = client.post("/console/sign-in", data={
        "user": uid, "password": f"{uid}-demo-pass", "csrf": found.group(1),
        "otp": code_at(demo_secret(uid), step * 30 + 1)})
    assert answer.status_code in (200, 303) and "guardian_console_session" in client.cookies, \
        answer.text[:500]
    return client


def open_campaign(url: str) -> str:
    """The open crm-quarterly campaign (the demo's, or one ivan opens now over the API)."""
    with httpx.Client(base_url=url, timeout=60) as http:
        token = http.post("/v1/sessions", json={
            "user": "ivan", "password": "ivan-demo-pass",  # this step; the console's is next
            "otp": code_at(demo_secret("ivan"), time.time())}).json()["token"]
        headers = {"Authorization": f"Bearer {token}"}
        found = http.get("/v1/campaigns", headers=headers).json()["campaigns"]
        for campaign in found:
            if campaign["definition"] != "crm-quarterly":
                continue
            if campaign["state"] == "open":
                return str(campaign["id"])
            if campaign["state"] == "closing":  # the clock closed an old one: it held
                http.post(f"/v1/campaigns/{campaign['id']}:confirm", headers=headers)
        opened = http.post("/v1/campaigns", headers=headers, json={"definition": "crm-quarterly"})
        assert opened.status_code == 201, opened.text
        return str(opened.json()["id"])


def time_pages(url: str, rounds: int) -> dict[str, dict[str, float]]:
    results: dict[str, dict[str, float]] = {}
    campaign = open_campaign(url)
    for uid, paths in PAGES.items():
        client = signed_in(url, uid)
        for path in (p.format(campaign=campaign) for p in paths):
            assert client.get(path).status_code == 200, path  # warm-up, and it must work
            samples = []
            for _ in range(rounds):
                started = time.perf_counter()
                response = client.get(path)
                samples.append((time.perf_counter() - started) * 1000)
                assert response.status_code == 200
            samples.sort()
            results[path] = {"p50_ms": round(statistics.median(samples), 1),
                             "p95_ms": round(samples[int(0.95 * (len(samples) - 1))], 1),
                             "bytes": len(response.content)}
        client.close()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--per-day", type=int, default=20,
                        help="decisions per person per day")
    parser.add_argument("--rounds", type=int, default=40)
    parser.add_argument("--data-dir", type=Path, default=None,
                        help="a demo data folder that already has history")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-console-") as tmp:
        data_dir = args.data_dir or Path(tmp) / "var"
        made = 0 if args.data_dir else make_history(data_dir, args.days, args.per_day)
        proc, url = serve(data_dir)
        try:
            results = time_pages(url, args.rounds)
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    report: dict[str, Any] = {"days": args.days, "decisions": made, "rounds": args.rounds,
                              "pages": results}
    if args.json:
        print(json.dumps(report, indent=2))
        return
    print(f"{made} decisions over {args.days} days; {args.rounds} loads per page")
    for path, r in results.items():
        print(f"  {path:55} p50 {r['p50_ms']:7.1f} ms  p95 {r['p95_ms']:7.1f} ms")


if __name__ == "__main__":
    main()
