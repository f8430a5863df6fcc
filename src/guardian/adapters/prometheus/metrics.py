"""Guardian's Prometheus metrics: one registry per wired Guardian, counted where things happen.

Each :class:`GuardianMetrics` owns its :class:`~prometheus_client.CollectorRegistry` (never the
process-wide default), so tests and several applications in one process never collide.
Decisions are counted in plain integers on the event loop (:mod:`.prometheus_decisions`: a
dictionary look-up and an increment per decision, no lock, no label resolution); sign-ins,
step-ups and journal group commits, far rarer, with prometheus_client's own metrics and label
children bound once here. State owned elsewhere (the shipper, the witness, the directory, the
report schedule) is read when scraped, by :mod:`.prometheus_state`.

``GUARDIAN_METRICS_ADDRESS`` serves the same registry on a listen address of its own
(:class:`MetricsServer`, prometheus_client's small HTTP server thread).
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest, start_http_server

from guardian.adapters.prometheus.decisions import DecisionCounts

if TYPE_CHECKING:
    from prometheus_client.registry import Collector

DECISION_SECONDS = (0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                    0.05, 0.1, 0.25, 0.5, 1.0, 2.5)
"""From 50 µs (a decision without fsync) to seconds (a disk that stalls)."""
COMMIT_SECONDS = (0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                  0.25, 0.5, 1.0, 2.5)
BATCH_SIZES = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 5000)
GROUP_SIZES = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 5000)
SIGN_IN_METHODS = ("totp", "recovery_code", "webauthn")
SIGN_IN_OUTCOMES = ("success", "failure", "locked")
CONTENT_TYPE = CONTENT_TYPE_LATEST


class GuardianMetrics:
    """The registry and every metric counted on the request path."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=False)
        r = self.registry
        self.decisions = DecisionCounts(DECISION_SECONDS, BATCH_SIZES)
        r.register(self.decisions)
        self.decided = self.decisions.decided
        """``decided(decisions, seconds, batch=...)``: count answered decisions and the time
        the call took; on the event loop only (see :mod:`.prometheus_decisions`)."""
        self.commit_seconds = Histogram(
            "guardian_audit_journal_commit_seconds",
            "Time to write and fsync one group commit of the journal.",
            buckets=COMMIT_SECONDS, registry=r)
        self.commit_events = Histogram(
            "guardian_audit_journal_commit_events", "Events in one group commit of the journal.",
            buckets=GROUP_SIZES, registry=r)
        sign_ins = Counter(
            "guardian_sign_ins", "Sign-in attempts by second factor and outcome (locked: "
            "refused by lockout before the credentials were checked).",
            ("method", "outcome"), registry=r)
        self._sign_ins = {(m, o): sign_ins.labels(m, o)
                          for m in SIGN_IN_METHODS for o in SIGN_IN_OUTCOMES}
        step_ups = Counter("guardian_step_ups", "Step-up attempts by outcome.", ("outcome",),
                           registry=r)
        self._step_ups = {o: step_ups.labels(o) for o in SIGN_IN_OUTCOMES}

    # -- the decision path ----------------------------------------------------------------

    def journal_committed(self, events: int, seconds: float) -> None:
        """A group commit became durable (called by the journal's flusher, lock held)."""
        self.commit_seconds.observe(seconds)
        self.commit_events.observe(events)

    # -- sign-in --------------------------------------------------------------------------

    def signed_in(self, method: str, outcome: str) -> None:
        self._sign_ins[method, outcome].inc()

    def stepped_up(self, outcome: str) -> None:
        self._step_ups[outcome].inc()

    # -- exposition -----------------------------------------------------------------------

    def watch(self, collector: Collector) -> None:
        """Add a collector of state read when scraped."""
        self.registry.register(collector)

    content_type = CONTENT_TYPE

    def render(self) -> bytes:
        """The Prometheus text exposition of everything in this registry."""
        return generate_latest(self.registry)


class MetricsServer:
    """Serves a registry on its own listen address (``GUARDIAN_METRICS_ADDRESS``), beside the
    API: prometheus_client's HTTP server in a daemon thread."""

    def __init__(self, registry: CollectorRegistry, host: str, port: int) -> None:
        self.registry = registry
        self.host = host
        self.port = port
        self._server: Any = None
        self._thread: threading.Thread | None = None

    @property
    def bound_port(self) -> int | None:
        """The port listened on (the chosen one when configured with port 0)."""
        return int(self._server.server_address[1]) if self._server is not None else None

    def start(self) -> None:
        if self._server is not None:
            return
        self._server, self._thread = start_http_server(self.port, self.host, self.registry)

    def stop(self) -> None:
        server, thread, self._server, self._thread = self._server, self._thread, None, None
        if server is None:
            return
        server.shutdown()
        server.server_close()
        if thread is not None:
            thread.join(5.0)


def parse_address(address: str) -> tuple[str, int]:
    """``host:port`` or ``[v6]:port`` as (host, port); :class:`ValueError` otherwise."""
    host, sep, port = address.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise ValueError(f"{address!r} is not host:port")
    return host.strip("[]"), int(port)

