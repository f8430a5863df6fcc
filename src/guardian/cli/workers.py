"""``guardian serve --workers N``: N listening sockets on one port, N worker processes, one
supervisor.

The supervisor binds one socket per worker on the same port (``SO_REUSEPORT``, so that the
kernel spreads connections evenly; where that option is missing, one socket all accept on) and
forks N workers, each accepting on its own. A dead worker's socket stays open in the
supervisor: connections that arrive for it wait in its backlog until it is started again
(after :data:`RESTART_DELAY_S`), none is refused. Each worker builds
its own Guardian with its own journal (``journal-w<k>.jsonl`` beside the journal), its own
hash chain (writer ``<writer id>-w<k>``) and its own shipper thread, so a decision waits only
for its own worker's group commit. A worker that dies is started again in its place: its
journal is recovered on opening and shipped, so nothing it acknowledged is lost. SIGTERM (or
SIGINT) is forwarded to every worker, which stops cleanly (signing its journal's tail).

Before the workers start, a preparing process builds Guardian once on the journal itself
(``journal.jsonl``, the chain of a one-process server), when there is something to do there:
the demo's history on a fresh demo data folder, or events of an earlier one-process run not
yet in the index; it ships them, signs the tail and exits. Changes made in one worker reach
the others through the change feed; scheduled jobs run in the worker holding the leader lock.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from guardian.audit.writers import worker_writer
from guardian.config import Settings
from guardian.journal.files import journals_of, lock_exclusively, worker_journal
from guardian.journal.ship_state import load_state, state_path

RESTART_DELAY_S = (0.2, 1.0, 5.0)
"""Waits before starting a worker again, growing while it keeps dying young."""
YOUNG_S = 10.0
STOP_TIMEOUT_S = 30.0


def bind(host: str, port: int, count: int = 1) -> list[socket.socket]:
    """The listening sockets, one per worker, bound once here to the same port with
    ``SO_REUSEPORT``: the kernel spreads new connections over them evenly. (On one shared
    socket, whichever worker woke first accepted a whole burst of connections: measured,
    95 % of 32 connections on one of two workers.) Port 0 picks a free port for all."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    reuse_port = getattr(socket, "SO_REUSEPORT", None) if count > 1 else None
    sockets: list[socket.socket] = []
    try:
        for _ in range(count if reuse_port is not None else 1):
            sock = socket.socket(family, socket.SOCK_STREAM)
            sockets.append(sock)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if reuse_port is not None:
                sock.setsockopt(socket.SOL_SOCKET, reuse_port, 1)
            sock.bind((host, port))
            port = int(sock.getsockname()[1])
            sock.listen(2048)
            sock.set_inheritable(True)
    except OSError:
        for sock in sockets:
            sock.close()
        raise
    return sockets


def socket_of(sockets: list[socket.socket], worker: int) -> socket.socket:
    """Worker ``worker``'s (1-based) listening socket; all share one where ``SO_REUSEPORT``
    is missing."""
    return sockets[(worker - 1) % len(sockets)]


def worker_settings(settings: Settings, base: str, worker: int) -> Settings:
    """Worker ``worker``'s settings: its writer id, its journal and, when metrics have an
    address of their own, its metrics port (the configured one plus ``worker - 1``: each
    worker counts its own decisions, and two could not listen on one port)."""
    update: dict[str, object] = {
        "writer_id": worker_writer(base, worker),
        "journal_path": worker_journal(settings.journal_file, worker)}
    if settings.metrics_address is not None:
        host, _, port = settings.metrics_address.rpartition(":")
        update["metrics_address"] = f"{host}:{int(port) + worker - 1}"
    return settings.model_copy(update=update)


def needs_preparing(settings: Settings) -> bool:
    """A fresh data folder (the store is created and seeded once, the demo's history journalled
    once, not by N workers racing), or a one-process journal whose last events the index has
    not acknowledged."""
    data = settings.data_dir
    if not data.exists() or not any(data.iterdir()):
        return True
    journal = settings.journal_file
    if not journal.is_file() or journal.stat().st_size == 0:
        return False
    return load_state(state_path(journal)).seq < _last_seq(journal)


