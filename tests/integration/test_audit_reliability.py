"""Nothing is lost or doubled on the way to OpenSearch: through an outage of the node, a
SIGKILL of Guardian mid-load, and a node of a 3-node cluster going away while shipping.

These tests stop and start OpenSearch nodes, so they use their own: the spare single node
(scripts/services.sh `spare`) and the 3-node cluster (`cluster`), started here if they are not
running (and then stopped again at the end), never the shared node of other tests.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from opensearchpy import OpenSearch

from audit_support import decision, journal, signer, verifier_for
from guardian.adapters.files.keys import load_signer
from guardian.bootstrap import build
from guardian.journal.shipper import Shipper, ShipperConfig
from guardian.journal.verification import verify_index
from guardian.policy.model import DecisionRequest
from guardian.policy.vocabulary import Action
from opensearch_support import drop, opensearch_index, unique_prefix
from services_support import REQUIRED
from services_support import reachable as _reachable
from support import API_KEY, ROOT, TEST_SECRET_KEY, decision_body, real_settings

pytestmark = pytest.mark.integration
SERVICES = str(ROOT / "scripts" / "services.sh")
GUARDIAN = str(Path(sys.executable).with_name("guardian"))
SPARE_URL = "http://127.0.0.1:9260"
CLUSTER_URLS = "http://127.0.0.1:9251,http://127.0.0.1:9252,http://127.0.0.1:9253"


def services(*args: str) -> None:
    result = subprocess.run([SERVICES, *args], capture_output=True, text=True, timeout=300)
    if result.returncode != 0:
        raise RuntimeError(f"services.sh {' '.join(args)} failed: {result.stderr[-2000:]}")


def _own_service(target: str, url: str) -> Iterator[str]:
    """Start ``target`` unless it runs; stop it at the end only if it was started here."""
    started = False
    if not _reachable(url):
        try:
            services("start", target)
            started = True
        except RuntimeError as exc:
            if REQUIRED:
                pytest.fail(str(exc))
            pytest.skip(str(exc))
    try:
        yield url
    finally:
        if started:
            services("stop", target)


@pytest.fixture(scope="module")
def spare_url() -> Iterator[str]:
    yield from _own_service("spare", SPARE_URL)


@pytest.fixture(scope="module")
def cluster_urls() -> Iterator[str]:
    yield from _own_service("cluster", CLUSTER_URLS.split(",")[0])


def _wait(condition: Any, timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.2)


def _requests(count: int, rng: random.Random) -> list[DecisionRequest]:
    users = ("alice", "bob", "carol", "dave", "mallory", "heidi")
    return [DecisionRequest(rng.choice(users), Action.READ, "crm", "contact", "customer-care",
                            (f"C-{1001 + rng.randrange(10)}",), application="crm-web")
            for _ in range(count)]


def _exactly_once(
    index: Any, key_verifier: Any, last_seq: int, acked: dict[int, Any]
) -> None:
    """Every event 1..last_seq is in the index once, the chain verifies, and each acknowledged
    decision is the document under its sequence number."""
    names = index.design.names
    index.client.indices.refresh(index=f"{names.events_pattern},{names.checkpoints}")
    assert index.count() == last_seq
    report = verify_index(index, key_verifier)
    assert report.ok, report.detail
    assert (report.first_seq, report.last_seq) == (1, last_seq)
    seqs = sorted(acked)
    # One writer here: its events are stored under "<writer>:<seq>" (a legacy chain: "<seq>").
    first = index.client.search(index=names.first_events_index, body={"size": 1})
    writer = first["hits"]["hits"][0]["_source"]["guardian"].get("writer")
    prefix = f"{writer}:" if writer else ""
    found: dict[int, str | None] = {}
    for start in range(0, len(seqs), 5000):
        answer = index.client.mget(index=names.first_events_index, body={
            "ids": [f"{prefix}{s}" for s in seqs[start:start + 5000]]})
        found.update({int(d["_id"].rpartition(":")[2]): d["_source"]["guardian"]
                      .get("decision_id") for d in answer["docs"] if d.get("found")})
    assert found == acked


def test_100k_decisions_through_an_outage_all_arrive_exactly_once(
    spare_url: str, tmp_path: Path
) -> None:
    prefix = unique_prefix("outage")
    settings = real_settings(
        tmp_path, audit_index="opensearch", opensearch_urls=spare_url,
        opensearch_index_prefix=prefix, opensearch_replicas=0, opensearch_timeout_s=5,
        audit_ship_batch_size=5000, audit_ship_interval_s=0.2, audit_ship_max_backoff_s=1.0)
    guardian = build(settings, prepare=True)
    rng = random.Random(2024)
    acked: dict[int, str] = {}
    try:
        guardian.audit.index.setup()
        guardian.start_background()

        def decide(batches: int) -> None:
            for _ in range(batches):
                for d in guardian.pipeline.decide_many(_requests(1000, rng)):
                    assert d.audit is not None  # decisions go on, whatever the index does
                    acked[d.audit.seq] = d.decision_id

        decide(30)
        services("stop", "spare")
        decide(40)
        stats = guardian.audit.shipper.stats()
        assert stats["lag_events"] >= 40_000 and stats["state"] == "backing_off"
        services("start", "spare")
        decide(30)
        last = guardian.journal.last_seq  # type: ignore[attr-defined]
        _wait(lambda: guardian.audit.shipper.stats()["shipped_seq"] >= last, 180,
              "the shipper to catch up")
        guardian.stop_background()

        assert len(acked) == 100_000
        assert guardian.audit.shipper.stats()["failures_total"] >= 1
        _exactly_once(guardian.audit.index, verifier_for(guardian.audit.signer),
                      guardian.journal.last_seq, acked)  # type: ignore[attr-defined]
    finally:
        guardian.close()
        if _reachable(spare_url):
            drop(OpenSearch(spare_url), prefix)


_MONITORING = "reliability-metrics-token-0123456789"
_MONITORING_HEADERS = {"Authorization": f"Bearer {_MONITORING}"}


def _serve(env: dict[str, str], port: int) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen([GUARDIAN, "serve", "--port", str(port)], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"

    def up() -> bool:
        try:
            return httpx.get(f"{url}/v1/health", timeout=1).status_code == 200
        except httpx.TransportError:
            return False

    _wait(up, 60, "guardian serve")
    return proc


def _load(url: str, acked: dict[int, str], stop: threading.Event) -> None:
    """Decide batches of 100 over HTTP until stopped or the server dies; keep what was acked."""
    body = {"requests": [decision_body("mallory", None, customers=[f"C-{1001 + i % 10}"])
                         for i in range(100)]}
    with httpx.Client(timeout=10) as http:
        while not stop.is_set():
            try:
                response = http.post(f"{url}/v1/decisions:batch", json=body,
                                     headers={"X-API-Key": API_KEY})
            except httpx.TransportError:
                return
            for d in response.json()["decisions"]:
                acked[d["audit"]["seq"]] = d["decision_id"]


def test_a_guardian_killed_mid_load_ships_every_acknowledged_decision_once_after_restart(
    opensearch_url: str, tmp_path: Path
) -> None:
    with opensearch_index(opensearch_url, "sigkill") as index:
        index.setup()
        prefix = index.design.names.prefix
        port = 20000 + random.randrange(20000)
        real = real_settings(tmp_path)  # demo mode refuses OpenSearch
        assert real.audit_signing_key is not None
        env = {**os.environ, "GUARDIAN_DATA_DIR": str(tmp_path / "var"),
               "GUARDIAN_DEMO": "false", "GUARDIAN_SECRET_KEY": TEST_SECRET_KEY,
               "GUARDIAN_AUDIT_SIGNING_KEY": real.audit_signing_key.get_secret_value(),
               "GUARDIAN_DIRECTORY_FILE": str(real.directory_file),
               "GUARDIAN_AUDIT_INDEX": "opensearch", "GUARDIAN_OPENSEARCH_URLS": opensearch_url,
               "GUARDIAN_OPENSEARCH_INDEX_PREFIX": prefix, "GUARDIAN_OPENSEARCH_REPLICAS": "0",
               "GUARDIAN_AUDIT_SHIP_INTERVAL_S": "0.1", "GUARDIAN_AUDIT_DIR": str(ROOT / "audit"),
               "GUARDIAN_METRICS_TOKEN": _MONITORING}
        acked: dict[int, str] = {}
        proc = _serve(env, port)
        stop = threading.Event()
        loader = threading.Thread(target=_load, args=(f"http://127.0.0.1:{port}", acked, stop))
        loader.start()
        _wait(lambda: len(acked) >= 3000, 60, "3 000 acknowledged decisions")
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
        stop.set()
        loader.join(timeout=20)

        proc = _serve(env, port)
        try:
            def caught_up() -> bool:
                shipper = httpx.get(f"http://127.0.0.1:{port}/v1/health",
                                    headers=_MONITORING_HEADERS).json()["audit"]["shipper"]
                return bool(shipper["lag_events"] == 0 and shipper["shipped_seq"] > 0)

            _wait(caught_up, 60, "the restarted shipper to catch up")
            last = httpx.get(f"http://127.0.0.1:{port}/v1/health",
                             headers=_MONITORING_HEADERS).json()["audit"]["shipper"][
                "journal_seq"]
        finally:
            proc.terminate()
            proc.wait(timeout=20)
        key = load_signer(real.audit_signing_key.get_secret_value(), TEST_SECRET_KEY)
        assert max(acked) <= last
        _exactly_once(index, verifier_for(key), last, acked)


def test_a_cluster_node_stopped_during_shipping_loses_nothing(
    cluster_urls: str, tmp_path: Path
) -> None:
    with opensearch_index(CLUSTER_URLS, "cluster", timeout_s=5, replicas=1) as index:
        index.setup()
        index.client.cluster.health(params={"wait_for_status": "green"})
        key = signer()
        j = journal(tmp_path / "journal.jsonl", key, every=1000)
        shipper = Shipper(j, index, tmp_path / "journal.jsonl.shipped",
                          ShipperConfig(batch_size=2000, interval_s=0.1, max_backoff_s=1.0,
                                        fsync=False), time.time)
        shipper.start()
        stopped = False
        try:
            for batch in range(20):
                j.append_many([decision(batch * 1000 + n) for n in range(1000)])
                if batch == 8:
                    services("stop-node", "1")
                    stopped = True
            _wait(lambda: shipper.state.seq >= j.last_seq, 180, "shipping to the cluster")
            assert shipper.stats()["conflicts"] == []
        finally:
            shipper.stop()
            if stopped:
                services("start-node", "1")
        acked = {r.seq: r.event["guardian"].get("decision_id")
                 for r in j.read_records(0, 100_000)}
        j.close()
        _exactly_once(index, verifier_for(key), len(acked), acked)
