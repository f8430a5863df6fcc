"""The supervisor of ``serve --workers``: workers started, a dead one started again in its
place, SIGTERM forwarded to all; worker settings (writer id, journal) and when to prepare."""

from __future__ import annotations

import os
import signal
import socket
import threading
import time
from pathlib import Path

from guardian.cli import workers as w
from support import demo_settings


def test_a_dead_worker_is_started_again_and_sigterm_stops_them_all(tmp_path: Path) -> None:
    started: list[tuple[int, int]] = []

    def sleeper() -> int:
        time.sleep(60)
        return 0

    def start(k: int) -> int:
        pid = w.fork(sleeper)
        started.append((k, pid))
        return pid

    supervisor = w.Supervisor(2, start)
    stopper = threading.Thread(target=_kill_one_then_stop, args=(supervisor, started))
    stopper.start()
    code = supervisor.run()
    stopper.join()

    assert [k for k, _ in started] == [1, 2, 1]  # worker 1 again, in its own place
    assert code == 1  # the workers ended on SIGTERM, not by exiting 0
    for _, pid in started:
        assert not Path(f"/proc/{pid}").exists() or _is_zombie_free(pid)


def _kill_one_then_stop(supervisor: w.Supervisor, started: list[tuple[int, int]]) -> None:
    while len(started) < 2:
        time.sleep(0.05)
    os.kill(started[0][1], signal.SIGKILL)
    while len(started) < 3:
        time.sleep(0.05)
    supervisor.stopping = True


def _is_zombie_free(pid: int) -> bool:
    try:
        return "Z" not in Path(f"/proc/{pid}/stat").read_text().split()[2]
    except FileNotFoundError:
        return True


def test_each_worker_has_its_own_writer_id_and_journal(tmp_path: Path) -> None:
    settings = demo_settings(tmp_path)

    two = w.worker_settings(settings, "g-abc", 2)

    assert two.writer_id == "g-abc-w2"
    assert two.journal_file == settings.journal_file.with_name("journal-w2.jsonl")
    assert two.metrics_address is None


def test_each_worker_serves_its_metrics_on_a_port_of_its_own(tmp_path: Path) -> None:
    settings = demo_settings(tmp_path).model_copy(update={"metrics_address": "[::1]:9464"})

    ports = [w.worker_settings(settings, "g", k).metrics_address for k in (1, 2, 3)]

    assert ports == ["[::1]:9464", "[::1]:9465", "[::1]:9466"]


def test_preparing_runs_for_a_fresh_demo_folder_or_an_unshipped_journal(tmp_path: Path) -> None:
    settings = demo_settings(tmp_path / "var").model_copy(update={"demo_history": True})
    assert w.needs_preparing(settings)
    assert w.needs_preparing(settings.model_copy(update={"demo_history": False}))  # one seeds
    settings.journal_file.parent.mkdir(parents=True)
    settings.journal_file.write_bytes(b'{"guardian":{"seq":3}}\n')
    assert w.needs_preparing(settings)  # nothing of it acknowledged by the index
    settings.journal_file.with_name("journal.jsonl.shipped").write_bytes(
        b'{"seq":3,"hash":"x","offset":0}')
    assert not w.needs_preparing(settings)


def test_journals_of_workers_no_longer_run_are_shipped_first(tmp_path: Path) -> None:
    settings = demo_settings(tmp_path / "var")
    audit = settings.journal_file.parent
    audit.mkdir(parents=True)
    for k, shipped in ((1, None), (2, None), (3, 4), (4, None)):
        (audit / f"journal-w{k}.jsonl").write_bytes(b'{"guardian":{"seq":4}}\n')
        if shipped is not None:
            (audit / f"journal-w{k}.jsonl.shipped").write_bytes(
                b'{"seq":%d,"hash":"x","offset":0}' % shipped)

    left = w.left_over(settings, "g-abc", 2)

    assert [s.writer_id for s in left] == ["g-abc-w4"]  # w3 is shipped, w1 and w2 will run


def test_each_worker_gets_its_own_socket_on_one_port_and_connections_spread_over_them() -> None:
    sockets = w.bind("127.0.0.1", 0, 2)
    try:
        ports = {s.getsockname()[1] for s in sockets}
        assert len(sockets) == 2 and len(ports) == 1
        assert w.socket_of(sockets, 1) is sockets[0] and w.socket_of(sockets, 2) is sockets[1]
        port = ports.pop()
        clients = [socket.create_connection(("127.0.0.1", port)) for _ in range(64)]
        accepted = [0, 0]
        for k, sock in enumerate(sockets):
            sock.setblocking(False)
            while True:
                try:
                    conn, _ = sock.accept()
                except BlockingIOError:
                    break
                conn.close()
                accepted[k] += 1
        for client in clients:
            client.close()
    finally:
        for sock in sockets:
            sock.close()
    assert sum(accepted) == 64
    assert min(accepted) >= 12  # hashed over both (one shared socket: a burst went to one)


def test_one_worker_binds_one_socket() -> None:
    sockets = w.bind("127.0.0.1", 0)
    try:
        assert len(sockets) == 1 and w.socket_of(sockets, 3) is sockets[0]
    finally:
        sockets[0].close()
