"""Several ``guardian serve`` replicas on loopback sharing one PostgreSQL store and one
OpenSearch audit index, for ``tests/e2e/test_replicas.py`` and ``bench/replicas.py``.

Each replica is a real process with its own data folder (journal, signing key, directory file
sealed under the shared secret key), its own writer id and a fixed port, so it can be killed
and started again on the same folder and address. :class:`Load` keeps deciding on every
replica from threads and records each decision a replica acknowledged (200) by the writer and
sequence number of its audit event; :func:`honoured_within` measures how long a change made
through one replica takes to be honoured by the others, each watched from its own thread.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import signal
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from guardian.adapters.files.keys import load_signer
from guardian.audit.checkpoints import trust_entry
from serve_support import Served, code, free_port, password, start
from support import API_KEY, ROOT, TEST_SECRET_KEY, real_settings

MONITORING = "replicas-metrics-token-0123456789abcdef"
"""``GUARDIAN_METRICS_TOKEN`` of every replica: the details of ``/v1/health``."""


@dataclass
class Replica:
    """One ``guardian serve`` process of the set, on a fixed port and data folder."""

    name: str
    folder: Path
    env: dict[str, str]
    port: int = field(default_factory=free_port)
    served: Served | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def trust_file(self) -> Path:
        return self.folder / "trust.pem"

    def start(self, timeout_s: float = 180) -> None:
        self.served = start(self.folder / "var", timeout_s=timeout_s, port=self.port,
                            log=self.folder / "serve.log", **self.env)

    def kill(self) -> None:
        """SIGKILL: no shutdown of any kind, as a crash or the kernel's OOM killer does."""
        assert self.served is not None
        os.kill(self.served.process.pid, signal.SIGKILL)
        self.served.process.wait(timeout=30)

    def stop(self) -> None:
        if self.served is not None:
            self.served.stop()

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=10)

    def decide(self, body: dict[str, Any], key: str = API_KEY) -> str:
        with self.client() as http:
            return decision_of(http, body, key)

    def health(self) -> dict[str, Any]:
        answer = httpx.get(f"{self.url}/v1/health", timeout=10,
                           headers={"Authorization": f"Bearer {MONITORING}"})
        answer.raise_for_status()
        details: dict[str, Any] = answer.json()
        return details

    def shipped_all(self) -> bool:
        """Everything in this replica's journal is acknowledged by the index."""
        shipper = self.health()["audit"]["shipper"]
        return bool(shipper["lag_events"] == 0
                    and shipper["shipped_seq"] == shipper["journal_seq"] > 0)


def replica_env(folder: Path, writer: str, *, database_url: str, opensearch_urls: str | None,
                prefix: str = "", opensearch_replicas: int = 1) -> dict[str, str]:
    """The environment of one replica: production settings (demo mode refuses PostgreSQL and
    OpenSearch), its own audit signing key, whose public half goes to ``folder/trust.pem``;
    the audit index on OpenSearch under ``prefix``, or (no URLs) its own embedded one."""
    real = real_settings(folder)  # writes the signing key and the resealed directory file
    assert real.audit_signing_key is not None
    key = real.audit_signing_key.get_secret_value()
    (folder / "trust.pem").write_text(trust_entry(load_signer(key, TEST_SECRET_KEY).public_key),
                                      encoding="ascii")
    index = {"GUARDIAN_AUDIT_INDEX": "sqlite"} if not opensearch_urls else {
        "GUARDIAN_AUDIT_INDEX": "opensearch", "GUARDIAN_OPENSEARCH_URLS": opensearch_urls,
        "GUARDIAN_OPENSEARCH_INDEX_PREFIX": prefix,
        "GUARDIAN_OPENSEARCH_REPLICAS": str(opensearch_replicas),
        "GUARDIAN_OPENSEARCH_TIMEOUT_S": "5"}
    return {
        "GUARDIAN_DEMO": "false", "GUARDIAN_SECRET_KEY": TEST_SECRET_KEY,
        "GUARDIAN_AUDIT_SIGNING_KEY": key, "GUARDIAN_DIRECTORY_FILE": str(real.directory_file),
        "GUARDIAN_AUDIT_DIR": str(ROOT / "audit"), "GUARDIAN_DATABASE_URL": database_url,
        **index, "GUARDIAN_AUDIT_SHIP_INTERVAL_S": "0.2",
        "GUARDIAN_AUDIT_SHIP_MAX_BACKOFF_S": "1", "GUARDIAN_METRICS_TOKEN": MONITORING,
        "GUARDIAN_WRITER_ID": writer, "GUARDIAN_WORKERS": "1", "GUARDIAN_LOG_LEVEL": "warning",
        "GUARDIAN_DEMO_HISTORY": "0",
        # Only the change feed may deliver a change within the second measured: the periodic
        # re-reads of every view are set far beyond it.
        "GUARDIAN_VIEWS_REFRESH_INTERVAL_S": "3600", "GUARDIAN_CONSENT_REFRESH_INTERVAL_S": "60",
        "GUARDIAN_REVIEWS_REFRESH_INTERVAL_S": "60",
    }


