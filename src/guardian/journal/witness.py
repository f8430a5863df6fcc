"""The witness: every checkpoint also leaves the host, so the trail can be compared with a copy.

An insider who cuts the journal (and the index) back to a checkpoint and deletes the shipper's
state file leaves a trail that is intact in itself: only someone who saw the later checkpoints
can tell. The witness is that someone. :class:`WitnessSender` takes each checkpoint as it is
signed and delivers it to a :class:`~guardian.ports.WitnessTransport` (a webhook) from a
background thread once the journal holds it durably, with bounded retries and back-off and a
bounded queue, so that a slow or dead witness never holds a decision up: when the queue is full
the oldest checkpoint waiting is dropped (the newer ones vouch for more) and counted.

Verification reads a witness's copy (:func:`witness_points`): each checkpoint vouches that
event ``seq`` had hash ``hash``. A witnessed point beyond the trail's end is a truncated tail;
one whose hash differs from the trail's at the same seq is a rewritten event.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import orjson

from guardian.audit.checkpoints import CheckpointVerifier
from guardian.errors import ConfigurationError, GuardianError
from guardian.ports import WitnessTransport


@dataclass(frozen=True, slots=True)
class WitnessPoint:
    """What a witnessed checkpoint vouches for: event ``seq`` of ``writer``'s chain had hash
    ``hash``."""

    seq: int
    hash: str
    key_id: str
    writer: str = ""


@dataclass(frozen=True, slots=True)
class WitnessCopy:
    """The points of a witness's copy that verify with a trusted key, and what was set aside."""

    points: tuple[WitnessPoint, ...]
    source: str
    notes: tuple[str, ...] = ()

    @property
    def last(self) -> WitnessPoint | None:
        return max(self.points, key=lambda p: p.seq, default=None)

    @property
    def writers(self) -> set[str]:
        return {p.writer for p in self.points}

    def of(self, writer: str) -> WitnessCopy:
        """The points of one writer's chain (each writer has a checkpoint stream of its own)."""
        return WitnessCopy(tuple(p for p in self.points if p.writer == writer), self.source,
                           self.notes)


def witness_points(
    events: Iterable[Any], verifier: CheckpointVerifier | None, source: str
) -> WitnessCopy:
    """The checkpoints of a witness's copy (checkpoint events as sent, or index documents).

    With a verifier, a copy that does not verify with a trusted key proves nothing and is set
    aside (noted); without one, every copy is taken at its word (and the report says so).
    """
    points: list[WitnessPoint] = []
    unreadable = untrusted = 0
    for event in events:
        try:
            cp = event["guardian"]["checkpoint"]
            point = WitnessPoint(int(cp["seq"]), str(cp["hash"]), str(cp["key_id"]),
                                 str(cp.get("writer", "")))
        except (KeyError, TypeError, ValueError):
            unreadable += 1
            continue
        if verifier is not None and verifier.check(event)[0] is None:
            untrusted += 1
            continue
        points.append(point)
    notes = []
    if unreadable:
        notes.append(f"{unreadable} entr(y/ies) of {source} are not checkpoints (ignored)")
    if untrusted:
        notes.append(f"{untrusted} checkpoint(s) of {source} do not verify with a pinned key "
                     "(ignored)")
    return WitnessCopy(tuple(points), source, tuple(notes))


def read_witness_lines(data: bytes, source: str) -> list[Any]:
    """The entries of a JSON Lines witness file (one checkpoint per line, blank lines ignored;
    a request body holding ``{"checkpoints": [...]}`` per line is taken apart too)."""
    out: list[Any] = []
    for number, line in enumerate(data.splitlines(), 1):
        if not line.strip():
            continue
        try:
            entry = orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            raise ConfigurationError(f"{source}, line {number}: not JSON ({exc})") from exc
        if isinstance(entry, dict) and isinstance(entry.get("checkpoints"), list):
            out += entry["checkpoints"]
        else:
            out.append(entry)
    return out


@dataclass(frozen=True, slots=True)
class WitnessConfig:
    queue: int = 10_000
    attempts: int = 5
    """Deliveries tried per batch before it is given up (counted as failed)."""
    base_backoff_s: float = 0.5
    max_backoff_s: float = 30.0
    batch: int = 100
    """Checkpoints sent in one request at most."""