def left_over(settings: Settings, base: str, count: int) -> list[Settings]:
    """The settings of workers beyond ``count`` whose journals (from a run with more workers)
    hold events the index has not acknowledged: shipped before the workers start."""
    found = []
    for path in journals_of(settings.journal_file):
        match = re.fullmatch(re.escape(settings.journal_file.stem) + r"-w(\d+).*", path.name)
        if match is None or int(match.group(1)) <= count or path.stat().st_size == 0:
            continue
        if load_state(state_path(path)).seq < _last_seq(path):
            found.append(worker_settings(settings, base, int(match.group(1))))
    return found


def _last_seq(journal: Path) -> int:
    """The sequence number of a journal's last event (read from its tail)."""
    import orjson

    with journal.open("rb") as handle:
        size = handle.seek(0, os.SEEK_END)
        handle.seek(max(0, size - 256 * 1024))
        for line in reversed(handle.read().splitlines()):
            try:
                seq = orjson.loads(line).get("guardian", {}).get("seq")
            except (orjson.JSONDecodeError, AttributeError):
                continue
            if isinstance(seq, int):
                return seq
    return sys.maxsize  # unreadable tail: let the preparing process open and judge it


def hold_journal(journal: Path) -> int:
    """Lock the one-process journal for as long as the workers serve (the descriptor is kept
    open), so that a command journalling on this host finds it held, as with one process,
    and goes through the server instead of writing events nobody would ship."""
    journal.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(journal, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o640)
    try:
        lock_exclusively(fd, journal)
    except OSError:
        os.close(fd)
        raise
    return fd


@dataclass
class Supervisor:
    """Keeps ``count`` workers running until told to stop."""

    count: int
    start: Callable[[int], int]
    """Forks worker ``k`` (1-based); returns its pid."""
    pids: dict[int, int] = field(default_factory=dict)
    """pid → worker number."""
    started: dict[int, float] = field(default_factory=dict)
    deaths: dict[int, int] = field(default_factory=dict)
    stopping: bool = False

    def run(self) -> int:
        for k in range(1, self.count + 1):
            self._launch(k)
        previous = {s: signal.signal(s, self._stop) for s in (signal.SIGTERM, signal.SIGINT)}
        try:
            while not self.stopping:
                self._reap_and_restart()
                time.sleep(0.1)
            return self._stop_all()
        finally:
            for s, handler in previous.items():
                signal.signal(s, handler)

    def _stop(self, _signum: int, _frame: object) -> None:
        self.stopping = True

    def _launch(self, k: int) -> None:
        pid = self.start(k)
        self.pids[pid] = k
        self.started[k] = time.monotonic()

    def _reap_and_restart(self) -> None:
        while self.pids:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            k = self.pids.pop(pid, None)
            if k is None or self.stopping:
                continue
            young = time.monotonic() - self.started.get(k, 0.0) < YOUNG_S
            self.deaths[k] = self.deaths.get(k, 0) + 1 if young else 0
            print(f"guardian: worker {k} (pid {pid}) ended ({_why(status)}); starting it again",
                  file=sys.stderr, flush=True)
            time.sleep(RESTART_DELAY_S[min(self.deaths[k], len(RESTART_DELAY_S) - 1)])
            self._launch(k)

    def _stop_all(self) -> int:
        for pid in self.pids:
            _signal(pid, signal.SIGTERM)
        deadline = time.monotonic() + STOP_TIMEOUT_S
        failed = 0
        while self.pids and time.monotonic() < deadline:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                break
            if pid == 0:
                time.sleep(0.05)
                continue
            self.pids.pop(pid, None)
            failed += int(status != 0)
        for pid in self.pids:
            _signal(pid, signal.SIGKILL)  # did not stop in time
        return 1 if failed or self.pids else 0


def _signal(pid: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signum)


def _why(status: int) -> str:
    if os.WIFSIGNALED(status):
        return f"signal {signal.Signals(os.WTERMSIG(status)).name}"
    return f"exit {os.waitstatus_to_exitcode(status)}"


def fork(body: Callable[[], int]) -> int:
    """Run ``body`` in a child process; return the child's pid (the child never returns)."""
    pid = os.fork()
    if pid != 0:
        return pid
    code = 1
    try:
        for s in (signal.SIGTERM, signal.SIGINT):
            signal.signal(s, signal.SIG_DFL)
        code = body()
    except BaseException as exc:  # noqa: BLE001 - a worker's end is reported, never raised on
        print(f"guardian: worker failed: {exc!r}", file=sys.stderr, flush=True)
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def wait_for(pid: int) -> int:
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status)