def start_all(replicas: Sequence[Replica], timeout_s: float = 180) -> None:
    """Start every replica at once (each start waits for its own health answer)."""
    failures: list[BaseException] = []

    def one(replica: Replica) -> None:
        try:
            replica.start(timeout_s)
        except BaseException as exc:  # noqa: BLE001 - pytest.fail raises a BaseException
            failures.append(exc)

    threads = [threading.Thread(target=one, args=(r,)) for r in replicas]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if failures:
        raise failures[0]


def sign_in(url: str, uid: str, *, step_offset: int = 0) -> str:
    """A session token of a demo user, signed in through ``url`` with password and TOTP."""
    answer = httpx.post(f"{url}/v1/sessions", timeout=30, json={
        "user": uid, "password": password(uid), "otp": code(uid, step_offset=step_offset)})
    assert answer.status_code == 201, answer.text
    token: str = answer.json()["token"]
    return token


@dataclass(frozen=True)
class Acknowledged:
    """A decision a replica answered 200 for: its audit event's writer and sequence number."""

    writer: str
    seq: int
    decision_id: str

    @property
    def doc_id(self) -> str:
        return f"{self.writer}:{self.seq}"


class Load:
    """Threads deciding on every replica until stopped, in a process of their own (so that
    measuring a change in this one does not queue behind them for the GIL). A replica that
    does not answer (killed, restarting) is retried; only what it acknowledged is kept, one
    line per decision in a file per thread, read back by :meth:`acked`."""

    def __init__(self, replicas: Sequence[Replica], bodies: Sequence[dict[str, Any]],
                 folder: Path, threads_per_replica: int = 2) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        context = multiprocessing.get_context("spawn")
        self._stop = context.Event()
        targets = [(r.name, r.url, r.env["GUARDIAN_WRITER_ID"]) for r in replicas]
        self._process = context.Process(
            target=_decide_until_stopped, daemon=True,
            args=(targets, list(bodies), str(folder), threads_per_replica, self._stop))

    def start(self) -> None:
        self._process.start()

    def stop(self) -> None:
        self._stop.set()
        self._process.join(timeout=60)
        if self._process.is_alive():
            self._process.kill()

    def acked(self) -> list[Acknowledged]:
        out = []
        for path in sorted(self.folder.glob("acked-*.txt")):
            for line in path.read_text(encoding="ascii").splitlines():
                writer, seq, decision_id = line.split(" ")
                out.append(Acknowledged(writer, int(seq), decision_id))
        return out

    def outcomes(self) -> Counter[str]:
        out: Counter[str] = Counter()
        for path in self.folder.glob("outcomes-*.json"):
            out.update(json.loads(path.read_text(encoding="utf-8")))
        return out

    def count(self, writer: str | None = None) -> int:
        return sum(1 for a in self.acked() if writer is None or a.writer == writer)

    def wait_for(self, more: int, writer: str | None = None, give_up_s: float = 120) -> None:
        """Until ``more`` further decisions were acknowledged (by ``writer``, or any)."""
        target = self.count(writer) + more
        deadline = time.monotonic() + give_up_s
        while self.count(writer) < target:
            if time.monotonic() > deadline:
                raise AssertionError(f"{more} more acknowledged decisions did not come in "
                                     f"{give_up_s} s")
            time.sleep(0.1)