class WitnessSender:
    """Delivers checkpoints to the witness from one background thread (see the module doc)."""

    def __init__(
        self, transport: WitnessTransport, config: WitnessConfig = WitnessConfig(), *,
        sleep: Callable[[float], None] | None = None, now: Callable[[], float] = time.time,
    ) -> None:
        self._transport = transport
        self._config = config
        self._queue: deque[Mapping[str, Any]] = deque()
        self._cond = threading.Condition()
        self._stop = threading.Event()
        self._sleep = sleep or self._stop.wait
        self._now = now
        self._thread: threading.Thread | None = None
        self._in_flight = 0
        self.durable_seq: Callable[[], int] | None = None
        """The journal's last durable seq: a checkpoint is sent only once it is durable itself
        (one lost in a crash before its fsync must not reach the witness)."""
        self.delivered = self.dropped = self.failed_batches = self.attempts_failed = 0
        self.last_delivered_seq: int | None = None
        self.last_success_at: float | None = None
        self.last_error: str | None = None

    def offer(self, checkpoint: Mapping[str, Any]) -> None:
        """Queue a signed checkpoint; never blocks (a full queue drops its oldest)."""
        with self._cond:
            if len(self._queue) >= self._config.queue:
                self._queue.popleft()
                self.dropped += 1
            self._queue.append(checkpoint)
            self._cond.notify()

    def start(self) -> None:
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name="audit-witness", daemon=True)
            self._thread.start()

    def stop(self, flush_s: float = 2.0) -> None:
        """Deliver what is queued for up to ``flush_s``, then stop the thread."""
        thread = self._thread
        if thread is None:
            return
        deadline = time.monotonic() + flush_s
        with self._cond:
            while (self._queue or self._in_flight) and time.monotonic() < deadline:
                self._cond.wait(0.05)
        self._stop.set()
        with self._cond:
            self._cond.notify_all()
        thread.join(timeout=max(1.0, self._config.max_backoff_s))
        self._thread = None

    def stats(self) -> dict[str, Any]:
        with self._cond:
            pending = len(self._queue) + self._in_flight
        return {"target": self._transport.target, "pending": pending,
                "delivered_total": self.delivered, "dropped_total": self.dropped,
                "failed_batches_total": self.failed_batches,
                "failed_attempts_total": self.attempts_failed,
                "last_delivered_seq": self.last_delivered_seq,
                "last_success_at": self.last_success_at, "last_error": self.last_error,
                "degraded": bool(self.dropped or self.failed_batches)}

    def _ready(self) -> int:
        """How many checkpoints at the head of the queue are durable in the journal."""
        if self.durable_seq is None:
            return min(self._config.batch, len(self._queue))
        durable, ready = self.durable_seq(), 0
        for checkpoint in self._queue:
            seq = _seq(checkpoint)
            if ready == self._config.batch or (seq is not None and seq + 1 > durable):
                break
            ready += 1
        return ready

    def _run(self) -> None:
        while not self._stop.is_set():
            with self._cond:
                while not (ready := self._ready()) and not self._stop.is_set():
                    self._cond.wait(0.02 if self._queue else 0.5)
                if self._stop.is_set():
                    return
                batch = [self._queue.popleft() for _ in range(ready)]
                self._in_flight = len(batch)
            self._deliver(batch)
            with self._cond:
                self._in_flight = 0
                self._cond.notify_all()

    def _deliver(self, batch: list[Mapping[str, Any]]) -> None:
        body = orjson.dumps({"checkpoints": batch}, option=orjson.OPT_SORT_KEYS)
        backoff = self._config.base_backoff_s
        for attempt in range(1, self._config.attempts + 1):
            try:
                self._transport.post(body)
            except GuardianError as exc:
                self.attempts_failed += 1
                self.last_error = exc.message
                if attempt == self._config.attempts or self._stop.is_set():
                    break
                self._sleep(backoff)
                backoff = min(backoff * 2, self._config.max_backoff_s)
                continue
            self.delivered += len(batch)
            self.last_delivered_seq = _seq(batch[-1])
            self.last_success_at = self._now()
            self.last_error = None
            return
        self.failed_batches += 1


def _seq(checkpoint: Mapping[str, Any]) -> int | None:
    try:
        return int(checkpoint["guardian"]["checkpoint"]["seq"])
    except (KeyError, TypeError, ValueError):
        return None
