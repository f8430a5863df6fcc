"""``guardian serve --workers 2`` as real processes on loopback: one worker SIGKILLed under
load loses no acknowledged decision. Every decision answered 200 is in the index exactly once
once the supervisor has started the worker again (its journal recovered and shipped), and
every writer's chain, journal and index, verifies."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from serve_support import GUARDIAN, Served, start
from support import API_KEY, ROOT, decision_body

pytestmark = pytest.mark.e2e


def workers_of(served: Served) -> list[int]:
    children = Path(f"/proc/{served.process.pid}/task/{served.process.pid}/children")
    return [int(p) for p in children.read_text().split()]


def load(url: str, stop: threading.Event, acknowledged: list[str]) -> None:
    """Decisions on fresh connections (so both workers take some) until ``stop``."""
    while not stop.is_set():
        try:
            response = httpx.post(f"{url}/v1/decisions", json=decision_body("alice", None),
                                  headers={"X-API-Key": API_KEY, "Connection": "close"},
                                  timeout=10)
        except httpx.TransportError:
            continue  # the killed worker's connection: not acknowledged
        if response.status_code == 200:
            acknowledged.append(response.json()["decision_id"])


def _until(done: Callable[[], bool], limit_s: float) -> None:
    deadline = time.monotonic() + limit_s
    while not done() and time.monotonic() < deadline:
        time.sleep(0.1)


def indexed(index: Path) -> list[str]:
    with sqlite3.connect(index) as conn:
        rows = conn.execute("SELECT json_extract(CAST(doc AS TEXT), '$.guardian.decision_id') "
                            "FROM events WHERE action = 'access.decision'").fetchall()
    return [str(r[0]) for r in rows]


def test_a_worker_killed_under_load_loses_no_acknowledged_decision(tmp_path: Path) -> None:
    data = tmp_path / "var"
    served = start(data, timeout_s=180, GUARDIAN_WORKERS="2", GUARDIAN_LOG_LEVEL="warning",
                   GUARDIAN_DEMO_HISTORY="false", GUARDIAN_AUDIT_SHIP_INTERVAL_S="0.1")
    acknowledged: list[str] = []
    stop = threading.Event()
    try:
        deadline = time.monotonic() + 60
        while len(workers_of(served)) < 2 and time.monotonic() < deadline:
            time.sleep(0.2)
        before = workers_of(served)
        assert len(before) == 2
        threads = [threading.Thread(target=load, args=(served.url, stop, acknowledged))
                   for _ in range(4)]
        for t in threads:
            t.start()
        _until(lambda: len(acknowledged) >= 40, 30)  # a loaded machine answers slowly
        os.kill(before[0], signal.SIGKILL)
        killed_at = len(acknowledged)
        _until(lambda: len(acknowledged) >= killed_at + 40, 30)
        stop.set()
        for t in threads:
            t.join(timeout=30)
        while (len(workers_of(served)) < 2 or set(workers_of(served)) == set(before)) \
                and time.monotonic() < deadline + 60:
            time.sleep(0.2)
        after = workers_of(served)
        assert len(after) == 2 and before[0] not in after  # started again in its place
        index = data / "audit" / "index.db"
        wait_until = time.monotonic() + 60
        while set(indexed(index)) < set(acknowledged) and time.monotonic() < wait_until:
            time.sleep(0.5)
        found = indexed(index)
    finally:
        stop.set()
        served.stop()

    assert len(acknowledged) >= 40, len(acknowledged)
    journals = sorted(p.name for p in (data / "audit").glob("journal-w*.jsonl"))
    assert journals == ["journal-w1.jsonl", "journal-w2.jsonl"]
    missing = set(acknowledged) - set(found)
    assert not missing, f"{len(missing)} acknowledged decisions are not in the index"
    assert len(found) == len(set(found)), "a decision is indexed twice"
    env = {**os.environ, "GUARDIAN_DATA_DIR": str(data)}
    for source in ("index", "journal"):
        verify = subprocess.run([GUARDIAN, "audit", "verify", "--source", source,
                                 "--trust-demo-key"], cwd=ROOT, env=env, capture_output=True,
                                text=True, timeout=120, check=False)
        assert verify.returncode == 0, verify.stdout + verify.stderr
        assert "0 broken" in verify.stdout and "-w1: chain intact" in verify.stdout
        assert "-w2: chain intact" in verify.stdout