def _decide_until_stopped(targets: list[tuple[str, str, str]], bodies: list[dict[str, Any]],
                          folder: str, threads: int, stop: Any) -> None:
    """The load process: ``threads`` threads per replica (``(name, url, writer)``)."""
    workers = [threading.Thread(target=_decide, args=(target, bodies, Path(folder), n, stop))
               for target in targets for n in range(threads)]
    for t in workers:
        t.start()
    for t in workers:
        t.join()


def _decide(target: tuple[str, str, str], bodies: list[dict[str, Any]], folder: Path,
            offset: int, stop: Any) -> None:
    name, url, writer = target
    outcomes: Counter[str] = Counter()
    turn = offset
    with httpx.Client(timeout=10) as http, \
            (folder / f"acked-{name}-{offset}.txt").open("a", encoding="ascii") as acked:
        while not stop.is_set():
            body = bodies[turn % len(bodies)]
            turn += 1
            try:
                answer = http.post(f"{url}/v1/decisions", json=body,
                                   headers={"X-API-Key": API_KEY})
            except httpx.TransportError:
                outcomes[f"{name}: no answer"] += 1
                time.sleep(0.05)
                continue
            outcomes[f"{name}: {answer.status_code}"] += 1
            if answer.status_code == 200:
                decision = answer.json()
                audit = decision["audit"]
                acked.write(f"{audit.get('writer', writer)} {audit['seq']} "
                            f"{decision['decision_id']}\n")
                acked.flush()
    (folder / f"outcomes-{name}-{offset}.json").write_text(json.dumps(outcomes),
                                                           encoding="utf-8")


def honoured_within(replicas: Sequence[Replica], honoured: Callable[[httpx.Client], bool],
                    since: float, give_up_s: float = 10.0) -> dict[str, float]:
    """Seconds from ``since`` (``time.monotonic()``) until each replica honoured a change,
    each watched from its own thread every 20 ms; ``inf`` for one that did not in time."""
    took: dict[str, float] = {}

    def watch(replica: Replica) -> None:
        deadline = since + give_up_s
        with httpx.Client(base_url=replica.url, timeout=10) as http:
            while time.monotonic() < deadline:
                if honoured(http):
                    took[replica.name] = time.monotonic() - since
                    return
                time.sleep(0.02)
        took[replica.name] = float("inf")

    threads = [threading.Thread(target=watch, args=(r,)) for r in replicas]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return took


def decision_of(http: httpx.Client, body: dict[str, Any], key: str = API_KEY) -> str:
    """``permit``/``deny`` from the replica ``http`` is a client of, or the HTTP status of a
    refusal (``"401"``)."""
    answer = http.post("/v1/decisions", json=body, headers={"X-API-Key": key})
    return str(answer.json()["decision"]) if answer.status_code == 200 \
        else str(answer.status_code)


def scan_ids(client: Any, index_pattern: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every event document's ``_id`` and ``guardian`` fields, through a scroll."""
    from opensearchpy.helpers import scan

    for hit in scan(client, index=index_pattern, size=5000, query={"query": {"match_all": {}}},
                    _source_includes=["guardian.decision_id", "guardian.seq",
                                      "guardian.writer"]):
        yield str(hit["_id"]), hit["_source"].get("guardian", {})
